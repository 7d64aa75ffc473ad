import test from 'ava';
import { unrepresentable } from './representable.ts';

test('numeric NaN and ±Infinity have no DECIMAL value; finite numbers do', (t) => {
  const dec = { kind: 'decimal', precision: 10, scale: 2 } as const;
  for (const v of ['NaN', 'Infinity', '-Infinity']) t.regex(unrepresentable(dec, v) ?? '', /DECIMAL/);
  t.is(unrepresentable(dec, '1.50'), null);
  t.is(unrepresentable({ kind: 'utf8' }, 'NaN'), null, 'exact-text numerics keep NaN as text');
  t.is(unrepresentable({ kind: 'float64' }, 'NaN'), null, 'floats hold NaN');
});

test('±infinity has no DATE or TIMESTAMP value; BC dates do', (t) => {
  t.regex(unrepresentable({ kind: 'date' }, 'infinity') ?? '', /DATE/);
  t.regex(unrepresentable({ kind: 'timestamp', tz: 'UTC' }, '-infinity') ?? '', /TIMESTAMP/);
  t.is(unrepresentable({ kind: 'date' }, '0044-03-15 BC'), null);
});

test('lists: one-dimensional lists whose elements fit; anything else is named', (t) => {
  const ints = { kind: 'list', element: { kind: 'int32' } } as const;
  const days = { kind: 'list', element: { kind: 'date' } } as const;
  t.is(unrepresentable(ints, '[]'), null);
  t.is(unrepresentable(ints, '["1",null]'), null);
  t.regex(unrepresentable(ints, '[["1"],["2"]]') ?? '', /multi-dimensional/);
  t.regex(unrepresentable(ints, '[0:1]={7,8}') ?? '', /one-dimensional/);
  t.regex(unrepresentable(days, '["2024-01-01","infinity"]') ?? '', /^list element 1: infinity/);
});

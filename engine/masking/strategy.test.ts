import test from 'ava';
import {
  DEFAULT_MASKING,
  STRICTNESS,
  isAtLeastAsStrict,
  isStrategy,
  resolveStrategy,
  stricterOf,
  type MaskingMatrix,
  type Strategy,
} from './strategy.ts';

test('STRICTNESS order', (t) => {
  t.deepEqual([...STRICTNESS], ['clear', 'partial', 'generalize', 'encrypt', 'hash', 'null', 'deny']);
});

test('isAtLeastAsStrict follows the order, reflexive', (t) => {
  for (const [i, a] of STRICTNESS.entries()) {
    for (const [j, b] of STRICTNESS.entries()) {
      t.is(isAtLeastAsStrict(a, b), i >= j, `${a} vs ${b}`);
    }
  }
  t.true(isAtLeastAsStrict('hash', 'partial'));
  t.false(isAtLeastAsStrict('partial', 'hash'));
  t.true(isAtLeastAsStrict('deny', 'null'));
  t.false(isAtLeastAsStrict('clear', 'partial'));
});

test('stricterOf / isStrategy', (t) => {
  t.is(stricterOf('partial', 'hash'), 'hash');
  t.is(stricterOf('deny', 'clear'), 'deny');
  t.true(isStrategy('encrypt'));
  t.false(isStrategy('mask'));
  t.false(isStrategy('toString'));
});

test('DEFAULT_MASKING thresholds for clearance 0..4', (t) => {
  const expected: Record<string, Strategy[]> = {
    core: ['deny', 'deny', 'deny', 'deny', 'deny'],
    important: ['hash', 'hash', 'hash', 'partial', 'clear'],
    general: ['clear', 'clear', 'clear', 'clear', 'clear'],
  };
  for (const level of ['core', 'important', 'general'] as const) {
    const got = [0, 1, 2, 3, 4].map((c) => resolveStrategy(DEFAULT_MASKING, level, c));
    t.deepEqual(got, expected[level], level);
  }
});

test('highest threshold ≤ clearance applies; default below the lowest key', (t) => {
  const m: MaskingMatrix = {
    core: { '2': 'hash', '4': 'partial', default: 'deny' },
    important: { '0': 'null', '3': 'clear' },
    general: {},
  };
  t.deepEqual(
    [0, 1, 2, 3, 4].map((c) => resolveStrategy(m, 'core', c)),
    ['deny', 'deny', 'hash', 'hash', 'partial'],
  );
  t.deepEqual(
    [0, 1, 2, 3, 4].map((c) => resolveStrategy(m, 'important', c)),
    ['null', 'null', 'null', 'clear', 'clear'],
  );
});

test('missing default or missing row → deny', (t) => {
  const m: MaskingMatrix = { core: { '3': 'hash' }, important: {}, general: { '4': 'clear' } };
  t.is(resolveStrategy(m, 'core', 2), 'deny');
  t.is(resolveStrategy(m, 'core', 3), 'hash');
  t.is(resolveStrategy(m, 'important', 4), 'deny');
  t.is(resolveStrategy(m, 'general', 0), 'deny');
  t.is(resolveStrategy({ core: { default: 'hash' } } as unknown as MaskingMatrix, 'general', 4), 'deny');
});

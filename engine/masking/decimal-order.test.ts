import test from 'ava';
import fc from 'fast-check';
import { compareOrderedDecimal, parseOrderedDecimal, type OrderedDecimal } from './decimal-order.ts';

const parse = (s: string): OrderedDecimal => {
  const d = parseOrderedDecimal(s);
  if (d === undefined) throw new Error(`unparseable: ${s}`);
  return d;
};
const cmp = (a: string, b: string) => compareOrderedDecimal(parse(a), parse(b));

test('known orderings', (t) => {
  const ascending = [
    '-Infinity',
    '-1e+308',
    '-9223372036854775808',
    '-9007199254740993',
    '-100.5',
    '-1',
    '-0.5',
    '-1.5e-07',
    '0',
    '1e-324',
    '0.001',
    '0.5',
    '1',
    '1.0000000000000000000001',
    '9007199254740992',
    '9007199254740993',
    '9223372036854775807',
    '1e+20',
    'Infinity',
  ];
  for (let i = 0; i < ascending.length; i++) {
    for (let j = 0; j < ascending.length; j++) {
      t.is(cmp(ascending[i]!, ascending[j]!) as number, Math.sign(i - j), `${ascending[i]} vs ${ascending[j]}`);
    }
  }
});

test('equal spellings', (t) => {
  for (const [a, b] of [
    ['0', '-0'],
    ['0', '0.000'],
    ['0', '0e10'],
    ['500', '500.00'],
    ['500', '5e2'],
    ['500', '+500'],
    ['500', '0500'],
    ['0.05', '5e-2'],
    ['.5', '0.5'],
    ['5.', '5'],
    ['-12.50', '-1.25E1'],
  ]) {
    t.is(cmp(a!, b!), 0, `${a} = ${b}`);
  }
});

test('not numbers', (t) => {
  for (const s of [
    'NaN',
    '',
    '.',
    '-',
    '+',
    'e1',
    '1e',
    '1e+',
    '1.2.3',
    ' 1',
    '1 ',
    '0x1f',
    '1_000',
    'inf',
    '1e1234567890',
  ]) {
    t.is(parseOrderedDecimal(s), undefined, JSON.stringify(s));
  }
});

test('agrees with BigInt on integers', (t) => {
  fc.assert(
    fc.property(fc.bigInt(), fc.bigInt(), (a, b) => {
      const expected = a < b ? -1 : a > b ? 1 : 0;
      return cmp(String(a), String(b)) === expected;
    }),
  );
  t.pass();
});

test('agrees with scaled BigInt on decimals of any scale', (t) => {
  const dec = fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 25 }));
  const text = ([m, s]: [bigint, number]) => {
    const neg = m < 0n;
    const digits = (neg ? -m : m).toString().padStart(s + 1, '0');
    return (neg ? '-' : '') + (s === 0 ? digits : `${digits.slice(0, -s)}.${digits.slice(-s)}`);
  };
  fc.assert(
    fc.property(dec, dec, (a, b) => {
      const scale = Math.max(a[1], b[1]);
      const x = a[0] * 10n ** BigInt(scale - a[1]);
      const y = b[0] * 10n ** BigInt(scale - b[1]);
      return cmp(text(a), text(b)) === (x < y ? -1 : x > y ? 1 : 0);
    }),
  );
  t.pass();
});

test('agrees with doubles on their shortest text', (t) => {
  fc.assert(
    fc.property(fc.double({ noNaN: true }), fc.double({ noNaN: true }), (a, b) => {
      return cmp(String(a), String(b)) === (a < b ? -1 : a > b ? 1 : 0);
    }),
  );
  t.pass();
});

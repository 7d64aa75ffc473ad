import test from 'ava';
import fc from 'fast-check';
import { compareCodePoints } from './collation.ts';
import { compileLike } from './like.ts';
import { compareNumeric, readFloat, readScaled, readScaledDecimal } from './numeric.ts';
import { daysFromCivil, parseDate, parseTime, parseTimestamp, readDate, readTime, readTimestamp } from './temporal.ts';

test('readScaled: exact, scale-aligned, canonical', (t) => {
  t.is(readScaled('12.50', 2), 1250);
  t.is(readScaled('12.5', 2), 1250);
  t.is(readScaled('12', 3), 12000);
  t.is(readScaled('1.000', 2), 100);
  t.is(readScaled('1.001', 2), null);
  t.true(Object.is(readScaled('-0.00', 2), 0), 'no negative zero');
  t.is(readScaled('-3', 0), -3);
  t.is(readScaled('000000000000000000005', 0), 5, 'leading zeros do not change the representation');
  t.is(readScaled('9007199254740993', 0), 9007199254740993n);
  t.is(readScaled('-9223372036854775808', 0), -9223372036854775808n);
  t.is(readScaled('9007199254740991', 0), 9007199254740991, 'safe integers stay numbers');
  t.is(readScaled('123456789012345.67', 2), 12345678901234567n);
  for (const bad of ['', '-', '1.', '.5', '1e3', '+1', '1,5', ' 1', '1 ', '--1', '1.2.3', 'NaN', '١٢']) {
    t.is(readScaled(bad, 2), null, JSON.stringify(bad));
  }
  t.true(Number.isNaN(readScaledDecimal('NaN', 2)));
  t.is(readScaledDecimal('-Infinity', 2), -Infinity);
});

test('readFloat accepts Postgres float text only', (t) => {
  t.is(readFloat('1.5'), 1.5);
  t.is(readFloat('-1e+100'), -1e100);
  t.is(readFloat('1.2345678e-05'), 1.2345678e-5);
  t.true(Number.isNaN(readFloat('NaN')));
  t.is(readFloat('-Infinity'), -Infinity);
  for (const bad of ['', ' ', '0x10', '1_000', 'inf', 'nan', '1e', 'Infinityx']) t.is(readFloat(bad), null, bad);
});

test('compareNumeric: exact across number/BigInt, NaN on top', (t) => {
  t.is(compareNumeric(9007199254740993n, 9007199254740992), 1);
  t.is(compareNumeric(5, 5n), 0);
  t.is(compareNumeric(NaN, NaN), 0);
  t.is(compareNumeric(NaN, Infinity), 1);
  t.is(compareNumeric(-Infinity, NaN), -1);
  t.is(compareNumeric(Infinity, 10n ** 400n), 1);
});

test('daysFromCivil agrees with the JS Date proleptic calendar', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: -5000, max: 20000 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 28 }),
      (y, m, d) => {
        const date = new Date(0);
        date.setUTCFullYear(y, m - 1, d);
        return daysFromCivil(y, m, d) * 86_400_000 === date.getTime();
      },
    ),
    { numRuns: 2000 },
  );
  t.is(daysFromCivil(1970, 1, 1), 0);
  t.is(daysFromCivil(2000, 3, 1), 11017);
});

test('dates: calendar checks and BC years', (t) => {
  t.like(parseDate('2024-02-29'), { ok: true });
  t.like(parseDate('1900-02-29'), { ok: false, reason: '1900-02 has 28 days' });
  t.like(parseDate('2000-02-29'), { ok: true });
  t.like(parseDate('0001-02-29 BC'), { ok: true }, '1 BC = year 0, a leap year');
  t.like(parseDate('0005-02-29 BC'), { ok: true });
  t.like(parseDate('0002-02-29 BC'), { ok: false, reason: '0002-02 BC has 28 days' });
  t.like(parseDate('2024-04-31'), { ok: false, reason: '2024-04 has 30 days' });
  t.like(parseDate('2024-00-10'), { ok: false, reason: 'there is no month 00' });
  t.like(parseDate('2024-01-00'), { ok: false });
  t.like(parseDate('2024-1-01'), { ok: false, reason: "expected 'YYYY-MM-DD'" });
  t.like(parseDate('2024-01-01 BCE'), { ok: false });
  t.like(parseDate('2024-01-01 00:00:00'), { ok: false });
  const bc = readDate('0044-03-15 BC') as number;
  t.true(bc < (readDate('0044-03-16 BC') as number));
  t.true(bc > (readDate('0045-03-15 BC') as number));
  t.true((readDate('0001-12-31 BC') as number) < (readDate('0001-01-01') as number));
  t.is(BigInt(readDate('0001-01-01') as bigint) - BigInt(readDate('0001-12-31 BC') as bigint), 86_400_000_000n);
  t.is(readDate('infinity'), Infinity);
  t.is(readDate('-infinity'), -Infinity);
  t.is(readDate('1970-01-02'), 86_400_000_000);
  t.is(
    readDate('5874897-12-31'),
    2_145_042_905n * 86_400_000_000n,
    "Postgres's last date (day count per Python's calendar)",
  );
});

test('timestamps: µs, offsets normalised, BigInt far from 1970', (t) => {
  t.is(readTimestamp('1970-01-01 00:00:00.000001', false), 1);
  t.is(readTimestamp('1970-01-01 08:00:00+08', true), 0);
  t.is(readTimestamp('1970-01-01 05:30:00+05:30', true), 0);
  t.is(readTimestamp('1969-12-31 19:00:00-05', true), 0);
  t.is(readTimestamp('1970-01-01 00:00:00+00:00:01', true), -1_000_000);
  t.is(readTimestamp('1970-01-01 00:00:00', true), 0, 'timestamptz without an offset is UTC');
  t.is(readTimestamp('1970-01-01 00:00:00+00', false), null, 'a local timestamp has no offset');
  t.is(readTimestamp('2400-01-01 00:00:00.000001+00', true), 13_569_465_600_000_001n);
  t.is(
    readTimestamp('0044-03-15 12:00:00+00 BC', true),
    -63_517_780_800_000_000n,
    'agrees with new Date(-000043-03-15T12:00:00Z)',
  );
  t.is(readTimestamp('2024-01-01', false), readDate('2024-01-01'));
  t.like(parseTimestamp('2024-01-01 00:00:00+16'), {
    ok: false,
    reason: 'time zone offset is out of range (at most ±15:59)',
  });
  t.like(parseTimestamp('2024-01-01 00:60:00'), { ok: false, reason: 'minute 60 is out of range' });
  t.like(parseTimestamp('2024-01-01 00:00:60'), { ok: false, reason: 'second 60 is out of range' });
  t.like(parseTimestamp('2024-01-01 24:00:00'), { ok: false, reason: 'hour 24 is out of range' });
  t.like(parseTimestamp('2024-01-01T00:00:00'), { ok: false });
  t.like(parseTimestamp('2024-01-01 00:00:00.'), { ok: false });
  t.like(parseTimestamp('2024-01-01 00:00:00Z'), { ok: true, hasOffset: true });
  t.like(parseTimestamp('2024-01-01 00:00'), { ok: false });
});

test('times', (t) => {
  t.is(readTime('00:00:00'), 0);
  t.is(readTime('12:30:00.5'), 45_000_500_000);
  t.is(readTime('24:00:00'), 86_400_000_000);
  t.is(readTime('24:00:00.000001'), null);
  t.is(readTime('12:30'), null);
  t.like(parseTime('25:00:00'), { ok: false, reason: 'hour 25 is out of range' });
});

const codePointCompare = (a: string, b: string): number => {
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++)
    if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number) ? -1 : 1;
  return Math.sign(x.length - y.length);
};

test('compareCodePoints is code point order', (t) => {
  const text = fc.string({
    unit: fc.constantFrom('a', 'b', 'Z', 'é', '\ud7ff', '\ue000', '\uffff', '𠀀', '😀'),
    maxLength: 6,
  });
  fc.assert(
    fc.property(text, text, (a, b) => compareCodePoints(a, b) === codePointCompare(a, b)),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary' }),
      (a, b) => compareCodePoints(a, b) === codePointCompare(a, b),
    ),
  );
  t.is(compareCodePoints('\uffff', '𠀀'), -1);
});

/** Naive reference: recursion over code point arrays. */
function likeRef(value: string, pattern: string): boolean {
  const v = Array.from(value);
  const p = Array.from(pattern);
  const go = (i: number, j: number): boolean => {
    if (j === p.length) return i === v.length;
    if (p[j] === '%') return go(i, j + 1) || (i < v.length && go(i + 1, j));
    return i < v.length && (p[j] === '_' || p[j] === v[i]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

test('like matches the naive reference, code point by code point', (t) => {
  const unit = fc.constantFrom('a', 'b', '张', '𠀀', '.', '*');
  const pat = fc.string({ unit: fc.oneof(unit, fc.constantFrom('%', '_')), maxLength: 7 });
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 8 }), pat, (v, p) => compileLike(p)(v) === likeRef(v, p)),
    { numRuns: 10_000 },
  );
  t.true(compileLike('%%%%%%%%%%%%%%%%%%%%b')('a'.repeat(4000)) === false, 'no blow-up on many %');
});

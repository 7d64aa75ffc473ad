import test from 'ava';
import fc from 'fast-check';
import { daysFromCivil, isInstant, parseInstant } from './decision-time.ts';

const RUNS = { numRuns: 2000 };
const MIN = new Date('0001-01-02T00:00:00.000Z');
const MAX = new Date('9998-12-30T23:59:59.999Z');
const pad = (n: number) => String(n).padStart(2, '0');

test('whole-millisecond UTC instants agree with Date', (t) => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date('0000-01-01T00:00:00.000Z'),
        max: new Date('9999-12-31T23:59:59.999Z'),
        noInvalidDate: true,
      }),
      (d) => {
        t.is(parseInstant(d.toISOString()), BigInt(d.getTime()) * 1000n);
      },
    ),
    RUNS,
  );
});

test('an offset denotes the same instant as its UTC form', (t) => {
  fc.assert(
    fc.property(
      fc.date({ min: MIN, max: MAX, noInvalidDate: true }),
      fc.integer({ min: -1439, max: 1439 }),
      (d, offset) => {
        const local = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, -1);
        const abs = Math.abs(offset);
        const s = `${local}${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
        t.is(parseInstant(s), BigInt(d.getTime()) * 1000n, s);
      },
    ),
    RUNS,
  );
});

test('microsecond digits count, digits beyond the sixth are truncated', (t) => {
  fc.assert(
    fc.property(
      fc.date({ min: MIN, max: MAX, noInvalidDate: true }),
      fc.integer({ min: 0, max: 999 }),
      fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 8 }),
      (d, micros, extra) => {
        const s = `${d.toISOString().slice(0, -1)}${String(micros).padStart(3, '0')}${extra}Z`;
        t.is(parseInstant(s), BigInt(d.getTime()) * 1000n + BigInt(micros), s);
      },
    ),
    RUNS,
  );
});

test('fewer fraction digits are scaled, not read as micros', (t) => {
  t.is(parseInstant('1970-01-01T00:00:00.5Z'), 500_000n);
  t.is(parseInstant('1970-01-01T00:00:00.05Z'), 50_000n);
  t.is(parseInstant('1970-01-01T00:00:00.000001Z'), 1n);
  t.is(parseInstant('1969-12-31T23:59:59.999999Z'), -1n);
});

test('the range ends and calendar edges', (t) => {
  t.is(parseInstant('0000-01-01T00:00:00Z'), BigInt(new Date('0000-01-01T00:00:00Z').getTime()) * 1000n);
  t.is(parseInstant('9999-12-31T23:59:59.999999Z'), 253_402_300_799_999_999n);
  t.is(
    parseInstant('0000-01-01T00:00:00+23:59'),
    BigInt(new Date('0000-01-01T00:00:00Z').getTime() - 1439 * 60_000) * 1000n,
  );
  t.is(parseInstant('2024-02-29T00:00:00Z'), BigInt(Date.UTC(2024, 1, 29)) * 1000n);
  t.is(parseInstant('2000-02-29T00:00:00Z'), BigInt(Date.UTC(2000, 1, 29)) * 1000n);
  t.is(daysFromCivil(1970, 1, 1), 0);
  t.is(daysFromCivil(2000, 3, 1), 11_017);
});

test('separators, letter case and -00:00', (t) => {
  const utc = parseInstant('2026-07-01T00:00:00Z');
  for (const s of [
    '2026-07-01t00:00:00z',
    '2026-07-01 00:00:00Z',
    '2026-07-01T00:00:00-00:00',
    '2026-07-01T08:00:00+08:00',
  ]) {
    t.is(parseInstant(s), utc, s);
  }
});

test('a leap second is accepted at 23:59 UTC only and counts as the next midnight', (t) => {
  t.is(parseInstant('2016-12-31T23:59:60Z'), parseInstant('2017-01-01T00:00:00Z'));
  t.is(parseInstant('2016-12-31T23:59:60.5Z'), parseInstant('2017-01-01T00:00:00.5Z'));
  t.is(parseInstant('2017-01-01T07:59:60+08:00'), parseInstant('2017-01-01T00:00:00Z'));
  t.is(parseInstant('2016-12-31T12:59:60Z'), undefined);
  t.is(parseInstant('2017-01-01T07:59:60Z'), undefined);
});

test('malformed instants are refused', (t) => {
  for (const s of [
    '',
    '2026-01-01',
    '2026-01-01T00:00:00',
    '2026-01-01T00:00Z',
    '2026-01-01T00:00:00+0800',
    '2026-01-01T00:00:00+08',
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00:00+08:60',
    '2026-01-01T00:00:00.Z',
    '2026-01-01T00:00:00,5Z',
    '2026-01-01T00:00:00ZZ',
    '2026-01-01T00:00:00Z ',
    ' 2026-01-01T00:00:00Z',
    '2026-01-01_00:00:00Z',
    '2026-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:60:00Z',
    '2026-01-01T00:00:61Z',
    '2026-1-01T00:00:00Z',
    '+02026-01-01T00:00:00Z',
    '-2026-01-01T00:00:00Z',
    '２０２６-01-01T00:00:00Z',
    '2026-01-01T00:00:0aZ',
  ]) {
    t.is(parseInstant(s), undefined, s);
    t.false(isInstant(s), s);
  }
  t.is(parseInstant(42 as unknown as string), undefined);
});

import test from 'ava';
import { Utf8 } from 'apache-arrow';
import { buildUtf8 } from './build-varwidth.ts';
import { formatDecimal, formatTimestamp, wordsToBigInt } from './format-value.ts';
import { Int64Writer } from './int64-words.ts';
import { parseDecimalInto } from './parse-decimal.ts';
import { parseFloat64Into, parseInt16Into, parseInt32Into, parseInt64Into } from './parse-number.ts';
import { daysFromCivil, parseDateInto, parseTimeInto, parseTimestampInto } from './parse-temporal.ts';
import { QualitySink } from './quality.ts';
import { prng as rng } from '../../../engine/testing/prng.ts';

function decimal(s: string, p: number, sc: number): bigint | string {
  const out = new Uint32Array(4);
  const err = parseDecimalInto(s, p, sc, out, 0);
  return err ?? wordsToBigInt(out);
}

test('decimal: exact 128-bit scaled integers, compared with BigInt', (t) => {
  t.is(decimal('1234567890123456.7891', 20, 4), 12345678901234567891n);
  t.is(decimal('-1234567890123456.7891', 20, 4), -12345678901234567891n);
  t.is(decimal('99999999999999999999999999999999999999', 38, 0), 10n ** 38n - 1n);
  t.is(decimal('-99999999999999999999999999999999999999', 38, 0), -(10n ** 38n - 1n));
  t.is(decimal('-0.0000', 10, 4), 0n);
  t.is(decimal('1.5', 10, 4), 15000n);
  t.is(decimal('.5', 10, 1), 5n);
  t.is(decimal('7.', 10, 1), 70n);
  t.is(decimal('00012.3400', 6, 2), 1234n);
  t.is(decimal('1.23000', 5, 2), 123n);
  t.regex(decimal('1.234', 5, 2) as string, /fractional digits/);
  t.regex(decimal('10000', 5, 2) as string, /out of range/);
  t.regex(decimal('NaN', 10, 2) as string, /NaN/);
  t.regex(decimal('Infinity', 10, 2) as string, /Infinity/);
  t.regex(decimal('-Infinity', 10, 2) as string, /-Infinity/);
  for (const bad of ['', '-', '.', '1e5', '1,5', ' 1', '1 ', '--1', '0x10'])
    t.is(decimal(bad, 10, 2), 'not a decimal number');
  const rand = rng(1);
  for (let k = 0; k < 5000; k++) {
    const p = 1 + Math.floor(rand() * 38);
    const sc = Math.floor(rand() * (p + 1));
    const intDigits = Math.floor(rand() * (p - sc + 1));
    let digits = '';
    for (let d = 0; d < intDigits + sc; d++) digits += String(Math.floor(rand() * 10));
    if (digits === '') digits = '0';
    const neg = rand() < 0.5;
    const intPart = digits.slice(0, digits.length - sc) || '0';
    const text = `${neg ? '-' : ''}${intPart}${sc > 0 ? '.' + digits.slice(digits.length - sc) : ''}`;
    const expected = (neg ? -1n : 1n) * BigInt(digits);
    t.is(decimal(text, p, sc), expected, text);
    t.is(
      formatDecimal(expected, sc).replace(/^(-?)0+(?=\d)/, '$1'),
      text.replace(/^(-?)0+(?=\d)/, '$1').replace(/^-(0\.?0*)$/, '$1'),
    );
  }
});

function i64(s: string): bigint | string {
  const w = new Int64Writer(1);
  return parseInt64Into(s, w, 0) ?? (w.big[0] as bigint);
}

test('int64: exact above 2^53, range-checked, never through a double', (t) => {
  t.is(i64('9007199254740993'), 9007199254740993n);
  t.is(i64('-9223372036854775808'), -9223372036854775808n);
  t.is(i64('9223372036854775807'), 9223372036854775807n);
  t.is(i64('-1'), -1n);
  t.is(i64('-4294967296'), -4294967296n);
  t.is(i64('999999999999999'), 999999999999999n);
  t.is(i64('-999999999999999'), -999999999999999n);
  t.is(i64('+42'), 42n);
  t.regex(i64('9223372036854775808') as string, /out of range/);
  for (const bad of ['', '-', '1.0', '1e3', ' 1', 'abc', '0x1']) t.is(i64(bad), 'not an integer');
  const rand = rng(2);
  for (let k = 0; k < 5000; k++) {
    const v = BigInt.asIntN(
      64,
      BigInt(Math.floor(rand() * 2 ** 32)) * BigInt(Math.floor(rand() * 2 ** 32)) -
        BigInt(Math.floor(rand() * 2 ** 20)),
    );
    t.is(i64(v.toString()), v);
  }
});

test('int16 / int32 ranges', (t) => {
  const a = new Int16Array(1);
  t.is(parseInt16Into('-32768', a, 0), undefined);
  t.is(a[0], -32768);
  t.regex(parseInt16Into('32768', a, 0) ?? '', /out of range/);
  const b = new Int32Array(1);
  t.is(parseInt32Into('-2147483648', b, 0), undefined);
  t.is(b[0], -2147483648);
  t.regex(parseInt32Into('2147483648', b, 0) ?? '', /out of range/);
  t.regex(parseInt32Into('99999999999999999999', b, 0) ?? '', /out of range/);
  t.is(parseInt32Into('12a', b, 0), 'not an integer');
});

test('float64: Postgres forms accepted, garbage rejected', (t) => {
  const f = new Float64Array(1);
  const ok: [string, number][] = [
    ['1.5', 1.5],
    ['-0', -0],
    ['1e+100', 1e100],
    ['1.7976931348623157e+308', Number.MAX_VALUE],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['.5', 0.5],
    ['4.9406564584124654e-324', 5e-324],
  ];
  for (const [s, v] of ok) {
    t.is(parseFloat64Into(s, f, 0), undefined, s);
    t.is(f[0], v, s);
  }
  // The fast path (≤ 15 digits, no exponent) gives the same double as Number().
  const rand = rng(5);
  for (let k = 0; k < 20000; k++) {
    const digits = String(Math.floor(rand() * 10 ** (1 + Math.floor(rand() * 15))));
    const cut = Math.floor(rand() * (digits.length + 1));
    const text = `${rand() < 0.3 ? '-' : ''}${digits.slice(0, cut)}.${digits.slice(cut)}`.replace(/^(-?)\.$/, '$10');
    t.is(parseFloat64Into(text, f, 0), undefined, text);
    t.is(f[0], Number(text), text);
  }
  t.is(parseFloat64Into('NaN', f, 0), undefined);
  t.true(Number.isNaN(f[0]));
  for (const bad of ['', ' ', ' 1', '1 ', '0x10', '0b1', 'nan', 'inf', '1,5', 'abc', '-']) {
    t.truthy(parseFloat64Into(bad, f, 0), bad);
  }
});

function ts(s: string, zone = true): bigint | string {
  const w = new Int64Writer(1);
  return parseTimestampInto(s, zone, w, 0) ?? (w.big[0] as bigint);
}

test('timestamps: µs exact, offsets converted to UTC, compared with Date.UTC', (t) => {
  t.is(ts('2024-01-02 03:04:05.123456+08'), BigInt(Date.UTC(2024, 0, 1, 19, 4, 5, 123)) * 1000n + 456n);
  t.is(ts('2000-01-01 00:00:00.000001+05:30'), BigInt(Date.UTC(1999, 11, 31, 18, 30)) * 1000n + 1n);
  t.is(ts('2000-01-01 00:00:00-08'), BigInt(Date.UTC(2000, 0, 1, 8)) * 1000n);
  t.is(ts('2000-01-01 00:00:00+05:30:15'), BigInt(Date.UTC(1999, 11, 31, 18, 29, 45)) * 1000n);
  t.is(ts('2000-01-01T00:00:00Z'), BigInt(Date.UTC(2000, 0, 1)) * 1000n);
  t.is(ts('2000-01-01 00:00:00'), BigInt(Date.UTC(2000, 0, 1)) * 1000n);
  t.is(ts('1969-12-31 23:59:59.999999+00'), -1n);
  t.is(ts('0001-01-01 00:00:00+00'), -62135596800000000n);
  t.is(ts('9999-12-31 23:59:59.999999+00'), 253402300799999999n);
  t.is(ts('262142-12-31 23:59:59.999999+00'), 8210266876799999999n);
  t.is(ts('-infinity'), '-infinity has no Parquet value');
  // Postgres' maximum timestamp does not fit int64 µs since 1970.
  t.regex(ts('294276-12-31 23:59:59.999999+00') as string, /out of range/);
  t.is(ts('2024-01-01 12:00:00.5', false), BigInt(Date.UTC(2024, 0, 1, 12)) * 1000n + 500000n);
  t.regex(ts('2024-01-01 12:00:00+00', false) as string, /offset/);
  t.regex(ts('infinity') as string, /infinity/);
  t.regex(ts('-infinity') as string, /infinity/);
  // BC (Postgres' era suffix): 1 BC is astronomical year 0, so 2024 BC is year -2023
  t.is(ts('2024-01-01 00:00:00+00 BC'), BigInt(daysFromCivil(-2023, 1, 1)) * 86_400_000_000n);
  t.is(ts('0044-03-15 12:30:00 BC', false), BigInt(daysFromCivil(-43, 3, 15)) * 86_400_000_000n + 45_000_000_000n);
  t.regex(ts('2024-01-01 00:00:00.0000001+00') as string, /sub-microsecond/);
  t.is(ts('2024-01-01 00:00:00.1234560+00'), BigInt(Date.UTC(2024, 0, 1)) * 1000n + 123456n);
  for (const bad of [
    '2024-01-01',
    '2024-01-01 24:00:00',
    '2024-02-30 00:00:00',
    '2024-1-01 00:00:00',
    '2024-01-01 00:00',
    'x',
  ]) {
    t.is(typeof ts(bad), 'string', bad);
  }
  const rand = rng(3);
  for (let k = 0; k < 5000; k++) {
    const ms = Math.floor((rand() - 0.5) * 2 * 8e12);
    const us = Math.floor(rand() * 1000);
    const offMin = Math.floor(rand() * 29) * 30 - 14 * 60;
    const local = new Date(ms + offMin * 60000).toISOString(); // wall-clock at that offset
    const sign = offMin < 0 ? '-' : '+';
    const a = Math.abs(offMin);
    const text = `${local.slice(0, 10)} ${local.slice(11, 23)}${String(us).padStart(3, '0')}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
    t.is(ts(text), BigInt(ms) * 1000n + BigInt(us), text);
    t.is(
      formatTimestamp(BigInt(ms) * 1000n + BigInt(us), 2, true),
      `${new Date(ms).toISOString().slice(0, 23)}${String(us).padStart(3, '0')}Z`,
    );
  }
});

test('dates and times', (t) => {
  const d = new Int32Array(1);
  t.is(parseDateInto('1970-01-01', d, 0), undefined);
  t.is(d[0], 0);
  t.is(parseDateInto('2024-02-29', d, 0), undefined);
  t.is(d[0], Date.UTC(2024, 1, 29) / 86400000);
  t.is(parseDateInto('1900-01-01', d, 0), undefined);
  t.is(d[0], Date.UTC(1900, 0, 1) / 86400000);
  t.is(parseDateInto('10000-01-01', d, 0), undefined);
  t.is(parseDateInto('5874897-12-31', d, 0), undefined);
  t.is(d[0], 2145042905);
  t.regex(parseDateInto('9999999-12-31', d, 0) ?? '', /out of range/);
  t.regex(parseDateInto('1900-02-29', d, 0) ?? '', /day out of range/);
  t.regex(parseDateInto('infinity', d, 0) ?? '', /infinity/);
  t.is(parseDateInto('0001-01-01 BC', d, 0), undefined);
  t.is(d[0], -719528, '1 BC-01-01 is astronomical 0000-01-01');
  t.is(parseDateInto('0005-02-29 BC', d, 0), undefined, '5 BC is astronomical year -4, a leap year');
  t.truthy(parseDateInto('0000-01-01 BC', d, 0), 'there is no year 0 BC');
  t.truthy(parseDateInto('2024-01-01x', d, 0));
  const w = new Int64Writer(1);
  t.is(parseTimeInto('12:34:56.789', w, 0), undefined);
  t.is(w.big[0], 45296789000n);
  t.is(parseTimeInto('24:00:00', w, 0), undefined);
  t.is(w.big[0], 86400000000n);
  t.truthy(parseTimeInto('24:00:01', w, 0));
  t.truthy(parseTimeInto('12:60:00', w, 0));
  t.truthy(parseTimeInto('12:00:00+00', w, 0));
});

test('utf8 builder writes exactly what TextEncoder writes', (t) => {
  const rand = rng(4);
  const pool = ['a', 'Z', '0', 'é', 'ß', '中', '文', '😀', '\ud800', '\udfff', '\u0000', '\u07ff', '\u0800', '\uffff'];
  const values: (string | null)[] = [];
  for (let k = 0; k < 3000; k++) {
    if (rand() < 0.1) {
      values.push(null);
      continue;
    }
    const len = Math.floor(rand() * (rand() < 0.05 ? 400 : 20));
    let s = '';
    for (let c = 0; c < len; c++) s += pool[Math.floor(rand() * pool.length)];
    values.push(s);
  }
  const data = buildUtf8({
    name: 's',
    type: new Utf8(),
    values,
    start: 0,
    length: values.length,
    quality: new QualitySink(),
  });
  const enc = new TextEncoder();
  const offsets = data.valueOffsets;
  for (let k = 0; k < values.length; k++) {
    const s = values[k];
    const bytes = data.values.subarray(offsets[k], offsets[k + 1]);
    if (s == null) {
      t.false(data.getValid(k));
      t.is(bytes.length, 0);
    } else {
      t.true(Buffer.from(bytes).equals(enc.encode(s)), JSON.stringify(s));
    }
  }
});

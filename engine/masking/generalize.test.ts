import test from 'ava';
import type { ColumnType } from '../../schemas/index.ts';
import { generateResidentId } from './gb11643.ts';
import {
  bucketBoundaries,
  bucketOf,
  compileGeneralizer,
  generalizeDate,
  generalizeResidentId,
  validateGeneralizeOptions,
  type DateShape,
} from './generalize.ts';

const DATES: [DateShape, string, year: string, month: string][] = [
  ['date', '2024-03-15', '2024', '2024-03'],
  ['date', '1949-10-01', '1949', '1949-10'],
  ['date', '0044-03-15 BC', '0044 BC', '0044-03 BC'],
  ['date', '0001-01-01 BC', '0001 BC', '0001-01 BC'],
  ['date', '0001-02-29 BC', '0001 BC', '0001-02 BC'], // 1 BC = astronomical year 0, a leap year
  ['date', '12345-01-01', '12345', '12345-01'],
  ['date', '2000-02-29', '2000', '2000-02'],
  ['timestamp', '2024-12-31 23:59:59.999999', '2024', '2024-12'],
  ['timestamp', '2024-01-01 00:00:00', '2024', '2024-01'],
  ['timestamp', '0044-03-15 12:00:00.5 BC', '0044 BC', '0044-03 BC'],
  ['timestamptz', '2024-01-01 00:00:00+00', '2024', '2024-01'],
  ['timestamptz', '1999-12-31 23:59:59.123+00', '1999', '1999-12'],
  ['timestamptz', '0044-03-15 12:00:00+00 BC', '0044 BC', '0044-03 BC'],
];

test('dates, timestamps and timestamptz to year and month (incl. BC)', (t) => {
  for (const [shape, v, year, month] of DATES) {
    t.deepEqual(generalizeDate(v, shape), { ok: true, value: year }, v);
    t.deepEqual(generalizeDate(v, shape, 'year'), { ok: true, value: year }, v);
    t.deepEqual(generalizeDate(v, shape, 'month'), { ok: true, value: month }, v);
  }
});

const BAD_DATES: [DateShape, string][] = [
  ['date', 'infinity'],
  ['date', '-infinity'],
  ['timestamptz', 'infinity'],
  ['date', '2023-02-29'], // not a leap year
  ['date', '0002-02-29 BC'], // 2 BC is not a leap year
  ['date', '0000-01-01'], // there is no year 0
  ['date', '2024-13-01'],
  ['date', '2024-00-10'],
  ['date', '2024-1-10'],
  ['date', '24-01-10'],
  ['date', '2024-01-10 00:00:00'], // a timestamp in a date column
  ['timestamp', '2024-01-10'],
  ['timestamp', '2024-01-10 24:00:00'],
  ['timestamp', '2024-01-10 12:00:00+00'], // zone in a timestamp-without-zone column
  ['timestamptz', '2024-01-10 12:00:00'], // no zone
  ['timestamptz', '2024-01-10 12:00:00+08'], // not canonical UTC text: its UTC year could differ
  ['timestamptz', '2024-01-10 12:00:00.1234567+00'],
  ['date', ''],
  ['date', ' 2024-01-10'],
  ['date', '2024-01-10 AD'],
];

test('invalid or infinite dates are unparseable, with a reason that does not contain the value', (t) => {
  for (const [shape, v] of BAD_DATES) {
    const r = generalizeDate(v, shape);
    t.false(r.ok, `${shape} ${v}`);
    if (!r.ok && v !== '') t.false(r.reason.includes(v), r.reason);
  }
});

test('buckets: every boundary and between', (t) => {
  const b = bucketBoundaries(['0', '500', '1000']);
  const cases: [string, string][] = [
    ['-1', '<0'],
    ['-0.0001', '<0'],
    ['-Infinity', '<0'],
    ['0', '[0,500)'],
    ['-0', '[0,500)'],
    ['0.00', '[0,500)'],
    ['499', '[0,500)'],
    ['499.999999999999999999999', '[0,500)'],
    ['500', '[500,1000)'],
    ['500.0', '[500,1000)'],
    ['999', '[500,1000)'],
    ['1000', '>=1000'],
    ['1e3', '>=1000'],
    ['9.99e2', '[500,1000)'],
    ['1e+20', '>=1000'],
    ['Infinity', '>=1000'],
  ];
  for (const [v, label] of cases) t.deepEqual(bucketOf(v, b), { ok: true, value: label }, v);
});

test('buckets: int64 beyond 2^53 compare exactly', (t) => {
  // 2^53 + 1 = 9007199254740993 is the first integer a double cannot hold (Number() rounds it to 2^53).
  const b = bucketBoundaries(['9007199254740993']);
  t.deepEqual(bucketOf('9007199254740992', b), { ok: true, value: '<9007199254740993' });
  t.deepEqual(bucketOf('9007199254740993', b), { ok: true, value: '>=9007199254740993' });
  const edge = bucketBoundaries(['-9223372036854775808', '0', '9223372036854775807']);
  t.deepEqual(bucketOf('-9223372036854775808', edge), { ok: true, value: '[-9223372036854775808,0)' });
  t.deepEqual(bucketOf('-9223372036854775807', edge), { ok: true, value: '[-9223372036854775808,0)' });
  t.deepEqual(bucketOf('9223372036854775806', edge), { ok: true, value: '[0,9223372036854775807)' });
  t.deepEqual(bucketOf('9223372036854775807', edge), { ok: true, value: '>=9223372036854775807' });
});

test('buckets: negative decimals and fine boundaries', (t) => {
  const b = bucketBoundaries(['-100.5', '-0.01', 0, '0.000000000000000000001']);
  const cases: [string, string][] = [
    ['-1000', '<-100.5'],
    ['-100.50000000000000000001', '<-100.5'],
    ['-100.5', '[-100.5,-0.01)'],
    ['-100.49', '[-100.5,-0.01)'],
    ['-0.011', '[-100.5,-0.01)'],
    ['-0.01', '[-0.01,0)'],
    ['-0.0099', '[-0.01,0)'],
    ['0', '[0,0.000000000000000000001)'],
    ['0.0000000000000000000009', '[0,0.000000000000000000001)'],
    ['0.000000000000000000001', '>=0.000000000000000000001'],
    ['1.5e-07', '>=0.000000000000000000001'],
  ];
  for (const [v, label] of cases) t.deepEqual(bucketOf(v, b), { ok: true, value: label }, v);
});

test('buckets: a single boundary; NaN and non-numbers are unparseable', (t) => {
  const b = bucketBoundaries([18]);
  t.deepEqual(bucketOf('17', b), { ok: true, value: '<18' });
  t.deepEqual(bucketOf('18', b), { ok: true, value: '>=18' });
  for (const v of ['NaN', '', ' 1', '1 ', '0x10', '1,000', '--1', '.', 'e5', '1e', 'inf', '１']) {
    const r = bucketOf(v, b);
    t.false(r.ok, JSON.stringify(v));
  }
});

test('resident ID to region + birth year', (t) => {
  t.deepEqual(generalizeResidentId('11010519491231002X'), { ok: true, value: '1101-1949' });
  t.deepEqual(generalizeResidentId('11010519491231002X', 2), { ok: true, value: '11-1949' });
  t.deepEqual(generalizeResidentId('11010519491231002X', 6), { ok: true, value: '110105-1949' });
  t.deepEqual(generalizeResidentId('440524188001010014'), { ok: true, value: '4405-1880' });
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (let i = 0; i < 50; i++) {
    const id = generateResidentId(rand);
    t.deepEqual(generalizeResidentId(id), { ok: true, value: `${id.slice(0, 4)}-${id.slice(6, 10)}` }, id);
  }
  for (const bad of ['110105491231002', '110105194912310021', '11010519491231002Y', '']) {
    const r = generalizeResidentId(bad);
    t.false(r.ok, bad);
    if (!r.ok && bad !== '') t.false(r.reason.includes(bad));
  }
});

test('compileGeneralizer picks the rule from the column type and tag', (t) => {
  const rule = (type: ColumnType, tag?: string, opts = {}) => {
    const c = compileGeneralizer(type, tag, opts);
    return c.ok ? c.rule : c.problems.join('; ');
  };
  t.is(rule({ kind: 'date' }), 'date');
  t.is(rule({ kind: 'timestamp', tz: null }), 'date');
  t.is(rule({ kind: 'timestamp', tz: 'UTC' }, 'cn_id_card'), 'date');
  for (const kind of ['int16', 'int32', 'int64', 'float32', 'float64'] as const) {
    t.is(rule({ kind }, undefined, { buckets: ['0'] }), 'bucket', kind);
    t.regex(rule({ kind }), /needs buckets/, kind);
  }
  t.is(rule({ kind: 'decimal', precision: 10, scale: 2 }, undefined, { buckets: [1] }), 'bucket');
  t.is(rule({ kind: 'utf8' }, 'cn_id_card'), 'resident-id');
  t.regex(rule({ kind: 'utf8' }), /generalize supports .* got utf8 \(no tag\)/);
  t.regex(rule({ kind: 'utf8', json: true }, 'cn_id_card'), /got json tagged cn_id_card/);
  t.regex(rule({ kind: 'list', element: { kind: 'date' } }), /got list<date>/);
  t.regex(rule({ kind: 'bool' }, undefined, { idRegionDigits: 3 }), /idRegionDigits.*; generalize supports/);
  // Options that do not apply to the type are ignored.
  t.is(rule({ kind: 'date' }, undefined, { buckets: ['1'], idRegionDigits: 6 }), 'date');
  const ts = compileGeneralizer({ kind: 'timestamp', tz: 'UTC' }, undefined, { date: 'month' });
  t.true(ts.ok && ts.generalize('2024-05-06 07:08:09+00').ok);
  t.deepEqual(ts.ok && ts.generalize('2024-05-06 07:08:09+00'), { ok: true, value: '2024-05' });
});

test('validateGeneralizeOptions reports every problem', (t) => {
  t.deepEqual(validateGeneralizeOptions(undefined), []);
  t.deepEqual(validateGeneralizeOptions({ date: 'month', buckets: ['-1.5', 0, 2.25, '1e9'.replace('1e9', '3')] }), []);
  const issues = validateGeneralizeOptions({
    date: 'day',
    buckets: ['1', '1.0', 'x', Number.NaN, '1e3', ' 2', 0],
    idRegionDigits: 5,
    bogus: true,
  } as never);
  t.deepEqual(issues, [
    'bogus: unknown generalize option',
    'date: must be "year" or "month"',
    'idRegionDigits: must be 2, 4 or 6',
    'buckets[1]: boundaries must be strictly ascending (1.0 after 1)',
    'buckets[2]: must be a decimal string like "-12.5" or a finite number',
    'buckets[3]: must be a decimal string like "-12.5" or a finite number',
    'buckets[4]: must be a decimal string like "-12.5" or a finite number',
    'buckets[5]: must be a decimal string like "-12.5" or a finite number',
    'buckets[6]: boundaries must be strictly ascending (0 after 1.0)',
  ]);
  t.deepEqual(validateGeneralizeOptions({ buckets: [] }), [
    'buckets: must be a non-empty array of ascending boundaries',
  ]);
  t.throws(() => bucketBoundaries(['2', '1']), { instanceOf: RangeError });
});

import test from 'ava';
import type { Row } from '../../../schemas/change-event.ts';
import type { ColumnType } from '../../../schemas/column-type.ts';
import { isSluiceError } from '../../errors.ts';
import { compileFilter, parseFilter } from './index.ts';

const COLUMNS = new Map<string, ColumnType>([
  ['amount', { kind: 'decimal', precision: 12, scale: 2 }],
  ['region', { kind: 'utf8' }],
  ['name', { kind: 'utf8' }],
  ['n', { kind: 'int64' }],
  ['i', { kind: 'int32' }],
  ['f', { kind: 'float64' }],
  ['g', { kind: 'float64' }],
  ['f4', { kind: 'float32' }],
  ['p', { kind: 'bool' }],
  ['q', { kind: 'bool' }],
  ['d', { kind: 'date' }],
  ['ts', { kind: 'timestamp', tz: null }],
  ['tz', { kind: 'timestamp', tz: 'UTC' }],
  ['t', { kind: 'time' }],
  ['doc', { kind: 'utf8', json: true }],
  ['Mixed Case', { kind: 'utf8' }],
]);

function compile(src: string) {
  const r = parseFilter(src);
  if (!r.ok) throw new Error(`${src}: ${r.error.message}`);
  return compileFilter(r.ast, COLUMNS);
}

type V = string | null;
const B: Record<string, V> = { T: 't', F: 'f', N: null };
const R = { T: true, F: false, N: null } as const;

test('three-valued logic: and, or, not, exactly as SQL', (t) => {
  const and = compile('p and q');
  const or = compile('p or q');
  const not = compile('not p');
  const AND = { TT: 'T', TF: 'F', TN: 'N', FT: 'F', FF: 'F', FN: 'F', NT: 'N', NF: 'F', NN: 'N' } as const;
  const OR = { TT: 'T', TF: 'T', TN: 'T', FT: 'T', FF: 'F', FN: 'N', NT: 'T', NF: 'N', NN: 'N' } as const;
  for (const [k, want] of Object.entries(AND)) {
    const row = { p: B[k[0] as string] as V, q: B[k[1] as string] as V };
    t.is(and(row), R[want], `and ${k}`);
    t.is(or(row), R[OR[k as keyof typeof OR]], `or ${k}`);
  }
  t.is(not({ p: 't' }), false);
  t.is(not({ p: 'f' }), true);
  t.is(not({ p: null }), null);
});

// [filter, row, expected]
const EVAL: [string, Row, boolean | null][] = [
  // comparisons with NULL, absent or unparseable values are unknown
  ['amount > 5', { amount: null }, null],
  ['amount > 5', {}, null],
  ['amount > 5', { amount: 'abc' }, null],
  ['5 < amount', { amount: '5.01' }, true],
  ['amount = n', { amount: '1.00', n: null }, null],
  ['amount is null', { amount: null }, true],
  ['amount is null', { amount: 'abc' }, false],
  ['amount is not null', { amount: null }, false],
  ['amount is null', {}, null],
  ['not amount is null', { amount: '1.00' }, true],
  ["region in ('a', 'b')", { region: null }, null],
  ["region not in ('a', 'b')", { region: null }, null],
  ['amount between 1 and 10', { amount: null }, null],
  ['amount not between 1 and 10', { amount: null }, null],
  ["name like '%'", { name: null }, null],
  ["name not like '%'", { name: null }, null],
  ['amount > 5 or p', { amount: null, p: 't' }, true],
  ['amount > 5 and p', { amount: null, p: 'f' }, false],
  ['amount > 5 and p', { amount: null, p: 't' }, null],
  ['true', {}, true],
  ['false or not true', {}, false],
  // int64 beyond 2^53, exact
  ['n > 9007199254740992', { n: '9007199254740993' }, true],
  ['n = 9007199254740992', { n: '9007199254740993' }, false],
  ['n = 9007199254740993', { n: '9007199254740993' }, true],
  ['n < -9223372036854775807', { n: '-9223372036854775808' }, true],
  ['n >= 9223372036854775807', { n: '9223372036854775807' }, true],
  ['n in (9007199254740993, 1)', { n: '9007199254740993' }, true],
  ['n in (9007199254740993, 1)', { n: '9007199254740992' }, false],
  ['n = 12.5', { n: '12' }, false],
  ['n < 12.5', { n: '12' }, true],
  ['n = 12.0', { n: '12' }, true],
  ['i > -3', { i: '-2' }, true],
  ['i = 2147483647', { i: '2147483647' }, true],
  // decimals, exact
  ['amount = 12.5', { amount: '12.50' }, true],
  ['amount = 12.50', { amount: '12.50' }, true],
  ['amount > 12.499', { amount: '12.50' }, true],
  ['amount < 12.501', { amount: '12.50' }, true],
  ['amount = 0', { amount: '-0.00' }, true],
  ['amount > 0.1', { amount: '0.10' }, false],
  ['amount = 1234567890123.45', { amount: '1234567890123.45' }, true],
  ['amount < 1234567890123.46', { amount: '1234567890123.45' }, true],
  ['amount in (12.5, 13)', { amount: '12.50' }, true],
  ['amount = n', { amount: '12.00', n: '12' }, true],
  ['i < amount', { i: '12', amount: '12.01' }, true],
  ['amount > 99999999999', { amount: 'NaN' }, true],
  ['amount = 1', { amount: 'NaN' }, false],
  ['amount > 1', { amount: 'Infinity' }, true],
  ['amount < 1', { amount: '-Infinity' }, true],
  ['amount = 1', { amount: '1.001' }, null], // more fraction digits than the column's scale: not a decimal(12,2)
  // floats: JS doubles, NaN as Postgres (equal to itself, above everything)
  ['f = 0.1', { f: '0.1' }, true],
  ['f4 = 0.1', { f4: '0.1' }, true],
  ['f = 0', { f: '-0' }, true],
  ['f > 1', { f: '2x' }, null],
  ['f > 100', { f: 'Infinity' }, true],
  ['f < -100', { f: '-Infinity' }, true],
  ['f > 1', { f: 'NaN' }, true],
  ['f < 1', { f: 'NaN' }, false],
  ['f <> 1', { f: 'NaN' }, true],
  ['f = g', { f: 'NaN', g: 'NaN' }, true],
  ['f > g', { f: 'NaN', g: 'Infinity' }, true],
  ['f < g', { f: 'Infinity', g: 'NaN' }, true],
  ['f in (1.5, 2)', { f: '1.5' }, true],
  ['f between 1 and 2', { f: '1.5e0' }, true],
  ['f > n', { f: '2.5', n: '2' }, true],
  // text: binary code point order, case-sensitive, no normalisation
  ["name = 'abc'", { name: 'ABC' }, false],
  ["name > 'Z'", { name: 'a' }, true],
  ["name < 'a'", { name: 'B' }, true],
  ["name = 'é'", { name: 'e\u0301' }, false],
  ["name > '\uffff'", { name: '𠀀' }, true], // UTF-16 unit order would say false
  ["name < '\ue000'", { name: '𠀀' }, false],
  ["name = ''", { name: '' }, true],
  ["name >= 'ab'", { name: 'ab' }, true],
  ["name < 'ab'", { name: 'a' }, true],
  ["name = 'it''s'", { name: "it's" }, true],
  ['name = region', { name: 'x', region: 'x' }, true],
  ["region in ('110105', '110108')", { region: '110108' }, true],
  ["region in ('110105', '110108')", { region: '110101' }, false],
  ["region not in ('110105', '110108')", { region: '110101' }, true],
  // like: % any run, _ one code point, no escape, no regex
  ["name like 'a%'", { name: 'abc' }, true],
  ["name like '%c'", { name: 'abc' }, true],
  ["name like 'a_c'", { name: 'abc' }, true],
  ["name like 'abc'", { name: 'ab' }, false],
  ["name like '_'", { name: '𠀀' }, true],
  ["name like '__'", { name: '𠀀' }, false],
  ["name like '%'", { name: '' }, true],
  ["name like '_%'", { name: '' }, false],
  ["name like 'a%b%c'", { name: 'aXbYc' }, true],
  ["name like 'a%b%c'", { name: 'acb' }, false],
  ["name like '%张_'", { name: '北京张三' }, true],
  ["name like '%𠀀_'", { name: 'x𠀀𠀁' }, true],
  ["name like '_京%'", { name: '北京' }, true],
  ["name like 'A%'", { name: 'abc' }, false],
  ["name like '.*'", { name: 'abc' }, false],
  ["name like '.*'", { name: '.*' }, true],
  ["name like 'a\\%'", { name: 'a\\xyz' }, true],
  ["name like '%(%'", { name: 'f(x)' }, true],
  ["name not like 'a%'", { name: 'abc' }, false],
  // bool
  ['p', { p: 't' }, true],
  ['p', { p: 'f' }, false],
  ['p = false', { p: 'f' }, true],
  ['p > false', { p: 't' }, true],
  ['p = q', { p: 't', q: 't' }, true],
  // dates, BC years before AD and reversed
  ["d = '2024-02-29'", { d: '2024-02-29' }, true],
  ["d < DATE '0001-01-01'", { d: '0001-12-31 BC' }, true],
  ["d < DATE '0044-03-15 BC'", { d: '0045-06-01 BC' }, true],
  ["d > DATE '0044-03-15 BC'", { d: '0044-03-16 BC' }, true],
  ["d = DATE '0001-02-29 BC'", { d: '0001-02-29 BC' }, true], // 1 BC is a leap year
  ["d > DATE '9999-12-31'", { d: 'infinity' }, true],
  ["d < DATE '0100-01-01 BC'", { d: '-infinity' }, true],
  ["d > DATE '9999-12-31'", { d: '10000-01-01' }, true],
  ["d = '2024-02-29'", { d: '2024-02-30' }, null], // a row value that is not a date reads as unknown
  ["d between '2024-01-01' and '2024-12-31'", { d: '2024-06-15' }, true],
  // timestamps: µs, date literals mean midnight
  ["ts >= DATE '2024-01-01'", { ts: '2024-01-01 00:00:00' }, true],
  ["ts < DATE '2024-01-01'", { ts: '2023-12-31 23:59:59.999999' }, true],
  ["ts > TIMESTAMP '2024-01-01 00:00:00'", { ts: '2024-01-01 00:00:00.000001' }, true],
  ["ts = '2024-01-01 00:00:00.5'", { ts: '2024-01-01 00:00:00.500000' }, true],
  ["ts < TIMESTAMP '0001-01-01 00:00:00'", { ts: '0044-03-15 12:00:00 BC' }, true],
  ["ts = '0044-03-15 12:00:00.000001 BC'", { ts: '0044-03-15 12:00:00.000001 BC' }, true],
  ["ts = '2024-01-01 00:00:00'", { ts: '2024-01-01 00:00:00+00' }, null], // an offset is not a local timestamp
  // timestamptz: offsets normalised to UTC
  ["tz = TIMESTAMP '2024-01-01 08:00:00+08'", { tz: '2024-01-01 00:00:00+00' }, true],
  ["tz = TIMESTAMP '2024-01-01 08:00:00+08'", { tz: '2024-01-01 05:30:00+05:30' }, true],
  ["tz = TIMESTAMP '2024-01-01 08:00:00+08'", { tz: '2023-12-31 20:00:00-04' }, true],
  ["tz = TIMESTAMP '2024-01-01 00:00:00'", { tz: '2024-01-01 00:00:00+00' }, true],
  ["tz < TIMESTAMP '2024-01-01 00:00:00Z'", { tz: '2024-01-01 01:00:00+02' }, true],
  ["tz > TIMESTAMP '2400-01-01 00:00:00'", { tz: '2400-01-01 00:00:00.000001+00' }, true], // beyond 2^53 µs
  ["tz < '0001-01-01 00:00:00+00'", { tz: '0044-03-15 12:00:00+00 BC' }, true],
  ["tz = DATE '2024-01-01'", { tz: '2024-01-01 00:00:00+00' }, true],
  ['d = tz', { d: '2024-01-01', tz: '2024-01-01 08:00:00+08' }, true],
  ['d < ts', { d: '2024-01-01', ts: '2024-01-01 00:00:00.000001' }, true],
  ["tz > '2024-01-01 00:00:00+00'", { tz: '-infinity' }, false],
  // time
  ["t > '12:00:00'", { t: '12:00:00.000001' }, true],
  ["t = '24:00:00'", { t: '24:00:00' }, true],
  ["t > '23:59:59.999999'", { t: '24:00:00' }, true],
  ["t between '08:00:00' and '17:00:00'", { t: '17:00:00.000001' }, false],
  // names
  [`"Mixed Case" = 'x'`, { 'Mixed Case': 'x' }, true],
  [`"Mixed Case" = 'x'`, { 'mixed case': 'x' }, null],
  ["REGION IN ('x') AND NOT P", { region: 'x', p: 'f' }, true],
  ['doc is not null', { doc: '{}' }, true],
  // between is >= and <=, not symmetric
  ['amount between 1 and 10', { amount: '10.00' }, true],
  ['amount between 1 and 10', { amount: '10.01' }, false],
  ['amount not between 1 and 10', { amount: '10.01' }, true],
  ['amount between 10 and 1', { amount: '5.00' }, false],
];

test('evaluation table', (t) => {
  for (const [src, row, want] of EVAL) {
    t.is(compile(src)(row), want, `${src} on ${JSON.stringify(row)}`);
  }
});

test('compileFilter refuses a filter that does not check', (t) => {
  const r = parseFilter('nope = 1');
  if (!r.ok) return t.fail();
  const e = t.throws(() => compileFilter(r.ast, COLUMNS));
  t.true(isSluiceError(e, 'CONFIG_INVALID'));
  t.regex((e as Error).message, /^filter: column 1: unknown field "nope"/);
});

test('a compiled filter is reusable and does not keep state between rows', (t) => {
  const f = compile("amount > 500 and region in ('110105', '110108')");
  t.is(f({ amount: '600.00', region: '110105' }), true);
  t.is(f({ amount: '400.00', region: '110105' }), false);
  t.is(f({ amount: null, region: '110105' }), null);
  t.is(f({ amount: '600.00', region: '110105' }), true);
});

import test from 'ava';
import type { ColumnType } from '../../../schemas/column-type.ts';
import { checkFilter, filterFieldRefs, parseFilter, type FilterExpr } from './index.ts';

const COLUMNS = new Map<string, ColumnType>([
  ['amount', { kind: 'decimal', precision: 12, scale: 2 }],
  ['region', { kind: 'utf8' }],
  ['n', { kind: 'int64' }],
  ['f', { kind: 'float64' }],
  ['active', { kind: 'bool' }],
  ['d', { kind: 'date' }],
  ['ts', { kind: 'timestamp', tz: null }],
  ['tz', { kind: 'timestamp', tz: 'UTC' }],
  ['t', { kind: 'time' }],
  ['doc', { kind: 'utf8', json: true }],
  ['photo', { kind: 'binary' }],
  ['tags', { kind: 'list', element: { kind: 'utf8' } }],
]);

function ast(src: string): FilterExpr {
  const r = parseFilter(src);
  if (!r.ok) throw new Error(`${src}: ${r.error.message}`);
  return r.ast;
}

const WELL_TYPED = [
  "amount > 500 and region in ('110105', '110108')",
  'amount = 12.5 and n > 9007199254740992 and f <= -1 and 3 < n',
  'n = 12.5',
  'amount = f and n < amount and f > n',
  'active and not active or active = true or active <> false',
  "d = DATE '2024-02-29' and d > '2024-01-01' and d between '0044-03-15 BC' and DATE '2024-12-31'",
  "ts > DATE '2024-01-01' and ts < TIMESTAMP '2024-01-01 12:00:00' and ts <> '2024-01-01 00:00:00.5'",
  "tz > TIMESTAMP '2024-01-01 12:00:00+08' and tz < '2024-01-01 12:00:00Z' and tz = TIMESTAMP '2024-01-01'",
  'd < ts and d = tz',
  "t between '08:00:00' and '17:30:00.25' and t <> '24:00:00'",
  "region like '%05' and region not like '_'",
  'doc is null and photo is not null and tags is null',
];

test('well-typed filters have no problems', (t) => {
  for (const src of WELL_TYPED) t.deepEqual(checkFilter(ast(src), COLUMNS), [], src);
});

// source → [message, offset, length, column] for each problem
const BAD: [string, [string, number, number, number][]][] = [
  [
    'amout > 5',
    [
      [
        'unknown field "amout"; did you mean "amount"? (fields: amount, region, n, f, active, d, ts, tz, t, doc, …)',
        0,
        5,
        1,
      ],
    ],
  ],
  ["amount > '5x'", [[`cannot compare decimal(12,2) field "amount" with a string literal '5x'`, 9, 4, 10]]],
  [
    "amount > '5'",
    [
      [
        `cannot compare decimal(12,2) field "amount" with a string literal '5' (write numbers without quotes)`,
        9,
        3,
        10,
      ],
    ],
  ],
  [
    'region = 110105',
    [[`cannot compare utf8 field "region" with the number 110105 (to compare as text, write '110105')`, 9, 6, 10]],
  ],
  ['active = 1', [['cannot compare bool field "active" with the number 1 (write true or false)', 9, 1, 10]]],
  [
    'amount',
    [
      [
        'decimal(12,2) field "amount" is not bool, so it cannot stand alone as a condition; compare it with a value',
        0,
        6,
        1,
      ],
    ],
  ],
  [
    "d = '2024-02-30'",
    [[`cannot compare date field "d" with a string literal '2024-02-30': 2024-02 has 29 days`, 4, 12, 5]],
  ],
  [
    "d = 'yesterday'",
    [[`cannot compare date field "d" with a string literal 'yesterday': expected 'YYYY-MM-DD'`, 4, 11, 5]],
  ],
  [
    "d = TIMESTAMP '2024-01-01 00:00:00'",
    [[`cannot compare date field "d" with a TIMESTAMP literal '2024-01-01 00:00:00' (use a DATE literal)`, 4, 31, 5]],
  ],
  [
    "ts = TIMESTAMP '2024-01-01 00:00:00+08'",
    [
      [
        `cannot compare timestamp field "ts" with a TIMESTAMP literal '2024-01-01 00:00:00+08': the field has no time zone, so the literal must not have an offset`,
        5,
        34,
        6,
      ],
    ],
  ],
  [
    'tz = 5',
    [[`cannot compare timestamptz field "tz" with the number 5 (write TIMESTAMP 'YYYY-MM-DD HH:MM:SS')`, 5, 1, 6]],
  ],
  [
    "t = '8:00'",
    [[`cannot compare time field "t" with a string literal '8:00': expected 'HH:MM:SS[.ffffff]'`, 4, 6, 5]],
  ],
  [
    "t = DATE '2024-01-01'",
    [
      [
        `cannot compare time field "t" with a DATE literal '2024-01-01' (write a time as a string, e.g. '08:30:00')`,
        4,
        17,
        5,
      ],
    ],
  ],
  ['ts = tz', [['cannot compare timestamp field "ts" with timestamptz field "tz"', 5, 2, 6]]],
  ['region = amount', [['cannot compare utf8 field "region" with decimal(12,2) field "amount"', 9, 6, 10]]],
  ["doc = '{}'", [['json field "doc" supports only "is null" and "is not null"', 0, 3, 1]]],
  ["photo like '%'", [['binary field "photo" supports only "is null" and "is not null"', 0, 5, 1]]],
  ["tags in ('a')", [['list<utf8> field "tags" supports only "is null" and "is not null"', 0, 4, 1]]],
  ["amount like '5%'", [['"like" works on text fields only, not on decimal(12,2) field "amount"', 0, 6, 1]]],
  [
    "amount in (1, 'x', true) or nope is null or region between 1 and 'z'",
    [
      [`cannot compare decimal(12,2) field "amount" with a string literal 'x'`, 14, 3, 15],
      ['cannot compare decimal(12,2) field "amount" with the boolean true', 19, 4, 20],
      ['unknown field "nope" (fields: amount, region, n, f, active, d, ts, tz, t, doc, …)', 28, 4, 29],
      [`cannot compare utf8 field "region" with the number 1 (to compare as text, write '1')`, 59, 1, 60],
    ],
  ],
  [
    '"Amount" = 1',
    [
      [
        'unknown field "Amount"; did you mean "amount"? (fields: amount, region, n, f, active, d, ts, tz, t, doc, …)',
        0,
        8,
        1,
      ],
    ],
  ],
  [
    'constructor = 1 or __proto__ = 1',
    [
      ['unknown field "constructor" (fields: amount, region, n, f, active, d, ts, tz, t, doc, …)', 0, 11, 1],
      ['unknown field "__proto__" (fields: amount, region, n, f, active, d, ts, tz, t, doc, …)', 19, 9, 20],
    ],
  ],
];

test('every name and type problem, each at its token', (t) => {
  for (const [src, problems] of BAD) {
    const got = checkFilter(ast(src), COLUMNS);
    t.deepEqual(
      got,
      problems.map(([message, offset, length, column]) => ({ message, offset, length, column })),
      src,
    );
  }
});

test('columns in code points for type errors after multi-byte text', (t) => {
  const [e] = checkFilter(ast("region = '𠀀张' and amount = 'x'"), COLUMNS);
  t.like(e, { offset: 28, column: 28 });
});

test('a hand-built comparison of two literals is refused, not compiled', (t) => {
  const span = { offset: 0, length: 1, column: 1 };
  const lit = { kind: 'number', text: '1', ...span } as const;
  const errors = checkFilter({ kind: 'compare', op: '=', left: lit, right: lit, ...span }, COLUMNS);
  t.is(errors.length, 1);
});

test('filterFieldRefs lists every field in source order', (t) => {
  t.deepEqual(
    filterFieldRefs(
      ast('a = b and not (c in (1) or d between 1 and 2) and e is null and f like \'x\' and g and 1 < "H"'),
    ),
    [
      { name: 'a', offset: 0, length: 1 },
      { name: 'b', offset: 4, length: 1 },
      { name: 'c', offset: 15, length: 1 },
      { name: 'd', offset: 27, length: 1 },
      { name: 'e', offset: 50, length: 1 },
      { name: 'f', offset: 64, length: 1 },
      { name: 'g', offset: 79, length: 1 },
      { name: 'H', offset: 89, length: 3 },
    ],
  );
});

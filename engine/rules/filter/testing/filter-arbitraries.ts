/**
 * Test support for the filter property tests: a resource schema with row-value pools (including invalid texts that
 * must read as unknown), and fast-check arbitraries for random well-typed filter trees and rows.
 */

import fc from 'fast-check';
import type { Row } from '../../../../schemas/change-event.ts';
import type { ColumnType } from '../../../../schemas/column-type.ts';
import type { CompareOp, FilterExpr, Literal } from '../ast.ts';

export const Z = { offset: 0, length: 0, column: 1 };
const field = (name: string) => ({ kind: 'field', name, ...Z }) as const;
const num = (text: string): Literal => ({ kind: 'number', text, ...Z });
const str = (value: string): Literal => ({ kind: 'string', value, ...Z });
const date = (value: string): Literal => ({ kind: 'date', value, ...Z });
const stamp = (value: string): Literal => ({ kind: 'timestamp', value, ...Z });

const DATES = ['2024-02-29', '2024-03-01', '1970-01-01', '0044-03-15 BC', '0001-01-01', '0001-12-31 BC'];
const STAMPS = [
  '2024-01-01 00:00:00',
  '2024-01-01 00:00:00.000001',
  '1999-12-31 23:59:59.999999',
  '0044-03-15 12:00:00 BC',
  '2400-01-01',
  '2024-01-01 00:00:00.5',
];
const ZONED = [
  '2024-01-01 08:00:00+08',
  '2024-01-01 00:00:00Z',
  '2023-12-31 19:00:00-05',
  '2024-01-01 05:30:00+05:30',
  '0044-03-15 12:00:00+00 BC',
];
const TIMES = ['00:00:00', '12:30:00.5', '23:59:59.999999', '24:00:00', '08:00:00'];
const TEXTS = [
  '',
  'a',
  'A',
  'ab',
  'abc',
  'é',
  'e\u0301',
  '𠀀',
  '\ue000',
  '\uffff',
  'a%',
  'x_y',
  "it's",
  '110105',
  '张三',
];

/** name → type, row value pool (invalid texts included on purpose: they must read as unknown) */
export const SCHEMA: [string, ColumnType, string[]][] = [
  ['i', { kind: 'int32' }, ['0', '1', '-1', '12', '500', '2147483647', '-2147483648', 'abc']],
  [
    'n',
    { kind: 'int64' },
    ['0', '12', '500', '9007199254740992', '9007199254740993', '-9223372036854775808', '9223372036854775807'],
  ],
  [
    'amt',
    { kind: 'decimal', precision: 12, scale: 2 },
    ['0.00', '12.50', '-12.50', '500.00', '499.99', '9999999999.99', 'NaN', 'Infinity', '-Infinity', '1.001'],
  ],
  [
    'f',
    { kind: 'float64' },
    ['0', '-0', '1.5', '12.5', '0.1', 'NaN', 'Infinity', '-Infinity', '1e+100', '-2.5e-3', '500'],
  ],
  ['s', { kind: 'utf8' }, TEXTS],
  ['Mixed Case', { kind: 'utf8' }, ['a', 'ab', '张三']],
  ['constructor', { kind: 'utf8' }, ['a', 'constructor']],
  ['__proto__', { kind: 'int32' }, ['0', '1']],
  ['b', { kind: 'bool' }, ['t', 'f']],
  ['date', { kind: 'date' }, [...DATES, 'infinity', '-infinity', '2024-02-30']],
  [
    'ts',
    { kind: 'timestamp', tz: null },
    [...STAMPS.slice(0, 4), '2400-01-01 00:00:00', 'infinity', '2024-01-01 00:00:00+00'],
  ],
  [
    'tz',
    { kind: 'timestamp', tz: 'UTC' },
    [
      '2024-01-01 00:00:00+00',
      '2024-01-01 08:00:00+08',
      '2023-12-31 23:59:59.5+00',
      '2024-01-01 05:30:00+05:30',
      '-infinity',
      '0044-03-15 12:00:00+00 BC',
      '2400-01-01 00:00:00.000001+00',
    ],
  ],
  ['t', { kind: 'time' }, TIMES],
  ['j', { kind: 'utf8', json: true }, ['{}', '[]']],
];
export const COLUMNS = new Map(SCHEMA.map(([n, t]) => [n, t]));
export const TYPE = (name: string) => COLUMNS.get(name) as ColumnType;
const PAIRS = [
  ['i', 'n'],
  ['n', 'amt'],
  ['amt', 'f'],
  ['i', 'f'],
  ['s', 's'],
  ['Mixed Case', 's'],
  ['b', 'b'],
  ['date', 'ts'],
  ['date', 'tz'],
  ['ts', 'ts'],
  ['tz', 'tz'],
  ['t', 't'],
  ['date', 'date'],
];

const textUnit = fc.constantFrom('a', 'b', '%', '_', "'", '"', '张', '𠀀', ' ', '\\');
const numberText = fc.oneof(
  fc.constantFrom(
    '0',
    '1',
    '-1',
    '12',
    '12.5',
    '12.50',
    '-12.5',
    '500',
    '499.999',
    '9007199254740992',
    '9007199254740993',
    '-9223372036854775808',
    '0.001',
  ),
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  fc
    .tuple(fc.integer({ min: -99999, max: 99999 }), fc.integer({ min: 0, max: 999 }))
    .map(([a, b]) => `${a}.${String(b).padStart(3, '0')}`),
);

function literalFor(name: string): fc.Arbitrary<Literal> {
  const t = TYPE(name);
  switch (t.kind) {
    case 'utf8':
      return fc.oneof(fc.constantFrom(...TEXTS), fc.string({ unit: textUnit, maxLength: 5 })).map(str);
    case 'bool':
      return fc.boolean().map((value): Literal => ({ kind: 'bool', value, ...Z }));
    case 'date':
      return fc.oneof(fc.constantFrom(...DATES).map(date), fc.constantFrom(...DATES).map(str));
    case 'timestamp': {
      const pool = t.tz ? [...STAMPS, ...ZONED] : STAMPS;
      return fc.oneof(
        fc.constantFrom(...DATES).map(date),
        fc.constantFrom(...pool).map(stamp),
        fc.constantFrom(...pool).map(str),
      );
    }
    case 'time':
      return fc.constantFrom(...TIMES, '12:00:00').map(str);
    default:
      return numberText.map(num);
  }
}

const OPS: CompareOp[] = ['=', '<>', '<', '<=', '>', '>='];
const comparable = SCHEMA.filter(([, t]) => !(t.kind === 'utf8' && t.json)).map(([n]) => n);

export const predicate: fc.Arbitrary<FilterExpr> = fc.oneof(
  fc.constantFrom(...comparable).chain((name) =>
    fc.oneof(
      fc.tuple(fc.constantFrom(...OPS), literalFor(name), fc.boolean()).map(([op, lit, flip]): FilterExpr => ({
        kind: 'compare',
        op,
        left: flip ? lit : field(name),
        right: flip ? field(name) : lit,
        ...Z,
      })),
      fc
        .tuple(fc.boolean(), fc.array(literalFor(name), { minLength: 1, maxLength: 4 }))
        .map(([negated, values]): FilterExpr => ({ kind: 'in', negated, field: field(name), values, ...Z })),
      fc
        .tuple(fc.boolean(), literalFor(name), literalFor(name))
        .map(([negated, low, high]): FilterExpr => ({ kind: 'between', negated, field: field(name), low, high, ...Z })),
    ),
  ),
  fc.tuple(fc.constantFrom(...PAIRS), fc.constantFrom(...OPS)).map(([[a, b], op]): FilterExpr => ({
    kind: 'compare',
    op,
    left: field(a as string),
    right: field(b as string),
    ...Z,
  })),
  fc
    .tuple(fc.constantFrom(...SCHEMA.map(([n]) => n)), fc.boolean())
    .map(([name, negated]): FilterExpr => ({ kind: 'isNull', negated, field: field(name), ...Z })),
  fc
    .tuple(
      fc.constantFrom('s', 'Mixed Case', 'constructor'),
      fc.boolean(),
      fc.string({ unit: fc.constantFrom('a', 'b', '%', '_', '张', '𠀀', '.', "'"), maxLength: 5 }),
    )
    .map(([name, negated, p]): FilterExpr => ({
      kind: 'like',
      negated,
      field: field(name),
      pattern: { kind: 'string', value: p, ...Z },
      ...Z,
    })),
  fc
    .oneof(
      fc.constant(field('b')),
      fc.boolean().map((value) => ({ kind: 'bool', value, ...Z }) as const),
    )
    .map((operand): FilterExpr => ({ kind: 'truth', operand, ...Z })),
);

export const { expr } = fc.letrec<{ expr: FilterExpr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    predicate,
    tie('expr').map((operand): FilterExpr => ({ kind: 'not', operand, ...Z })),
    fc
      .tuple(fc.constantFrom('and', 'or'), tie('expr'), tie('expr'))
      .map(([kind, left, right]): FilterExpr => ({ kind, left, right, ...Z })),
  ),
}));

const ABSENT = Symbol('absent');
export const rowArb: fc.Arbitrary<Row> = fc
  .tuple(...SCHEMA.map(([, , pool]) => fc.constantFrom<string | null | typeof ABSENT>(...pool, null, ABSENT)))
  .map((vals) => Object.fromEntries(SCHEMA.flatMap(([n], k) => (vals[k] === ABSENT ? [] : [[n, vals[k]]]))) as Row);

/** A tree (or any value) without its source positions, for comparing trees. */
export function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !['offset', 'length', 'column'].includes(k))
        .map(([k, x]) => [k, shape(x)]),
    );
  }
  return v;
}

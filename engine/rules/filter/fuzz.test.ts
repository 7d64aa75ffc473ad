/** Hostile and arbitrary input: the parser never throws, errors stay inside the source, nothing reaches a prototype. */

import test from 'ava';
import fc from 'fast-check';
import type { Row } from '../../../schemas/change-event.ts';
import type { ColumnType } from '../../../schemas/column-type.ts';
import { checkFilter, compileFilter, formatFilter, parseFilter, type FilterError } from './index.ts';
import { shape } from './testing/filter-arbitraries.ts';

const COLUMNS = new Map<string, ColumnType>([
  ['a', { kind: 'int64' }],
  ['b', { kind: 'bool' }],
  ['x', { kind: 'utf8' }],
  ['amount', { kind: 'decimal', precision: 12, scale: 2 }],
  ['d', { kind: 'date' }],
  ['constructor', { kind: 'utf8' }],
  ['__proto__', { kind: 'utf8' }],
  ['tostring', { kind: 'bool' }],
]);

const ROWS: Row[] = [
  {},
  Object.create(null) as Row,
  { a: '1', b: 't', x: 'abc', amount: '12.50', d: '2024-01-01' },
  { a: null, b: null, x: null, amount: null, d: null },
  Object.fromEntries([
    ['__proto__', 'x'],
    ['constructor', 'y'],
  ]) as Row,
];

function wellFormed(src: string, e: FilterError): boolean {
  return (
    typeof e.message === 'string' &&
    e.message.length > 0 &&
    Number.isInteger(e.offset) &&
    e.offset >= 0 &&
    e.offset <= src.length &&
    e.length >= 0 &&
    e.offset + e.length <= src.length &&
    (e.length >= 1 || e.offset === src.length) &&
    e.column >= 1 &&
    e.column <= e.offset + 1
  );
}

/** Parses, and when that works: round-trips, checks, compiles and evaluates — none of which may throw. */
function exercise(src: string): boolean {
  const r = parseFilter(src);
  if (!r.ok) return wellFormed(src, r.error);
  const canonical = formatFilter(r.ast);
  if (canonical.length <= 4096) {
    const again = parseFilter(canonical);
    if (!again.ok || JSON.stringify(shape(again.ast)) !== JSON.stringify(shape(r.ast))) return false;
  }
  const errors = checkFilter(r.ast, COLUMNS);
  if (!errors.every((e) => wellFormed(src, e))) return false;
  if (errors.length === 0) {
    const p = compileFilter(r.ast, COLUMNS);
    for (const row of ROWS) if (![true, false, null].includes(p(row))) return false;
  }
  return true;
}

const word = (w: string) => fc.constantFrom(w, w.toUpperCase(), w[0]?.toUpperCase() + w.slice(1));
const token = fc.oneof(
  fc
    .constantFrom('and', 'or', 'not', 'in', 'between', 'is', 'null', 'like', 'true', 'false', 'date', 'timestamp')
    .chain(word),
  fc.constantFrom(
    '=',
    '<>',
    '!=',
    '<',
    '<=',
    '>',
    '>=',
    '==',
    '!',
    '(',
    ')',
    ',',
    "'",
    '"',
    "''",
    '""',
    '-',
    '.',
    ';',
    '`',
    '%',
    '_',
  ),
  fc.constantFrom(
    'a',
    'b',
    'x',
    'amount',
    'd',
    'nope',
    'constructor',
    '__proto__',
    '"__proto__"',
    '"Mixed Case"',
    'toString',
  ),
  fc.constantFrom('0', '-3', '12.50', '1e3', '9007199254740993', '5.', '.5', '1a'),
  fc.constantFrom("'abc'", "'it''s'", "'%a_'", "'2024-02-29'", "'2024-02-30'", "'2024-01-01 00:00:00+08'", "'𠀀'", "'"),
  fc.constantFrom('\u0000', '\u202e', '𠀀', '张', '\t', '\n', '\u3000'),
  fc.integer({ min: -99999, max: 99999 }).map(String),
  fc.string({ maxLength: 4 }),
);
const soup = fc
  .tuple(fc.array(token, { maxLength: 40 }), fc.constantFrom(' ', '', '  '))
  .map(([ts, sep]) => ts.join(sep));

test('(1) 20,000 arbitrary strings: parseFilter never throws, errors point inside the source', (t) => {
  fc.assert(fc.property(fc.string({ maxLength: 80 }), exercise), { numRuns: 4000 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), exercise), { numRuns: 4000 });
  fc.assert(fc.property(fc.string({ unit: 'binary-ascii', maxLength: 80 }), exercise), { numRuns: 2000 });
  fc.assert(fc.property(soup, exercise), { numRuns: 10_000 });
  t.pass();
});

const HOSTILE: [string, RegExp | 'ok'][] = [
  ['__proto__', /is not bool|cannot stand alone/],
  ['constructor', /utf8 field "constructor" is not bool/],
  ['process.exit(1)', /^unexpected character "\."/],
  ["x = ''); drop table x; --", /^unmatched "\)"$/],
  ["'); drop table x; --", /^unterminated string '\); drop table x; --/],
  ['${}', /^unexpected character "\$"/],
  ['x = `1`', /^unexpected character "`"/],
  ['x = ${process.exit(1)}', /^unexpected character "\$"/],
  ["x = 'a' || process.exit(1)", /^unexpected character "\|" \(use "or"\)/],
  ['require("fs")', /^expected an operator such as "=" after "require" but found "\("/],
  ['x = eval', /^unknown field "eval"/],
  ["x like '.*'", 'ok'],
  ["x like '%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%b'", 'ok'],
  ['"__proto__" = \'x\'', 'ok'],
  ['constructor is null and "__proto__" is not null and tostring', 'ok'],
  ['"toString" = 1', /^unknown field "toString"; did you mean "tostring"\?/],
  ['hasOwnProperty is null', /^unknown field "hasownproperty"/],
  ["x = '\u202e'", /^invisible formatting character U\+202E is not allowed$/],
  ['a = 1\u0000', /^control character U\+0000 is not allowed$/],
  ['('.repeat(100_000), /^filter is too long: 100000 characters/],
  ['('.repeat(2000) + 'b' + ')'.repeat(2000), /^nesting is deeper than 64 levels/],
  ['not '.repeat(1000) + 'b', /^nesting is deeper than 64 levels/],
  ['a = 1 or '.repeat(450) + 'a = 2', 'ok'],
  ['b and '.repeat(680) + 'b', 'ok'],
  ["x = '" + 'a'.repeat(4000) + "'", 'ok'],
];

test('(5) hostile inputs give a clear error or a harmless parse', (t) => {
  for (const [src, want] of HOSTILE) {
    const r = parseFilter(src);
    const problem = r.ok ? checkFilter(r.ast, COLUMNS)[0] : r.error;
    const label = src.length > 60 ? src.slice(0, 57) + '…' : src;
    if (want === 'ok') {
      t.is(problem, undefined, label);
      if (r.ok) for (const row of ROWS) t.notThrows(() => compileFilter(r.ast, COLUMNS)(row), label);
    } else {
      t.regex(problem?.message ?? '', want, label);
      t.true(problem !== undefined && wellFormed(src, problem), label);
    }
  }
});

test('fields named like Object.prototype members read own properties only', (t) => {
  const compile = (src: string) => {
    const r = parseFilter(src);
    if (!r.ok) throw new Error(r.error.message);
    return compileFilter(r.ast, COLUMNS);
  };
  const own = Object.fromEntries([
    ['__proto__', 'x'],
    ['constructor', 'y'],
  ]) as Row;
  t.is(compile('"__proto__" = \'x\'')(own), true);
  t.is(compile('"__proto__" = \'x\'')(JSON.parse('{"__proto__":"x"}') as Row), true);
  t.is(compile('"__proto__" = \'x\'')({}), null, 'the prototype is not a value');
  t.is(compile('"__proto__" is null')({}), null);
  t.is(compile('constructor is not null')({}), null, '{}.constructor is inherited, not a value');
  t.is(compile("constructor = 'y'")(own), true);
  t.is(compile('tostring')({}), null);
  t.is(compile('constructor is null')(Object.create(null) as Row), null);

  // Even a polluted Object.prototype is never read.
  Object.defineProperty(Object.prototype, 'x', { value: 'abc', configurable: true, writable: true });
  try {
    t.is(compile("x = 'abc'")({}), null);
    t.is(compile('x is null')({}), null);
    t.is(compile("x like 'a%'")({}), null);
  } finally {
    delete (Object.prototype as Record<string, unknown>).x;
  }
  t.false('x' in {});
});

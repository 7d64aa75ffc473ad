import test from 'ava';
import { formatFilter, parseFilter, type FilterExpr } from './index.ts';
import { shape } from './testing/filter-arbitraries.ts';

function ast(src: string): FilterExpr {
  const r = parseFilter(src);
  if (!r.ok) throw new Error(`${src}: ${r.error.message}`);
  return r.ast;
}

// source → canonical form (keywords lower case, `!=` → `<>`, parentheses only where needed)
const CANONICAL: [string, string][] = [
  ["amount > 500 and region in ('110105', '110108')", "amount > 500 and region in ('110105', '110108')"],
  ['AMOUNT>500', 'amount > 500'],
  ['a != 1', 'a <> 1'],
  ['a<>1 OR b<=2 Or c>=-3', 'a <> 1 or b <= 2 or c >= -3'],
  ['500 < amount', '500 < amount'],
  ['x = 12.50', 'x = 12.50'],
  ['a = 1 or b = 2 and c = 3', 'a = 1 or b = 2 and c = 3'],
  ['(a = 1 or b = 2) and c = 3', '(a = 1 or b = 2) and c = 3'],
  ['a = 1 and (b = 2 and c = 3)', 'a = 1 and (b = 2 and c = 3)'],
  ['((a = 1) and b = 2) and c = 3', 'a = 1 and b = 2 and c = 3'],
  ['a or (b or c)', 'a or (b or c)'],
  ['NOT active', 'not active'],
  ['not not active', 'not not active'],
  ['not (a and b)', 'not (a and b)'],
  ['not a = 1', 'not a = 1'],
  ['x NOT IN (1, 2,3)', 'x not in (1, 2, 3)'],
  ['x Between 1 AND 10', 'x between 1 and 10'],
  ['x not between -1.5 and 1.5 and y', 'x not between -1.5 and 1.5 and y'],
  ['x IS NULL', 'x is null'],
  ['x is NOT null', 'x is not null'],
  ["name LIKE '张%'", "name like '张%'"],
  ["name not like '_a''b%'", "name not like '_a''b%'"],
  ["s = 'it''s'", "s = 'it''s'"],
  ['"Mixed Case" = 1', '"Mixed Case" = 1'],
  ['"plain" = 1', 'plain = 1'],
  ['"a""b" = 1', '"a""b" = 1'],
  ['"and" = 1', '"and" = 1'],
  ["d = date '2024-02-29'", "d = date '2024-02-29'"],
  ["d >= DATE '0044-03-15 BC'", "d >= date '0044-03-15 BC'"],
  ["ts < TimeStamp '2024-01-01 08:00:00.5+08'", "ts < timestamp '2024-01-01 08:00:00.5+08'"],
  ['date = timestamp', '"date" = "timestamp"'],
  ["date > DATE '2024-01-01'", `"date" > date '2024-01-01'`],
  ['flag = TRUE or flag = False', 'flag = true or flag = false'],
  ['true', 'true'],
  ['a = b', 'a = b'],
  ['a\t=\n1\r', 'a = 1'],
];

test('canonical printing of parsed filters', (t) => {
  for (const [src, out] of CANONICAL) {
    t.is(formatFilter(ast(src)), out, src);
    t.deepEqual(shape(ast(out)), shape(ast(src)), `${src}: the canonical form parses to the same tree`);
  }
});

test('tree shapes: precedence, associativity, folding, escapes', (t) => {
  const f = (name: string) => ({ kind: 'field', name });
  const n = (text: string) => ({ kind: 'number', text });
  const eq = (name: string, text: string) => ({ kind: 'compare', op: '=', left: f(name), right: n(text) });
  t.deepEqual(shape(ast('A = 1 OR b = 2 AND NOT c = 3')), {
    kind: 'or',
    left: eq('a', '1'),
    right: { kind: 'and', left: eq('b', '2'), right: { kind: 'not', operand: eq('c', '3') } },
  });
  t.deepEqual(shape(ast('a = 1 and b = 2 and c = 3')), {
    kind: 'and',
    left: { kind: 'and', left: eq('a', '1'), right: eq('b', '2') },
    right: eq('c', '3'),
  });
  t.deepEqual(shape(ast(`"Weird ""name""" not in ('x''y', -3, 0.50, DATE '2024-01-31', TRUE)`)), {
    kind: 'in',
    negated: true,
    field: f('Weird "name"'),
    values: [
      { kind: 'string', value: "x'y" },
      n('-3'),
      n('0.50'),
      { kind: 'date', value: '2024-01-31' },
      { kind: 'bool', value: true },
    ],
  });
  t.deepEqual(shape(ast('x between 1 and 2 and y')), {
    kind: 'and',
    left: { kind: 'between', negated: false, field: f('x'), low: n('1'), high: n('2') },
    right: { kind: 'truth', operand: f('y') },
  });
  t.deepEqual(shape(ast('x is not null')), { kind: 'isNull', negated: true, field: f('x') });
  t.deepEqual(shape(ast("x not like '%a_'")), {
    kind: 'like',
    negated: true,
    field: f('x'),
    pattern: { kind: 'string', value: '%a_' },
  });
  t.deepEqual(shape(ast('5 >= x')), { kind: 'compare', op: '>=', left: n('5'), right: f('x') });
});

test('nodes carry offsets (UTF-16) and columns (code points)', (t) => {
  const e = ast("name = '𠀀𠀀' and amount > 5");
  if (e.kind !== 'and' || e.right.kind !== 'compare' || e.left.kind !== 'compare') return t.fail();
  t.like(e.left, { offset: 0, length: 13, column: 1 });
  t.like(e.left.right, { offset: 7, length: 6, column: 8 });
  t.like(e.right, { offset: 18, length: 10, column: 17 });
  t.like(e.right.left, { offset: 18, length: 6, column: 17 });
  t.like(e, { offset: 0, length: 28, column: 1 });
});

// source → [message, offset, length, column]
const ERRORS: [string, string, number, number, number][] = [
  ['amount >', 'expected a value after ">" but found end of input', 8, 0, 9],
  ['', 'expected a condition but found end of input', 0, 0, 1],
  ['x = 1e3', 'exponent notation is not supported: "1e3"; write the number out in digits', 4, 3, 5],
  ['x = 12abc', 'invalid number "12abc"', 4, 5, 5],
  ['x = 5.', 'expected digits after "." in number "5."', 4, 2, 5],
  ['x = .5', 'a number must start with a digit: write 0.5, not .5', 4, 1, 5],
  [
    'amount = null',
    '"null" is only allowed in "is null" / "is not null": to test for a missing value write amount is null',
    9,
    4,
    10,
  ],
  [
    'x in (1, NULL)',
    '"NULL" is only allowed in "is null" / "is not null": to test for a missing value write x is null',
    9,
    4,
    10,
  ],
  ["name = 'abc", "unterminated string 'abc (no closing ')", 7, 1, 8],
  ['"abc = 1', 'unterminated quoted name "abc = 1 (no closing ")', 0, 1, 1],
  ['"" = 1', 'empty quoted name ""', 0, 2, 1],
  ["d = DATE '2024-02-30'", "invalid DATE literal '2024-02-30': 2024-02 has 29 days", 9, 12, 10],
  ["d = DATE '2023-02-29'", "invalid DATE literal '2023-02-29': 2023-02 has 28 days", 9, 12, 10],
  ["d = DATE '2024-13-01'", "invalid DATE literal '2024-13-01': there is no month 13", 9, 12, 10],
  [
    "d = DATE '0000-01-01'",
    "invalid DATE literal '0000-01-01': there is no year 0 (1 BC is followed by 1 AD)",
    9,
    12,
    10,
  ],
  ["d = DATE '24-1-1'", "invalid DATE literal '24-1-1': expected 'YYYY-MM-DD'", 9, 8, 10],
  [
    "t = TIMESTAMP '2024-01-01 25:00:00'",
    "invalid TIMESTAMP literal '2024-01-01 25:00:00': hour 25 is out of range",
    14,
    21,
    15,
  ],
  [
    "t = TIMESTAMP '2024-01-01 00:00:00.1234567'",
    "invalid TIMESTAMP literal '2024-01-01 00:00:00.1234567': at most 6 fraction digits (microseconds)",
    14,
    29,
    15,
  ],
  ['(a = 1 and b', 'expected ")" but found end of input', 12, 0, 13],
  ['(a = 1 b = 2)', 'expected ")" but found "b"', 7, 1, 8],
  ['(a in (1, 2 and b)', 'expected "," or ")" but found "and"', 12, 3, 13],
  ['a = 1)', 'unmatched ")"', 5, 1, 6],
  ['a = 1 b', 'expected "and", "or" or end of input but found "b"', 6, 1, 7],
  ['amount 500', 'expected an operator such as "=" after "amount" but found "500"', 7, 3, 8],
  ['500', 'expected an operator such as "=" after "500" but found end of input', 3, 0, 4],
  ['1 = 1', 'a comparison needs a field on one side, but "1" and "1" are both values', 4, 1, 5],
  ['a == 1', '"==" is not an operator; use "="', 2, 2, 3],
  ['a = 1 && b', 'unexpected character "&" (use "and")', 6, 1, 7],
  [
    'a = 1 -- x',
    'unexpected character "-" (there is no arithmetic and there are no comments; a negative number is written -5)',
    6,
    1,
    7,
  ],
  [
    'a = 1 and in = 2',
    'expected a condition but found the keyword "in" (to use it as a field name, write "in")',
    10,
    2,
    11,
  ],
  ['a in ()', 'an "in" list needs at least one value', 6, 1, 7],
  ['a in 1', 'expected "(" after "in" but found "1"', 5, 1, 6],
  ['a in (b)', 'expected a value after "(" but found the field "b" (only values are allowed here)', 6, 1, 7],
  ['a between 1 or 2', 'expected "and" in "between … and …" but found "or"', 12, 2, 13],
  ['a is 1', 'expected "null" after "is" but found "1"', 5, 1, 6],
  ['a not null', 'expected "in", "between" or "like" after "not" but found "null"', 6, 4, 7],
  ['a like b', `expected a string pattern such as '%abc%' after "like" but found "b"`, 7, 1, 8],
  ["'x' like 'y'", `expected a field before "like" but found the value "'x'"`, 0, 3, 1],
  ['名 = 1', 'unexpected character "名" (U+540D)', 0, 1, 1],
  ['𠀀 = 1', 'unexpected character "𠀀" (U+20000)', 0, 2, 1],
  ['x = ‘a’', `unexpected character "‘" (U+2018) (use straight quotes '…')`, 4, 1, 5],
  ['a = 1\u0000', 'control character U+0000 is not allowed', 5, 1, 6],
  ["s = 'a\u0007'", 'control character U+0007 is not allowed', 6, 1, 7],
  ["s = 'a\u202e'", 'invisible formatting character U+202E is not allowed', 6, 1, 7],
  ['`x` = 1', `unexpected character "\`" (quote strings with '…' and field names with "…")`, 0, 1, 1],
];

test('parse errors name the token and point at it', (t) => {
  for (const [src, message, offset, length, column] of ERRORS) {
    t.deepEqual(parseFilter(src), { ok: false, error: { message, offset, length, column } }, src);
  }
});

test('hostile sizes: too long, too deep, too many values', (t) => {
  const long = 'a = 1 or '.repeat(500) + 'a = 1';
  t.deepEqual(parseFilter(long), {
    ok: false,
    error: {
      message: `filter is too long: ${long.length} characters (at most 4096)`,
      offset: 4096,
      length: long.length - 4096,
      column: 4097,
    },
  });
  t.true(parseFilter('a = 1 or '.repeat(454) + 'a = 1').ok, 'just under the limit');

  const deep = (n: number) => '('.repeat(n) + 'a' + ')'.repeat(n);
  t.true(parseFilter(deep(64)).ok);
  const r = parseFilter(deep(65));
  t.deepEqual(r, {
    ok: false,
    error: { message: 'nesting is deeper than 64 levels (parentheses and "not")', offset: 64, length: 1, column: 65 },
  });
  t.true(parseFilter('not '.repeat(64) + 'a').ok);
  t.like(parseFilter('not '.repeat(65) + 'a'), { ok: false, error: { offset: 256, length: 3 } });
  const huge = parseFilter('('.repeat(100_000));
  t.like(huge, { ok: false, error: { offset: 4096 } });

  const list = (n: number) => `a in (${Array.from({ length: n }, (_, i) => i).join(',')})`;
  t.true(parseFilter(list(1000)).ok);
  const many = list(1001);
  t.deepEqual(parseFilter(many), {
    ok: false,
    error: {
      message: 'an "in" list may hold at most 1000 values',
      offset: many.lastIndexOf('1000'),
      length: 4,
      column: many.lastIndexOf('1000') + 1,
    },
  });
});

test('keywords are case-insensitive; identifiers fold; quoted names are kept', (t) => {
  t.deepEqual(shape(ast('Region IN (1) AnD NoT Active')), shape(ast('region in (1) and not active')));
  t.deepEqual(shape(ast('X iS nOt NuLl')), shape(ast('x is not null')));
  t.deepEqual(shape(ast('"Region" = 1')), {
    kind: 'compare',
    op: '=',
    left: { kind: 'field', name: 'Region' },
    right: { kind: 'number', text: '1' },
  });
  t.deepEqual(shape(ast('date is null')), { kind: 'isNull', negated: false, field: { kind: 'field', name: 'date' } });
});

test('a non-string input is an error, not a throw', (t) => {
  t.like(parseFilter(undefined as unknown as string), { ok: false, error: { offset: 0 } });
  t.like(parseFilter({ toString: () => 'a = 1' } as unknown as string), { ok: false });
});

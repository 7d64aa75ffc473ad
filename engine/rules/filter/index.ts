/**
 * Row filters for subscriptions: a small, safe expression language, e.g.
 * `amount > 500 and region in ('110105', '110108')`.
 *
 * Pipeline: {@link parseFilter} (hand-written lexer + recursive descent; never throws, never evaluates text as code)
 * → {@link checkFilter} against the resource's column types → {@link compileFilter} once into a closure evaluated per
 * row with SQL three-valued logic. {@link formatFilter} prints the canonical form.
 *
 * Grammar (keywords case-insensitive; `or` < `and` < `not` < predicate):
 * ```text
 * filter    := or
 * or        := and ("or" and)*
 * and       := not ("and" not)*
 * not       := "not" not | "(" or ")" | predicate
 * predicate := operand cmp operand            -- = <> != < <= > >=; a field on at least one side
 *            | field ["not"] "in" "(" literal ("," literal)* ")"
 *            | field ["not"] "between" literal "and" literal
 *            | field "is" ["not"] "null"
 *            | field ["not"] "like" string    -- % any run, _ one code point, no escape
 *            | field | "true" | "false"       -- a bare boolean
 * operand   := field | literal
 * field     := [A-Za-z_][A-Za-z0-9_]* (folded to lower case) | "double quoted" ("" escapes ")
 * literal   := -?digits[.digits] | 'string' ('' escapes ') | DATE 'YYYY-MM-DD' | TIMESTAMP '…' | TRUE | FALSE
 * ```
 * `date` and `timestamp` are keywords only right before a string, so they also work as plain field names. Limits:
 * 4096 UTF-16 units of source, nesting (parentheses and `not`) 64 deep, 1000 values per `in` list; control
 * characters (other than tab, CR, LF) and invisible bidi/formatting marks are refused everywhere, strings included.
 *
 * Semantics, in short (details in typing.ts, compile.ts and the value modules):
 * - Types: number literals with int/decimal/float fields, strings with utf8, TRUE/FALSE with bool, DATE with date and
 *   timestamp, TIMESTAMP with timestamp. A string literal compared with a date/timestamp/time field is read as a value
 *   of that field's type and must parse as one (that is how times are written: `t < '08:30:00'`). binary, list and
 *   json fields support only `is [not] null`.
 * - Ordering: ints and decimals exactly (scaled integers, BigInt when large — never a double); floats as doubles with
 *   Postgres's NaN (equal to NaN, above everything); text by code point, i.e. the binary "C" collation, case- and
 *   accent-sensitive, no normalisation; dates and timestamps as UTC µs (BC before AD, offsets applied); times as µs.
 * - `like`: `%` and `_` over code points, case-sensitive, no escape character, no RegExp.
 * - Three-valued logic as in SQL; an unknown result means "not in the filter". A NULL, an absent column or a value that
 *   does not parse for its type is unknown in every comparison; `is null` is true only for an explicit NULL.
 */

export type {
  AndExpr,
  BetweenExpr,
  BoolLiteral,
  CompareExpr,
  CompareOp,
  DateLiteral,
  FieldRef,
  FilterError,
  FilterExpr,
  InExpr,
  IsNullExpr,
  LikeExpr,
  Literal,
  NotExpr,
  NumberLiteral,
  Operand,
  OrExpr,
  ParseResult,
  Span,
  StringLiteral,
  TimestampLiteral,
  TruthExpr,
} from './ast.ts';
export { MAX_SOURCE_LENGTH } from './lexer.ts';
export { MAX_DEPTH, MAX_IN_LIST, parseFilter } from './parser.ts';
export { checkFilter, filterFieldRefs } from './check.ts';
export { compileFilter, type FilterPredicate } from './compile.ts';
export { formatFilter } from './format.ts';

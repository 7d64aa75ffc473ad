/**
 * The syntax tree of a subscription's row filter (see index.ts for the language). Every node is plain data with a
 * `kind` discriminant and the source span it was parsed from, so a tree can be printed, compared and sent as JSON.
 */

/** Where a node came from: `offset`/`length` in UTF-16 units of the source, `column` 1-based in code points. */
export interface Span {
  readonly offset: number;
  readonly length: number;
  readonly column: number;
}

/** A field of the resource. `name` is folded to lower case unless it was written `"double quoted"`. */
export interface FieldRef extends Span {
  readonly kind: 'field';
  readonly name: string;
}

/** An exact number as written: `-?digits[.digits]`, never converted to a JS double by the parser. */
export interface NumberLiteral extends Span {
  readonly kind: 'number';
  readonly text: string;
}

/** A `'single quoted'` string, with `''` already unescaped. */
export interface StringLiteral extends Span {
  readonly kind: 'string';
  readonly value: string;
}

/** `DATE 'YYYY-MM-DD'` (optionally ` BC`, or `infinity`); `value` is the validated text between the quotes. */
export interface DateLiteral extends Span {
  readonly kind: 'date';
  readonly value: string;
}

/** `TIMESTAMP 'YYYY-MM-DD[ HH:MM:SS[.ffffff][Z|±HH[:MM]]]'`; `value` is the validated text between the quotes. */
export interface TimestampLiteral extends Span {
  readonly kind: 'timestamp';
  readonly value: string;
}

/** `TRUE` or `FALSE`. */
export interface BoolLiteral extends Span {
  readonly kind: 'bool';
  readonly value: boolean;
}

/** Any literal value. There is no NULL literal: NULL only appears in `is [not] null`. */
export type Literal = NumberLiteral | StringLiteral | DateLiteral | TimestampLiteral | BoolLiteral;

/** Either side of a comparison. */
export type Operand = FieldRef | Literal;

/** Comparison operators; `!=` is read as `<>`. */
export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** `left op right`; at least one side is a field (the parser rejects literal-vs-literal). */
export interface CompareExpr extends Span {
  readonly kind: 'compare';
  readonly op: CompareOp;
  readonly left: Operand;
  readonly right: Operand;
}

/** `field [not] in (literal, …)`, 1 to 1000 literals. */
export interface InExpr extends Span {
  readonly kind: 'in';
  readonly negated: boolean;
  readonly field: FieldRef;
  readonly values: readonly Literal[];
}

/** `field [not] between low and high`, i.e. `field >= low and field <= high`. */
export interface BetweenExpr extends Span {
  readonly kind: 'between';
  readonly negated: boolean;
  readonly field: FieldRef;
  readonly low: Literal;
  readonly high: Literal;
}

/** `field is [not] null`. */
export interface IsNullExpr extends Span {
  readonly kind: 'isNull';
  readonly negated: boolean;
  readonly field: FieldRef;
}

/** `field [not] like 'pattern'`: `%` any run of code points, `_` exactly one; no escape character. */
export interface LikeExpr extends Span {
  readonly kind: 'like';
  readonly negated: boolean;
  readonly field: FieldRef;
  readonly pattern: StringLiteral;
}

/** A bare boolean used as a condition: `active`, `true`. */
export interface TruthExpr extends Span {
  readonly kind: 'truth';
  readonly operand: FieldRef | BoolLiteral;
}

/** `not operand`: unknown stays unknown. */
export interface NotExpr extends Span {
  readonly kind: 'not';
  readonly operand: FilterExpr;
}

/** `left and right`; chains are left-associative: `a and b and c` is `(a and b) and c`. */
export interface AndExpr extends Span {
  readonly kind: 'and';
  readonly left: FilterExpr;
  readonly right: FilterExpr;
}

/** `left or right`; chains are left-associative. */
export interface OrExpr extends Span {
  readonly kind: 'or';
  readonly left: FilterExpr;
  readonly right: FilterExpr;
}

/** A whole filter, or any condition inside one. */
export type FilterExpr =
  CompareExpr | InExpr | BetweenExpr | IsNullExpr | LikeExpr | TruthExpr | NotExpr | AndExpr | OrExpr;

/** A condition that is not a combination of others (not and/or/not). */
export type PredicateExpr = Exclude<FilterExpr, NotExpr | AndExpr | OrExpr>;

/** The predicates of a filter in source order, through every and/or/not. */
export function predicatesOf(e: FilterExpr, out: PredicateExpr[] = []): PredicateExpr[] {
  if (e.kind === 'and' || e.kind === 'or') {
    predicatesOf(e.left, out);
    predicatesOf(e.right, out);
  } else if (e.kind === 'not') predicatesOf(e.operand, out);
  else out.push(e);
  return out;
}

/** A problem with a filter, pointing at the token that causes it. */
export interface FilterError {
  /** Plain words naming the offending token, e.g. `expected ")" but found "and"`. */
  message: string;
  /** 0-based UTF-16 index into the source where the offending token starts (`src.length` for end of input). */
  offset: number;
  /** Token length in UTF-16 units, ≥ 1; 0 only for end of input. */
  length: number;
  /** 1-based column in code points, counted from the start of the source (newlines count as one). */
  column: number;
}

/** Outcome of `parseFilter`. */
export type ParseResult = { ok: true; ast: FilterExpr } | { ok: false; error: FilterError };

/** A FilterError at a node's span. */
export function errorAt(span: Span, message: string): FilterError {
  return { message, offset: span.offset, length: span.length, column: span.column };
}

/**
 * Recursive-descent parser for the filter language (grammar in index.ts). Nesting — parentheses and `not` — is
 * counted and refused past {@link MAX_DEPTH} before recursing, so no input can exhaust the stack; with the lexer's
 * length limit every call does bounded work. `parseFilter` never throws: failures are returned as a FilterError.
 */

import {
  type BoolLiteral,
  type CompareOp,
  type FieldRef,
  type FilterError,
  type FilterExpr,
  type Literal,
  type Operand,
  type ParseResult,
  type Span,
  type StringLiteral,
} from './ast.ts';
import { describeToken, tokenize, type Token } from './lexer.ts';
import { fieldSource, RESERVED } from './names.ts';
import { parseDate, parseTimestamp } from './temporal.ts';

/** Deepest accepted nesting of parentheses and `not`. */
export const MAX_DEPTH = 64;
/** Most values in one `in (…)` list. */
export const MAX_IN_LIST = 1000;

class Failure {
  constructor(readonly error: FilterError) {}
}

const shorten = (s: string): string => {
  const cps = Array.from(s);
  return cps.length > 32 ? cps.slice(0, 31).join('') + '…' : s;
};

class Parser {
  private i = 0;
  private lastEnd = 0;

  constructor(
    private readonly src: string,
    private readonly toks: readonly Token[],
    private readonly columnAt: (offset: number) => number,
  ) {}

  private peek(k = 0): Token {
    const t = this.toks[Math.min(this.i + k, this.toks.length - 1)] as Token;
    if (t.error) throw new Failure(t.error);
    return t;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    this.lastEnd = t.offset + t.length;
    return t;
  }

  private span(offset: number): Span {
    return { offset, length: this.lastEnd - offset, column: this.columnAt(offset) };
  }

  private fail(at: { offset: number; length: number }, message: string): never {
    throw new Failure({ message, offset: at.offset, length: at.length, column: this.columnAt(at.offset) });
  }

  private static isWord(t: Token, w: string): boolean {
    return t.kind === 'word' && t.value === w;
  }

  /** The source text of a span, quoted, for messages. */
  private show(s: Span): string {
    const text = shorten(this.src.slice(s.offset, s.offset + s.length));
    return /^".*"$/s.test(text) ? text : `"${text}"`;
  }

  parseAll(): FilterExpr {
    const e = this.parseOr(0);
    const t = this.peek();
    if (t.kind === ')') this.fail(t, 'unmatched ")"');
    if (t.kind !== 'eof') this.fail(t, `expected "and", "or" or end of input but found ${describeToken(t)}`);
    return e;
  }

  private parseOr(depth: number): FilterExpr {
    let left = this.parseAnd(depth);
    while (Parser.isWord(this.peek(), 'or')) {
      this.next();
      const right = this.parseAnd(depth);
      left = { kind: 'or', left, right, ...this.span(left.offset) };
    }
    return left;
  }

  private parseAnd(depth: number): FilterExpr {
    let left = this.parseNot(depth);
    while (Parser.isWord(this.peek(), 'and')) {
      this.next();
      const right = this.parseNot(depth);
      left = { kind: 'and', left, right, ...this.span(left.offset) };
    }
    return left;
  }

  private parseNot(depth: number): FilterExpr {
    const t = this.peek();
    if (!Parser.isWord(t, 'not')) return this.parsePredicate(depth);
    if (depth >= MAX_DEPTH) this.fail(t, `nesting is deeper than ${MAX_DEPTH} levels (parentheses and "not")`);
    this.next();
    const operand = this.parseNot(depth + 1);
    return { kind: 'not', operand, ...this.span(t.offset) };
  }

  private parsePredicate(depth: number): FilterExpr {
    const open = this.peek();
    if (open.kind === '(') {
      if (depth >= MAX_DEPTH) this.fail(open, `nesting is deeper than ${MAX_DEPTH} levels (parentheses and "not")`);
      this.next();
      const inner = this.parseOr(depth + 1);
      const close = this.peek();
      if (close.kind !== ')') this.fail(close, `expected ")" but found ${describeToken(close)}`);
      this.next();
      return inner;
    }
    const left = this.parseOperand('a condition', 'field');
    const t = this.peek();
    if (t.kind === 'op') {
      this.next();
      const right = this.parseOperand(`a value after "${t.text}"`, left.kind === 'field' ? left.name : 'field');
      if (left.kind !== 'field' && right.kind !== 'field') {
        this.fail(
          right,
          `a comparison needs a field on one side, but ${this.show(left)} and ${this.show(right)} are both values`,
        );
      }
      return { kind: 'compare', op: t.value as CompareOp, left, right, ...this.span(left.offset) };
    }
    let negated = false;
    if (Parser.isWord(t, 'not')) {
      const k = this.peek(1);
      if (!(Parser.isWord(k, 'in') || Parser.isWord(k, 'between') || Parser.isWord(k, 'like'))) {
        this.fail(k, `expected "in", "between" or "like" after "not" but found ${describeToken(k)}`);
      }
      negated = true;
      this.next();
    }
    const kw = this.peek();
    const keyword = kw.kind === 'word' && ['in', 'between', 'like', 'is'].includes(kw.value) ? kw.value : null;
    if (keyword) {
      if (left.kind !== 'field')
        this.fail(left, `expected a field before "${kw.text}" but found the value ${this.show(left)}`);
      this.next();
      if (keyword === 'is') return this.parseIsNull(left);
      if (keyword === 'in') return this.parseIn(left, negated);
      if (keyword === 'between') {
        const low = this.parseLiteral(`a value after "${kw.text}"`, left.name);
        const and = this.peek();
        if (!Parser.isWord(and, 'and'))
          this.fail(and, `expected "and" in "between … and …" but found ${describeToken(and)}`);
        this.next();
        const high = this.parseLiteral(`a value after "between … and"`, left.name);
        return { kind: 'between', negated, field: left, low, high, ...this.span(left.offset) };
      }
      const p = this.peek();
      if (p.kind !== 'string') {
        this.fail(p, `expected a string pattern such as '%abc%' after "${kw.text}" but found ${describeToken(p)}`);
      }
      this.next();
      const pattern: StringLiteral = { kind: 'string', value: p.value, ...this.span(p.offset) };
      return { kind: 'like', negated, field: left, pattern, ...this.span(left.offset) };
    }
    if (left.kind !== 'field' && left.kind !== 'bool') {
      this.fail(t, `expected an operator such as "=" after ${this.show(left)} but found ${describeToken(t)}`);
    }
    if (!(t.kind === 'eof' || t.kind === ')' || Parser.isWord(t, 'and') || Parser.isWord(t, 'or'))) {
      this.fail(t, `expected an operator such as "=" after ${this.show(left)} but found ${describeToken(t)}`);
    }
    return { kind: 'truth', operand: left, ...this.span(left.offset) };
  }

  private parseIsNull(field: FieldRef): FilterExpr {
    const negated = Parser.isWord(this.peek(), 'not');
    if (negated) this.next();
    const n = this.peek();
    if (!Parser.isWord(n, 'null')) {
      this.fail(n, `expected "null" after "is${negated ? ' not' : ''}" but found ${describeToken(n)}`);
    }
    this.next();
    return { kind: 'isNull', negated, field, ...this.span(field.offset) };
  }

  private parseIn(field: FieldRef, negated: boolean): FilterExpr {
    const open = this.peek();
    if (open.kind !== '(') this.fail(open, `expected "(" after "in" but found ${describeToken(open)}`);
    this.next();
    if (this.peek().kind === ')') this.fail(this.peek(), 'an "in" list needs at least one value');
    const values: Literal[] = [];
    for (;;) {
      if (values.length === MAX_IN_LIST) {
        this.fail(this.peek(), `an "in" list may hold at most ${MAX_IN_LIST} values`);
      }
      values.push(this.parseLiteral(values.length === 0 ? 'a value after "("' : 'a value after ","', field.name));
      const t = this.peek();
      if (t.kind === ')') break;
      if (t.kind !== ',') this.fail(t, `expected "," or ")" but found ${describeToken(t)}`);
      this.next();
    }
    this.next();
    return { kind: 'in', negated, field, values, ...this.span(field.offset) };
  }

  private parseLiteral(expected: string, fieldName: string): Literal {
    const v = this.parseOperand(expected, fieldName);
    if (v.kind === 'field')
      this.fail(v, `expected ${expected} but found the field ${this.show(v)} (only values are allowed here)`);
    return v;
  }

  /** A field or a literal; `expected` words the error when there is neither. */
  private parseOperand(expected: string, fieldName: string): Operand {
    const t = this.peek();
    const at = t.offset;
    switch (t.kind) {
      case 'qident':
        this.next();
        return { kind: 'field', name: t.value, ...this.span(at) };
      case 'number':
        this.next();
        return { kind: 'number', text: t.value, ...this.span(at) };
      case 'string':
        this.next();
        return { kind: 'string', value: t.value, ...this.span(at) };
      case 'word':
        break;
      default:
        this.fail(t, `expected ${expected} but found ${describeToken(t)}`);
    }
    if (t.value === 'null') {
      const name = fieldSource(fieldName);
      this.fail(
        t,
        `"${t.text}" is only allowed in "is null" / "is not null": to test for a missing value write ${name} is null`,
      );
    }
    if (t.value === 'true' || t.value === 'false') {
      this.next();
      const lit: BoolLiteral = { kind: 'bool', value: t.value === 'true', ...this.span(at) };
      return lit;
    }
    if (RESERVED.has(t.value)) {
      this.fail(
        t,
        `expected ${expected} but found the keyword "${t.text}" (to use it as a field name, write "${t.value}")`,
      );
    }
    if ((t.value === 'date' || t.value === 'timestamp') && this.peek(1).kind === 'string') {
      this.next();
      const s = this.next();
      const isDate = t.value === 'date';
      const r = isDate ? parseDate(s.value) : parseTimestamp(s.value);
      if (!r.ok) this.fail(s, `invalid ${isDate ? 'DATE' : 'TIMESTAMP'} literal ${s.text}: ${r.reason}`);
      return { kind: isDate ? 'date' : 'timestamp', value: s.value, ...this.span(at) };
    }
    if ((t.value === 'date' || t.value === 'timestamp') && this.peek(1).kind === 'number') {
      const n = this.peek(1);
      const example = t.value === 'date' ? "DATE '2024-01-31'" : "TIMESTAMP '2024-01-31 08:00:00'";
      this.fail(n, `expected a quoted value after "${t.text}", e.g. ${example}, but found ${describeToken(n)}`);
    }
    this.next();
    return { kind: 'field', name: t.value, ...this.span(at) };
  }
}

/**
 * Parses a filter into its syntax tree. Never throws, whatever the input (even a non-string): problems come back as
 * `{ ok: false, error }` with the error's offset within `[0, src.length]`.
 */
export function parseFilter(src: string): ParseResult {
  if (typeof src !== 'string') {
    return { ok: false, error: { message: 'a filter must be a string', offset: 0, length: 0, column: 1 } };
  }
  try {
    const lex = tokenize(src);
    if (!lex.ok) return lex;
    return { ok: true, ast: new Parser(src, lex.tokens, lex.columnAt).parseAll() };
  } catch (e) {
    if (e instanceof Failure) return { ok: false, error: e.error };
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { message: `internal error while parsing: ${why}`, offset: 0, length: 0, column: 1 } };
  }
}

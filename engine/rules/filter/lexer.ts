/**
 * The filter lexer: source text → tokens, with the hostile-input limits checked first (length, control and invisible
 * formatting characters). It never throws; problems come back as a {@link FilterError} naming the offending text.
 */

import type { FilterError } from './ast.ts';

/** Longest accepted source, in UTF-16 units. */
export const MAX_SOURCE_LENGTH = 4096;

/** `error` stands for a lexical error, reported when the parser reaches it (so errors come in source order). */
export type TokenKind = 'word' | 'qident' | 'number' | 'string' | 'op' | '(' | ')' | ',' | 'eof' | 'error';

export interface Token {
  readonly kind: TokenKind;
  /** The token exactly as written. */
  readonly text: string;
  /** word: lower-cased; qident/string: unescaped content; number: as written; op: normalised (`!=` → `<>`). */
  readonly value: string;
  readonly offset: number;
  readonly length: number;
  /** Only on an `error` token, which is always the last one. */
  readonly error?: FilterError;
}

/** Tokens (ending with one `eof` or `error`) and a UTF-16 offset → 1-based code-point column map for the source. */
export type LexResult =
  { ok: true; tokens: Token[]; columnAt: (offset: number) => number } | { ok: false; error: FilterError };

/** 1-based code-point column of a UTF-16 offset (counts from the start of `src`; a newline is one column). */
export function codePointColumn(src: string, offset: number): number {
  let col = 1;
  for (let i = 0; i < offset && i < src.length; i++) {
    const c = src.charCodeAt(i);
    // The low half of a surrogate pair does not start a new code point.
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = src.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) continue;
    }
    col++;
  }
  return col;
}

function columnTable(src: string): (offset: number) => number {
  const cols = new Int32Array(src.length + 1);
  let col = 1;
  for (let i = 0; i <= src.length; i++) {
    const c = src.charCodeAt(i);
    const p = i > 0 ? src.charCodeAt(i - 1) : 0;
    if (!(c >= 0xdc00 && c <= 0xdfff && p >= 0xd800 && p <= 0xdbff)) cols[i] = col++;
    else cols[i] = col - 1;
  }
  return (offset) => cols[Math.max(0, Math.min(offset, src.length))] ?? 1;
}

/** A code point as shown in messages: itself in quotes, plus U+XXXX when it is not plain printable ASCII. */
export function showChar(cp: number): string {
  return cp > 0x7e ? `"${String.fromCodePoint(cp)}" (${hex(cp)})` : `"${String.fromCodePoint(cp)}"`;
}

const hex = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

function isForbidden(c: number): string | null {
  if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f)) return 'control character';
  // Bidirectional overrides and other invisible marks would make the filter read differently from how it parses.
  if (c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c === 0xfeff) {
    return 'invisible formatting character';
  }
  return null;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isIdentStart = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
const isIdentPart = (c: number): boolean => isIdentStart(c) || isDigit(c);

const HINTS: Record<string, string> = {
  '&': ' (use "and")',
  '|': ' (use "or")',
  '!': ' (use "not", or "!=" for not equal)',
  '-': ' (there is no arithmetic and there are no comments; a negative number is written -5)',
  '`': ` (quote strings with '…' and field names with "…")`,
  ';': ' (a filter is one condition)',
  '\u2018': " (use straight quotes '…')",
  '\u2019': " (use straight quotes '…')",
  '\u201c': ' (use straight quotes "…")',
  '\u201d': ' (use straight quotes "…")',
};

/** Splits `src` into tokens. Never throws. */
export function tokenize(src: string): LexResult {
  if (src.length > MAX_SOURCE_LENGTH) {
    return {
      ok: false,
      error: {
        message: `filter is too long: ${src.length} characters (at most ${MAX_SOURCE_LENGTH})`,
        offset: MAX_SOURCE_LENGTH,
        length: src.length - MAX_SOURCE_LENGTH,
        column: codePointColumn(src, MAX_SOURCE_LENGTH),
      },
    };
  }
  const columnAt = columnTable(src);
  for (let i = 0; i < src.length; i++) {
    const what = isForbidden(src.charCodeAt(i));
    if (what) {
      const message = `${what} ${hex(src.charCodeAt(i))} is not allowed`;
      return { ok: false, error: { message, offset: i, length: 1, column: columnAt(i) } };
    }
  }

  const tokens: Token[] = [];
  const fail = (message: string, offset: number, length: number): LexResult => {
    const error = { message, offset, length, column: columnAt(offset) };
    tokens.push({ kind: 'error', text: src.slice(offset, offset + length), value: '', offset, length, error });
    return { ok: true, tokens, columnAt };
  };
  const push = (kind: TokenKind, start: number, end: number, value: string): void => {
    tokens.push({ kind, text: src.slice(start, end), value, offset: start, length: end - start });
  };
  let i = 0;
  while (i < src.length) {
    const c = src.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < src.length && isIdentPart(src.charCodeAt(i))) i++;
      push('word', start, i, src.slice(start, i).toLowerCase());
      continue;
    }
    if (isDigit(c) || (c === 0x2d && isDigit(src.charCodeAt(i + 1)))) {
      if (c === 0x2d) i++;
      while (isDigit(src.charCodeAt(i))) i++;
      if (src.charCodeAt(i) === 0x2e) {
        i++;
        if (!isDigit(src.charCodeAt(i))) {
          return fail(`expected digits after "." in number "${src.slice(start, i)}"`, start, i - start);
        }
        while (isDigit(src.charCodeAt(i))) i++;
      }
      const next = src.charCodeAt(i);
      if (isIdentPart(next) || next === 0x2e) {
        let end = i;
        while (end < src.length && (isIdentPart(src.charCodeAt(end)) || '.+-'.includes(src[end] ?? ''))) end++;
        const bad = src.slice(start, end);
        if ((next === 0x65 || next === 0x45) && /^-?\d+(\.\d+)?[eE][-+]?\d+$/.test(bad)) {
          return fail(
            `exponent notation is not supported: "${bad}"; write the number out in digits`,
            start,
            end - start,
          );
        }
        return fail(`invalid number "${bad}"`, start, end - start);
      }
      const text = src.slice(start, i);
      push('number', start, i, text);
      continue;
    }
    if (c === 0x27 || c === 0x22) {
      // '…' string or "…" identifier; the quote is escaped by doubling it.
      const quote = src[i] as string;
      let value = '';
      let from = ++i;
      for (;;) {
        const q = src.indexOf(quote, i);
        if (q < 0) {
          const what = quote === "'" ? 'string' : 'quoted name';
          const cps = Array.from(src.slice(start));
          const shown = cps.length > 24 ? cps.slice(0, 23).join('') + '…' : cps.join('');
          return fail(`unterminated ${what} ${shown} (no closing ${quote})`, start, 1);
        }
        if (src[q + 1] === quote) {
          value += src.slice(from, q) + quote;
          i = from = q + 2;
          continue;
        }
        value += src.slice(from, q);
        i = q + 1;
        break;
      }
      if (quote === '"' && value === '') return fail('empty quoted name ""', start, i - start);
      push(quote === "'" ? 'string' : 'qident', start, i, value);
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '<>' || two === '!=') {
      push('op', i, i + 2, two === '!=' ? '<>' : two);
      i += 2;
      continue;
    }
    if (two === '==') return fail('"==" is not an operator; use "="', i, 2);
    if (c === 0x3d || c === 0x3c || c === 0x3e) {
      push('op', i, i + 1, src[i] as string);
      i++;
      continue;
    }
    if (c === 0x28 || c === 0x29 || c === 0x2c) {
      push(src[i] as '(' | ')' | ',', i, i + 1, src[i] as string);
      i++;
      continue;
    }
    const cp = src.codePointAt(i) as number;
    const width = cp > 0xffff ? 2 : 1;
    if (c === 0x2e && isDigit(src.charCodeAt(i + 1)))
      return fail('a number must start with a digit: write 0.5, not .5', i, 1);
    return fail(`unexpected character ${showChar(cp)}${HINTS[String.fromCodePoint(cp)] ?? ''}`, i, width);
  }
  tokens.push({ kind: 'eof', text: '', value: '', offset: src.length, length: 0 });
  return { ok: true, tokens, columnAt };
}

/** A token as named in messages: `end of input`, or its text in double quotes (long text shortened). */
export function describeToken(t: Token): string {
  if (t.kind === 'eof') return 'end of input';
  const cps = Array.from(t.text);
  const text = cps.length > 32 ? cps.slice(0, 31).join('') + '…' : t.text;
  return t.kind === 'qident' ? text : `"${text}"`;
}

/**
 * Text → integer / float / boolean parsers for Postgres text output.
 * Each parser writes into a typed array at index i and returns undefined on success, or a reason string
 * (a constant, no allocation) when the text does not parse for the type.
 */
import type { Int64Writer } from './int64-words.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const NOT_AN_INTEGER = 'not an integer';

/** Parses an optionally signed run of decimal digits of at most 15 digits; returns NaN if invalid or longer. */
function parseSmallInt(s: string): number {
  const n = s.length;
  let p = 0;
  let neg = false;
  const c0 = s.charCodeAt(0);
  if (c0 === 45 /* - */) {
    neg = true;
    p = 1;
  } else if (c0 === 43 /* + */) {
    p = 1;
  }
  if (p === n || n - p > 15) return NaN;
  let v = 0;
  for (; p < n; p++) {
    const d = s.charCodeAt(p) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

function isSignedDigits(s: string): boolean {
  const n = s.length;
  let p = 0;
  const c0 = s.charCodeAt(0);
  if (c0 === 45 || c0 === 43) p = 1;
  if (p === n) return false;
  for (; p < n; p++) {
    const d = s.charCodeAt(p) - 48;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

export function parseInt16Into(s: string, out: Int16Array, i: number): string | undefined {
  const v = parseSmallInt(s);
  if (v !== v) return isSignedDigits(s) ? 'out of range for int16' : NOT_AN_INTEGER;
  if (v < -32768 || v > 32767) return 'out of range for int16';
  out[i] = v;
  return undefined;
}

export function parseInt32Into(s: string, out: Int32Array, i: number): string | undefined {
  const v = parseSmallInt(s);
  if (v !== v) return isSignedDigits(s) ? 'out of range for int32' : NOT_AN_INTEGER;
  if (v < -2147483648 || v > 2147483647) return 'out of range for int32';
  out[i] = v;
  return undefined;
}

/** int64: exact. Up to 15 digits through integer Number math, longer through BigInt (never a rounded double). */
export function parseInt64Into(s: string, out: Int64Writer, i: number): string | undefined {
  const v = parseSmallInt(s);
  if (v === v) {
    out.setSafe(i, v);
    return undefined;
  }
  if (!isSignedDigits(s)) return NOT_AN_INTEGER;
  const b = BigInt(s);
  if (b < INT64_MIN || b > INT64_MAX) return 'out of range for int64';
  out.setBig(i, b);
  return undefined;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * Plain decimal text ([-+]digits[.digits]) with at most 15 digits, else NaN. Then the digits as an integer and the
 * power of ten are both exact doubles, so one division is the correctly rounded value (Clinger's fast path).
 */
function fastFloat(s: string): number {
  const n = s.length;
  let p = 0;
  let neg = false;
  const c0 = s.charCodeAt(0);
  if (c0 === 45) {
    neg = true;
    p = 1;
  } else if (c0 === 43) {
    p = 1;
  }
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; p < n; p++) {
    const c = s.charCodeAt(p);
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      m = m * 10 + d;
      digits++;
    } else if (c === 46 && frac < 0) {
      frac = p;
    } else {
      return NaN;
    }
  }
  if (digits === 0 || digits > 15) return NaN;
  const v = frac < 0 ? m : m / (POW10[n - 1 - frac] as number);
  return neg ? -v : v;
}

/**
 * Float text: decimal or exponent notation, 'NaN', 'Infinity', '-Infinity'. Rejects what Number() would
 * otherwise accept but is not a float literal: empty or blank text, surrounding whitespace, 0x/0o/0b prefixes.
 */
export function parseFloatText(s: string): number {
  const n = s.length;
  if (n === 0) return NaN;
  const c0 = s.charCodeAt(0);
  const cl = s.charCodeAt(n - 1);
  // First char must be a digit, sign, '.', or 'I' (Infinity); last char a digit, '.', or 'y' (Infinity).
  if (!((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43 || c0 === 46 || c0 === 73)) return NaN;
  if (!((cl >= 48 && cl <= 57) || cl === 46 || cl === 121)) return NaN;
  if (n > 1 && c0 === 48) {
    const c1 = s.charCodeAt(1) | 0x20;
    if (c1 === 120 || c1 === 111 || c1 === 98) return NaN; // 0x 0o 0b
  }
  return +s;
}

export function parseFloat64Into(s: string, out: Float64Array, i: number): string | undefined {
  const fast = fastFloat(s);
  if (fast === fast) {
    out[i] = fast;
    return undefined;
  }
  const v = parseFloatText(s);
  if (v !== v) {
    if (s !== 'NaN') return 'not a floating-point number';
  }
  out[i] = v;
  return undefined;
}

export function parseFloat32Into(s: string, out: Float32Array, i: number): string | undefined {
  const fast = fastFloat(s);
  if (fast === fast) {
    out[i] = fast;
    return undefined;
  }
  const v = parseFloatText(s);
  if (v !== v) {
    if (s !== 'NaN') return 'not a floating-point number';
  }
  out[i] = v;
  return undefined;
}

/** 1 for true, 0 for false, -1 when the text is not a boolean ('t'/'f', 'true'/'false', any case). */
export function parseBool(s: string): number {
  if (s === 't' || s === 'true') return 1;
  if (s === 'f' || s === 'false') return 0;
  const l = s.toLowerCase();
  if (l === 't' || l === 'true') return 1;
  if (l === 'f' || l === 'false') return 0;
  return -1;
}

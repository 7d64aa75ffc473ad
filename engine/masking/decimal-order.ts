/**
 * Exact ordering of numbers written as decimal text — the canonical Postgres text of int2/int4/int8, numeric and
 * float4/float8 (`-12`, `9223372036854775807`, `-0.0050`, `1.5e-07`, `1e+20`, `Infinity`, `-Infinity`) — without
 * passing through a JS double (which is exact only up to 2^53) or a BigInt (whose size an exponent could blow up).
 *
 * A finite value is kept as sign × 0.`digits` × 10^`exp` with `digits` free of leading and trailing zeros, so two
 * values compare by sign, then exponent, then digits as strings. `NaN` and anything else that is not a number give
 * `undefined`.
 */

/** A number parsed by {@link parseOrderedDecimal}; compare with {@link compareOrderedDecimal}. */
export type OrderedDecimal =
  | {
      readonly kind: 'finite';
      /** −1, 0 or 1. */
      readonly sign: -1 | 0 | 1;
      /** Significant digits without leading or trailing zeros; empty for zero. */
      readonly digits: string;
      /** Decimal exponent: the value's magnitude is 0.`digits` × 10^`exp`. */
      readonly exp: number;
    }
  | { readonly kind: 'infinite'; readonly sign: -1 | 1 };

// Exponents are limited to 9 digits so that `exp` stays an exact JS integer; Postgres never writes more than 3.
const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,9}))?$/;

/**
 * Parses decimal text: optional sign, digits with an optional fraction, optional exponent; or `Infinity`,
 * `+Infinity`, `-Infinity`. `undefined` for `NaN`, blanks, whitespace and every other string.
 */
export function parseOrderedDecimal(s: string): OrderedDecimal | undefined {
  if (s === 'Infinity' || s === '+Infinity') return { kind: 'infinite', sign: 1 };
  if (s === '-Infinity') return { kind: 'infinite', sign: -1 };
  const m = NUMBER.exec(s);
  if (m === null) return undefined;
  const [, sign = '', int = '', frac = '', e = '0'] = m;
  if (int === '' && frac === '') return undefined;
  const all = int + frac;
  let first = 0;
  while (first < all.length && all.charCodeAt(first) === 48) first++;
  if (first === all.length) return { kind: 'finite', sign: 0, digits: '', exp: 0 };
  let end = all.length;
  while (all.charCodeAt(end - 1) === 48) end--;
  return {
    kind: 'finite',
    sign: sign === '-' ? -1 : 1,
    digits: all.slice(first, end),
    exp: int.length + Number(e) - first,
  };
}

/** −1, 0 or 1 as `a` is less than, equal to or greater than `b` (exactly; `-0` equals `0`). */
export function compareOrderedDecimal(a: OrderedDecimal, b: OrderedDecimal): -1 | 0 | 1 {
  if (a.kind === 'infinite' || b.kind === 'infinite') {
    const sa = a.kind === 'infinite' ? a.sign * 2 : a.sign;
    const sb = b.kind === 'infinite' ? b.sign * 2 : b.sign;
    return sa === sb ? 0 : sa < sb ? -1 : 1;
  }
  if (a.sign !== b.sign) return a.sign < b.sign ? -1 : 1;
  if (a.sign === 0) return 0;
  let magnitude: -1 | 0 | 1;
  if (a.exp !== b.exp) magnitude = a.exp < b.exp ? -1 : 1;
  else magnitude = a.digits === b.digits ? 0 : a.digits < b.digits ? -1 : 1;
  return a.sign === 1 ? magnitude : ((-magnitude || 0) as -1 | 0 | 1);
}

/**
 * Exact and floating-point number keys.
 *
 * Integer and decimal columns (and number literals compared with them) are read as an integer scaled by 10^scale,
 * where the scale is fixed once per comparison at compile time (the largest of the column scale and the literal
 * scales), so `12.50` and `12.5` both become 1250 at scale 2. The scaled integer is a JS number when it has at most
 * 15 digits (always exact) and a canonical BigInt otherwise — never a double approximation — so `<`/`>` between keys
 * is exact whatever their representation. Float columns are read with JS `Number`, like Postgres's float8.
 *
 * NaN follows Postgres: NaN equals NaN and is greater than every other value, Infinity included.
 */

/** An exact scaled integer, or a float; see the module comment. */
export type NumericKey = number | bigint;

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A BigInt as a number when that is exact, so equal values always have the same representation. */
export function canonicalBigInt(b: bigint): NumericKey {
  return b >= MIN_SAFE && b <= MAX_SAFE ? Number(b) : b;
}

/** Fraction digits of an exact number text (`12.50` → 2). */
export function scaleOfText(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * Reads `-?digits[.digits]` as value × 10^scale. Null when the text is not such a number, or when it has non-zero
 * fraction digits beyond `typeScale` (the column type's own scale, at most `scale`; the value then does not belong
 * to the type). Allocation-free below 16 digits.
 */
export function readScaled(text: string, scale: number, typeScale = scale): NumericKey | null {
  const len = text.length;
  const neg = text.charCodeAt(0) === 0x2d;
  const start = neg ? 1 : 0;
  let dot = -1;
  for (let i = start; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (dot >= 0) return null;
      dot = i;
    } else if (c < 0x30 || c > 0x39) return null;
  }
  if (len === start || dot === start || dot === len - 1) return null;
  let frac = dot < 0 ? 0 : len - dot - 1;
  for (let i = dot + 1 + Math.min(scale, typeScale); dot >= 0 && i < len; i++) {
    if (text.charCodeAt(i) !== 0x30) return null;
  }
  const end = frac > scale ? len - (frac - scale) : len;
  frac = Math.min(frac, scale);
  const intEnd = dot < 0 ? end : dot;
  const pad = scale - frac;
  const digitCount = intEnd - start + frac + pad;
  if (digitCount <= 15) {
    let n = 0;
    for (let i = start; i < intEnd; i++) n = n * 10 + (text.charCodeAt(i) - 0x30);
    for (let i = intEnd + 1; i < end; i++) n = n * 10 + (text.charCodeAt(i) - 0x30);
    n *= POW10[pad] as number;
    return neg && n !== 0 ? -n : n;
  }
  const digits = text.slice(start, intEnd) + (frac > 0 ? text.slice(intEnd + 1, end) : '');
  const b = BigInt(digits) * 10n ** BigInt(pad);
  return canonicalBigInt(neg ? -b : b);
}

/** As {@link readScaled}, plus numeric's `NaN`, `Infinity` and `-Infinity` (ordered as Postgres orders them). */
export function readScaledDecimal(text: string, scale: number, typeScale = scale): NumericKey | null {
  if (text === 'NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  return readScaled(text, scale, typeScale);
}

const FLOAT_TEXT = /^-?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|Infinity)$|^NaN$/;

/** Reads a float8/float4 text (`1.5`, `-1e+100`, `NaN`, `Infinity`, `-Infinity`) as a JS number. */
export function readFloat(text: string): number | null {
  return FLOAT_TEXT.test(text) ? Number(text) : null;
}

/** Orders two numeric keys exactly; NaN equals NaN and is above everything else. */
export function compareNumeric(a: NumericKey, b: NumericKey): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an !== bn) return an ? 1 : -1;
  return 0;
}

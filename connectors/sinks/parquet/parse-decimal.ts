/**
 * Exact decimal text → Decimal128 (128-bit two's complement, little-endian 32-bit words) scaled by `scale`.
 * No floating point: digits accumulate into eight 16-bit limbs, 9 digits at a time (limb·10^9 + carry < 2^53).
 */

const LIMBS = 8;
const limbs = new Float64Array(LIMBS);
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

function mulAdd(m: number, a: number): void {
  let carry = a;
  for (let j = 0; j < LIMBS; j++) {
    const t = (limbs[j] as number) * m + carry;
    const hi = Math.floor(t / 65536);
    limbs[j] = t - hi * 65536;
    carry = hi;
  }
}

/** Feeds decimal digits s[from, to) into the limbs. */
function feedDigits(s: string, from: number, to: number): void {
  let chunk = 0;
  let k = 0;
  for (let p = from; p < to; p++) {
    chunk = chunk * 10 + (s.charCodeAt(p) - 48);
    if (++k === 9) {
      mulAdd(1e9, chunk);
      chunk = 0;
      k = 0;
    }
  }
  if (k > 0) mulAdd(POW10[k] as number, chunk);
}

function feedZeros(count: number): void {
  while (count > 0) {
    const k = count > 9 ? 9 : count;
    mulAdd(POW10[k] as number, 0);
    count -= k;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Parses `s` (e.g. '-1234.5600') as a decimal(precision, scale) and writes the scaled integer to
 * out[4*i .. 4*i+3]. Returns undefined on success or the reason it cannot be represented.
 */
export function parseDecimalInto(
  s: string,
  precision: number,
  scale: number,
  out: Uint32Array,
  i: number,
): string | undefined {
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
  const intStart = p;
  while (p < n && isDigit(s.charCodeAt(p))) p++;
  const intEnd = p;
  let fracStart = p;
  let fracEnd = p;
  if (p < n && s.charCodeAt(p) === 46 /* . */) {
    p++;
    fracStart = p;
    while (p < n && isDigit(s.charCodeAt(p))) p++;
    fracEnd = p;
  }
  if (p !== n || (intEnd === intStart && fracEnd === fracStart)) {
    if (s === 'NaN' || s === 'Infinity' || s === '-Infinity' || s === '+Infinity') {
      return `numeric ${s} has no Parquet DECIMAL value`;
    }
    return 'not a decimal number';
  }
  let is = intStart;
  while (is < intEnd && s.charCodeAt(is) === 48) is++;
  if (intEnd - is > precision - scale) return `out of range for decimal(${precision},${scale})`;
  let fracUsed = fracEnd - fracStart;
  if (fracUsed > scale) {
    for (let q = fracStart + scale; q < fracEnd; q++) {
      if (s.charCodeAt(q) !== 48) return `more than ${scale} fractional digits for decimal(${precision},${scale})`;
    }
    fracUsed = scale;
  }

  const totalDigits = intEnd - is + scale;
  const base = 4 * i;
  if (totalDigits <= 15) {
    // Fast path: the scaled value is < 10^15 < 2^53, exact in a double.
    let v = 0;
    for (let q = is; q < intEnd; q++) v = v * 10 + (s.charCodeAt(q) - 48);
    const fracTo = fracStart + fracUsed;
    for (let q = fracStart; q < fracTo; q++) v = v * 10 + (s.charCodeAt(q) - 48);
    for (let z = fracUsed; z < scale; z++) v *= 10;
    if (neg) v = -v;
    const hi = Math.floor(v / 4294967296);
    out[base] = v - hi * 4294967296;
    out[base + 1] = hi;
    const ext = v < 0 ? 0xffffffff : 0;
    out[base + 2] = ext;
    out[base + 3] = ext;
    return undefined;
  }

  limbs.fill(0);
  feedDigits(s, is, intEnd);
  feedDigits(s, fracStart, fracStart + fracUsed);
  feedZeros(scale - fracUsed);
  if (neg) {
    // Two's complement: invert every limb, add one.
    let carry = 1;
    for (let j = 0; j < LIMBS; j++) {
      const t = 65535 - (limbs[j] as number) + carry;
      limbs[j] = t & 0xffff;
      carry = t >>> 16;
    }
  }
  for (let w = 0; w < 4; w++) {
    out[base + w] = (limbs[2 * w] as number) + (limbs[2 * w + 1] as number) * 65536;
  }
  return undefined;
}

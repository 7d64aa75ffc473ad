/**
 * Exact text for values read back from Arrow buffers: epoch integers → ISO-8601 (with every fractional digit the
 * unit carries), Decimal words → decimal strings, bytes → hex. No JS Date, no doubles.
 */

const UNIT_DIGITS = [0, 3, 6, 9]; // Arrow TimeUnit: SECOND, MILLISECOND, MICROSECOND, NANOSECOND

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

/** Inverse of daysFromCivil (H. Hinnant's civil_from_days). */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: era * 400 + yoe + (month <= 2 ? 1 : 0), month, day };
}

export function formatDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  const y = year < 0 ? `-${pad(-year, 4)}` : pad(year, 4);
  return `${y}-${pad(month, 2)}-${pad(day, 2)}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** A time of day `value` in `unit` (Arrow TimeUnit) since midnight → 'HH:MM:SS[.f…]'. */
export function formatTimeOfDay(value: bigint, unit: number): string {
  const digits = UNIT_DIGITS[unit] ?? 0;
  const perSecond = 10n ** BigInt(digits);
  const seconds = Number(value / perSecond);
  const frac = value % perSecond;
  const hms = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  return digits === 0 ? hms : `${hms}.${pad(frac, digits)}`;
}

/** An epoch `value` in `unit` → 'YYYY-MM-DDTHH:MM:SS[.f…]' plus 'Z' when the value is a UTC instant. */
export function formatTimestamp(value: bigint, unit: number, utc: boolean): string {
  const digits = UNIT_DIGITS[unit] ?? 0;
  const perDay = 86400n * 10n ** BigInt(digits);
  const days = floorDiv(value, perDay);
  const ofDay = value - days * perDay;
  return `${formatDate(Number(days))}T${formatTimeOfDay(ofDay, unit)}${utc ? 'Z' : ''}`;
}

/** Little-endian two's complement 32-bit words → bigint. */
export function wordsToBigInt(words: Uint32Array): bigint {
  let v = 0n;
  for (let k = words.length - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[k] as number);
  const bits = BigInt(words.length * 32);
  return (words[words.length - 1] as number) & 0x80000000 ? v - (1n << bits) : v;
}

/** A scaled integer → exact decimal text ('-12.3400' for -123400 at scale 4). */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString();
  if (scale <= 0) return (neg ? '-' : '') + digits + '0'.repeat(-scale);
  const padded = digits.padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

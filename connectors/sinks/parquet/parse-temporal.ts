/**
 * Postgres ISO text (DateStyle=ISO, TimeZone=UTC) → date / time / timestamp integers, exact to the microsecond.
 * Parsers return undefined on success or a reason string; results are written into the caller's typed arrays.
 * A small cursor (module state, synchronous use only) avoids allocating per value.
 */
import { daysFromCivil, daysInMonth } from '../../../engine/calendar.ts';
import type { Int64Writer } from './int64-words.ts';

/** |seconds| below this keep seconds·10^6 + µs under 2^53. */
const SAFE_SECONDS = 9_000_000_000;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

let pos = 0;
let days = 0;
let microsOfDay = 0;
let offsetSeconds = 0;

const BAD_DATE = 'not a date (YYYY-MM-DD)';
const BAD_TIME = 'not a time (HH:MM:SS[.ffffff])';
const BAD_TIMESTAMP = 'not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff])';

function digitsAt(s: string, p: number, count: number): number {
  let v = 0;
  for (let q = p; q < p + count; q++) {
    const d = s.charCodeAt(q) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

export { daysFromCivil };

/** YYYY-MM-DD (year ≥ 4 digits) at pos → days; advances pos. Returns a reason on failure. */
function readDate(s: string): string | undefined {
  const n = s.length;
  let p = pos;
  let year = 0;
  const y0 = p;
  while (p < n) {
    const d = s.charCodeAt(p) - 48;
    if (!(d >= 0 && d <= 9)) break;
    year = year * 10 + d;
    p++;
  }
  if (p - y0 < 4 || p - y0 > 7 || s.charCodeAt(p) !== 45 || s.charCodeAt(p + 3) !== 45) return BAD_DATE;
  const month = digitsAt(s, p + 1, 2);
  const day = digitsAt(s, p + 4, 2);
  if (month < 1 || month > 12 || day < 1) return BAD_DATE;
  if (bcEra) {
    if (year === 0) return BAD_DATE;
    year = 1 - year; // 1 BC is astronomical year 0 (proleptic Gregorian, as Postgres and Parquet count)
  }
  const dim = daysInMonth(year, month);
  if (day > dim) return 'day out of range for month';
  days = daysFromCivil(year, month, day);
  pos = p + 6;
  return undefined;
}

/** HH:MM:SS[.f{1,6}] at pos → microsOfDay; advances pos. allow24 admits exactly 24:00:00 (Postgres time). */
function readTime(s: string, allow24: boolean): string | undefined {
  const p = pos;
  if (s.charCodeAt(p + 2) !== 58 || s.charCodeAt(p + 5) !== 58) return BAD_TIME;
  const hh = digitsAt(s, p, 2);
  const mm = digitsAt(s, p + 3, 2);
  const ss = digitsAt(s, p + 6, 2);
  if (hh < 0 || mm < 0 || ss < 0 || mm > 59 || ss > 59 || hh > 24) return BAD_TIME;
  let q = p + 8;
  let frac = 0;
  if (q < s.length && s.charCodeAt(q) === 46) {
    q++;
    let k = 0;
    const n = s.length;
    while (q < n) {
      const d = s.charCodeAt(q) - 48;
      if (!(d >= 0 && d <= 9)) break;
      if (k < 6) frac = frac * 10 + d;
      else if (d !== 0) return 'sub-microsecond precision';
      k++;
      q++;
    }
    if (k === 0) return BAD_TIME;
    for (; k < 6; k++) frac *= 10;
  }
  if (hh === 24 && (!allow24 || mm !== 0 || ss !== 0 || frac !== 0)) return BAD_TIME;
  microsOfDay = ((hh * 60 + mm) * 60 + ss) * 1_000_000 + frac;
  pos = q;
  return undefined;
}

/** Optional zone suffix at pos: Z, ±HH, ±HH:MM, ±HH:MM:SS, ±HHMM → offsetSeconds (east of UTC positive). */
function readOffset(s: string): string | undefined {
  offsetSeconds = 0;
  const n = s.length;
  if (pos >= n) return undefined;
  const c = s.charCodeAt(pos);
  if (c === 90 /* Z */) {
    pos++;
    return undefined;
  }
  if (c !== 43 && c !== 45) return undefined;
  const sign = c === 45 ? -1 : 1;
  const hh = digitsAt(s, pos + 1, 2);
  if (hh < 0 || pos + 3 > n) return 'bad UTC offset';
  let p = pos + 3;
  let mm = 0;
  let ss = 0;
  if (p < n && s.charCodeAt(p) === 58) {
    mm = digitsAt(s, p + 1, 2);
    p += 3;
    if (mm >= 0 && p < n && s.charCodeAt(p) === 58) {
      ss = digitsAt(s, p + 1, 2);
      p += 3;
    }
  } else if (p + 2 <= n && s.charCodeAt(p) >= 48 && s.charCodeAt(p) <= 57) {
    mm = digitsAt(s, p, 2);
    p += 2;
  }
  if (mm < 0 || ss < 0 || mm > 59 || ss > 59 || p > n) return 'bad UTC offset';
  offsetSeconds = sign * (hh * 3600 + mm * 60 + ss);
  pos = p;
  return undefined;
}

function specialReason(s: string): string | undefined {
  if (s === 'infinity' || s === '-infinity') return `${s} has no Parquet value`;
  return undefined;
}

/** True while parsing a value with Postgres's ' BC' era suffix. */
let bcEra = false;

/** Strips a ' BC' era suffix (Postgres text output for dates before year 1) and remembers it. */
function era(s: string): string {
  bcEra = s.endsWith(' BC');
  return bcEra ? s.slice(0, -3) : s;
}

/** 'YYYY-MM-DD' (optionally ' BC') → days since the epoch. */
export function parseDateInto(text: string, out: Int32Array, i: number): string | undefined {
  const s = era(text);
  pos = 0;
  const err = readDate(s);
  if (err !== undefined || pos !== s.length) return specialReason(s) ?? err ?? BAD_DATE;
  if (days < -2147483648 || days > 2147483647) return 'out of range for a 32-bit day count';
  out[i] = days;
  return undefined;
}

/** 'HH:MM:SS[.ffffff]' → µs since midnight (24:00:00 allowed). */
export function parseTimeInto(s: string, out: Int64Writer, i: number): string | undefined {
  pos = 0;
  const err = readTime(s, true);
  if (err !== undefined) return err;
  if (pos !== s.length) return BAD_TIME;
  out.setSafe(i, microsOfDay);
  return undefined;
}

/**
 * 'YYYY-MM-DD HH:MM:SS[.ffffff]' ('T' separator accepted) → µs since the epoch.
 * withZone: an offset suffix is accepted (none means UTC) and the value is converted to UTC;
 * without: an offset suffix is an error (a local timestamp has none).
 */
export function parseTimestampInto(text: string, withZone: boolean, out: Int64Writer, i: number): string | undefined {
  const s = era(text);
  pos = 0;
  let err = readDate(s);
  if (err !== undefined) return specialReason(s) ?? err;
  const sep = s.charCodeAt(pos);
  if (sep !== 32 && sep !== 84 /* T */) return specialReason(s) ?? BAD_TIMESTAMP;
  pos++;
  err = readTime(s, false);
  if (err !== undefined) return err === BAD_TIME ? BAD_TIMESTAMP : err;
  if (withZone) {
    err = readOffset(s);
    if (err !== undefined) return err;
  } else {
    offsetSeconds = 0;
    const c = s.charCodeAt(pos);
    if (c === 43 || c === 45 || c === 90) return 'UTC offset on a timestamp without time zone';
  }
  if (pos !== s.length) return specialReason(s) ?? BAD_TIMESTAMP;
  const seconds = days * 86400 + Math.floor(microsOfDay / 1_000_000) - offsetSeconds;
  const micros = microsOfDay % 1_000_000;
  if (seconds > -SAFE_SECONDS && seconds < SAFE_SECONDS) {
    out.setSafe(i, seconds * 1_000_000 + micros);
  } else {
    const v = BigInt(seconds) * 1_000_000n + BigInt(micros);
    if (v < INT64_MIN || v > INT64_MAX) return 'out of range for a µs timestamp since 1970';
    out.setBig(i, v);
  }
  return undefined;
}

/**
 * Dates, timestamps and times as Postgres prints them (DateStyle=ISO, TimeZone=UTC), turned into exact comparable
 * keys: microseconds since 1970-01-01 00:00:00 UTC for dates and timestamps, microseconds since midnight for times.
 *
 * Accepted text (row values and filter literals alike):
 * - date: `YYYY-MM-DD` (four or more year digits), optional ` BC`; or `infinity` / `-infinity`.
 * - timestamp: a date, optionally followed by ` HH:MM:SS[.f…]` (1–6 fraction digits) and then an optional zone
 *   `Z` / `±HH` / `±HH:MM` / `±HH:MM:SS`, then the optional ` BC` (Postgres prints it last:
 *   `0044-03-15 12:00:00+00 BC`); or `infinity` / `-infinity`.
 * - time: `HH:MM:SS[.f…]`, `24:00:00` allowed.
 *
 * Calendar dates are checked (proleptic Gregorian, like Postgres): `2024-02-30` is refused. BC years are counted as
 * Postgres does, 1 BC being astronomical year 0, so every BC instant sorts before every AD one and BC years run
 * backwards. Keys are canonical: a JS number when it is a safe integer, a BigInt beyond that (±285 years around
 * 1970 fit a number), and ±Infinity for the infinities — so `<`/`>` between keys is always exact.
 */
import { daysFromCivil, daysInMonth } from '../../calendar.ts';

/** An exact instant or duration in µs; see the module comment for the number/BigInt rule. */
export type Micros = number | bigint;

const US_PER_SEC = 1_000_000;
const SAFE_SECONDS = 9_000_000_000; // |s| below this: s * 1e6 + 999999 is still a safe integer

// Scratch results of the last scan, so that reading a row value allocates nothing.
let days = 0;
let secOfDay = 0;
let fraction = 0; // µs
let offsetSec = 0;
let hasOffset = false;
let infinite = 0;
let pos = 0;

function num(s: string, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = s.charCodeAt(pos + k) - 0x30;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  pos += n;
  return v;
}

export { daysFromCivil };

function scanDate(s: string): string {
  const y0 = pos;
  while (pos - y0 < 8 && s.charCodeAt(pos) >= 0x30 && s.charCodeAt(pos) <= 0x39) pos++;
  const yDigits = pos - y0;
  if (yDigits < 4 || yDigits > 7) return 'format';
  pos = y0;
  const year = num(s, yDigits);
  if (s[pos++] !== '-') return 'format';
  const month = num(s, 2);
  if (month < 0 || s[pos++] !== '-') return 'format';
  const day = num(s, 2);
  if (day < 0) return 'format';
  if (year === 0) return 'there is no year 0 (1 BC is followed by 1 AD)';
  if (month < 1 || month > 12) return `there is no month ${String(month).padStart(2, '0')}`;
  // Remember the calendar fields; BC changes the year, so days are computed once the suffix is known.
  days = year * 10000 + month * 100 + day;
  return '';
}

function finishDate(bc: boolean): string {
  const year = Math.floor(days / 10000);
  const month = Math.floor(days / 100) % 100;
  const day = days % 100;
  const astro = bc ? 1 - year : year;
  const dim = daysInMonth(astro, month);
  if (day < 1 || day > dim) {
    return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}${bc ? ' BC' : ''} has ${dim} days`;
  }
  days = daysFromCivil(astro, month, day);
  return '';
}

function scanClock(s: string, allow24: boolean): string {
  const h = num(s, 2);
  if (h < 0 || s[pos++] !== ':') return 'format';
  const m = num(s, 2);
  if (m < 0 || s[pos++] !== ':') return 'format';
  const sec = num(s, 2);
  if (sec < 0) return 'format';
  fraction = 0;
  if (s[pos] === '.') {
    pos++;
    const f0 = pos;
    while (pos - f0 < 7 && s.charCodeAt(pos) >= 0x30 && s.charCodeAt(pos) <= 0x39) pos++;
    const n = pos - f0;
    if (n === 0) return 'format';
    if (n > 6) return 'at most 6 fraction digits (microseconds)';
    pos = f0;
    fraction = num(s, n) * 10 ** (6 - n);
  }
  if (m > 59) return `minute ${m} is out of range`;
  if (sec > 59) return `second ${sec} is out of range`;
  if (h > 23 && !(allow24 && h === 24 && m === 0 && sec === 0 && fraction === 0)) return `hour ${h} is out of range`;
  secOfDay = h * 3600 + m * 60 + sec;
  return '';
}

function scanOffset(s: string): string {
  hasOffset = false;
  offsetSec = 0;
  const c = s[pos];
  if (c === 'Z') {
    pos++;
    hasOffset = true;
    return '';
  }
  if (c !== '+' && c !== '-') return '';
  pos++;
  const h = num(s, 2);
  if (h < 0) return 'format';
  let m = 0;
  let sec = 0;
  if (s[pos] === ':') {
    pos++;
    m = num(s, 2);
    if (m < 0) return 'format';
    if (s[pos] === ':') {
      pos++;
      sec = num(s, 2);
      if (sec < 0) return 'format';
    }
  }
  if (h > 15 || m > 59 || sec > 59) return 'time zone offset is out of range (at most ±15:59)';
  offsetSec = (c === '-' ? -1 : 1) * (h * 3600 + m * 60 + sec);
  hasOffset = true;
  return '';
}

function scanDateTime(s: string, withTime: boolean): string {
  pos = 0;
  hasOffset = false;
  secOfDay = 0;
  fraction = 0;
  offsetSec = 0;
  infinite = 0;
  if (s === 'infinity' || s === '-infinity') {
    infinite = s === 'infinity' ? 1 : -1;
    return '';
  }
  let r = scanDate(s);
  if (r) return r;
  if (withTime && s[pos] === ' ' && s[pos + 1] !== 'B') {
    pos++;
    r = scanClock(s, false) || scanOffset(s);
    if (r) return r;
  }
  let bc = false;
  if (s.startsWith(' BC', pos)) {
    bc = true;
    pos += 3;
  }
  if (pos !== s.length) return 'format';
  return finishDate(bc);
}

function toMicros(): Micros {
  if (infinite) return infinite * Infinity;
  const sec = days * 86400 + secOfDay - offsetSec;
  if (Math.abs(sec) < SAFE_SECONDS) return sec * US_PER_SEC + fraction;
  const big = BigInt(sec) * 1_000_000n + BigInt(fraction);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** A scan outcome for literals: the key, whether a zone offset was written, or the reason it is not valid. */
export type TemporalParse = { ok: true; micros: Micros; hasOffset: boolean } | { ok: false; reason: string };

const FORMAT = {
  date: "expected 'YYYY-MM-DD'",
  timestamp: "expected 'YYYY-MM-DD HH:MM:SS[.ffffff][Z|±HH[:MM]]'",
  time: "expected 'HH:MM:SS[.ffffff]'",
};

/** Parses a date (`YYYY-MM-DD[ BC]`, `±infinity`) to µs at its UTC midnight. */
export function parseDate(text: string): TemporalParse {
  const r = scanDateTime(text, false);
  return r
    ? { ok: false, reason: r === 'format' ? FORMAT.date : r }
    : { ok: true, micros: toMicros(), hasOffset: false };
}

/** Parses a timestamp (a date alone means midnight); the offset, if any, is applied: the key is UTC µs. */
export function parseTimestamp(text: string): TemporalParse {
  const r = scanDateTime(text, true);
  if (r) return { ok: false, reason: r === 'format' ? FORMAT.timestamp : r };
  return { ok: true, micros: toMicros(), hasOffset };
}

/** Parses a time of day to µs since midnight. */
export function parseTime(text: string): TemporalParse {
  pos = 0;
  const r = scanClock(text, true) || (pos === text.length ? '' : 'format');
  if (r) return { ok: false, reason: r === 'format' ? FORMAT.time : r };
  return { ok: true, micros: secOfDay * US_PER_SEC + fraction, hasOffset: false };
}

/** Row reader for a `date` column: key, or null when the text is not a date. Allocation-free. */
export function readDate(text: string): Micros | null {
  return scanDateTime(text, false) ? null : toMicros();
}

/**
 * Row reader for a `timestamp` column. With `zoned` (timestamptz) the offset is applied and a missing one means UTC;
 * without, a value carrying an offset is not a valid local timestamp and reads as null.
 */
export function readTimestamp(text: string, zoned: boolean): Micros | null {
  if (scanDateTime(text, true)) return null;
  if (hasOffset && !zoned) return null;
  return toMicros();
}

/** Row reader for a `time` column. */
export function readTime(text: string): number | null {
  pos = 0;
  return scanClock(text, true) || pos !== text.length ? null : secOfDay * US_PER_SEC + fraction;
}

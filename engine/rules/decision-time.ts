/**
 * RFC 3339 instants as the authorization decision compares them (decision.ts, definition D3): an exact integer count
 * of microseconds since 1970-01-01T00:00:00Z, computed with integer arithmetic only — no `Date`, no regular expression,
 * no floating point — so that a smart contract can do the same cheaply and agree to the microsecond.
 *
 * Accepted: `YYYY-MM-DD`, a separator `T`, `t` or one space, `hh:mm:ss`, optionally `.` and one or more digits, then
 * `Z`, `z` or `+hh:mm` / `-hh:mm`. Years 0000–9999 of the proleptic Gregorian calendar; the day must exist in its
 * month; hours 00–23, minutes 00–59, seconds 00–59, or 60 when the UTC time is 23:59 (a leap second, counted as the
 * following 00:00:00); offset hours 00–23 and minutes 00–59 (`-00:00` is UTC). Fraction digits beyond the sixth are
 * ignored (truncated toward the earlier instant). Anything else is not an instant.
 */
import { daysFromCivil, daysInMonth } from '../calendar.ts';

const ZERO = 48; // '0'

/** The value of `n` ASCII digits of `s` from `at`, or -1 when one of them is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Whether `y` is a leap year of the proleptic Gregorian calendar. */
export { daysFromCivil };

/**
 * The instant `s` names, as microseconds since 1970-01-01T00:00:00Z (negative before), or `undefined` when `s` is
 * not an RFC 3339 date-time in the accepted form (see the module comment).
 */
export function parseInstant(s: string): bigint | undefined {
  if (typeof s !== 'string' || s.length < 20) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (s[4] !== '-' || s[7] !== '-' || s[13] !== ':' || s[16] !== ':') return undefined;
  if (s[10] !== 'T' && s[10] !== 't' && s[10] !== ' ') return undefined;
  if (year < 0 || month < 1 || month > 12 || day < 1) return undefined;
  const monthDays = daysInMonth(year, month);
  if (day > monthDays || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return undefined;
  }
  let i = 19;
  let micros = 0;
  if (s[i] === '.') {
    i++;
    const start = i;
    while (i < s.length) {
      const d = s.charCodeAt(i) - ZERO;
      if (!(d >= 0 && d <= 9)) break;
      if (i - start < 6) micros = micros * 10 + d;
      i++;
    }
    const n = i - start;
    if (n === 0) return undefined;
    for (let k = n; k < 6; k++) micros *= 10;
  }
  let offsetMinutes = 0;
  if (s[i] === 'Z' || s[i] === 'z') {
    i++;
  } else if (s[i] === '+' || s[i] === '-') {
    const sign = s[i] === '-' ? -1 : 1;
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (s[i + 3] !== ':' || oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
    i += 6;
  } else {
    return undefined;
  }
  if (i !== s.length) return undefined;
  if (second === 60) {
    const utcMinuteOfDay = (((hour * 60 + minute - offsetMinutes) % 1440) + 1440) % 1440;
    if (utcMinuteOfDay !== 1439) return undefined;
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return BigInt(seconds) * 1_000_000n + BigInt(micros);
}

/** Whether `s` is an instant {@link parseInstant} accepts. */
export function isInstant(s: string): boolean {
  return parseInstant(s) !== undefined;
}

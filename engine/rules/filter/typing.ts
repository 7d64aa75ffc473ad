/**
 * The type rules of the filter language, shared by the checker (which reports violations) and the compiler (which
 * turns values into keys the same way), so the two can never disagree.
 *
 * | field type                       | compares with                                                          |
 * | -------------------------------- | ---------------------------------------------------------------------- |
 * | int16/32/64, decimal, float32/64 | number literals; any numeric field                                     |
 * | utf8 (not json)                  | string literals; utf8 fields; also `like`                              |
 * | bool                             | TRUE/FALSE; bool fields; may stand alone (`active`, `not active`)      |
 * | date                             | DATE literals, date strings; date and timestamp fields                 |
 * | timestamp / timestamptz          | DATE (midnight) and TIMESTAMP literals, such strings; date fields;     |
 * |                                  | timestamp fields of the same kind (with or without zone)               |
 * | time                             | a string literal `'HH:MM:SS[.ffffff]'`; time fields                    |
 * | binary, list, json utf8          | nothing: only `is [not] null`                                          |
 *
 * String literals against date/timestamp/time fields are read as a literal of the field's type and must parse as one
 * (there is no TIME keyword, so this is how times are written). A literal with a zone offset cannot be compared with a
 * `timestamp` (no zone) field; a literal without one, against `timestamptz`, means UTC. Between exact types (ints,
 * decimal) comparison is exact; when a float is involved both sides are read as doubles, as Postgres casts to float8.
 */

import { columnTypeName, type ColumnType } from '../../../schemas/column-type.ts';
import type { FieldRef, Literal } from './ast.ts';
import { compareCodePoints } from './collation.ts';
import { compareNumeric, readFloat, readScaled, readScaledDecimal, scaleOfText, type NumericKey } from './numeric.ts';
import { parseDate, parseTime, parseTimestamp, readDate, readTime, readTimestamp } from './temporal.ts';

/** A comparable value: exact or float numbers, µs, or text. */
export type Key = NumericKey | string;

/** Which comparison rules a column type follows. `opaque` types support only `is [not] null`. */
export type Family = 'exact' | 'float' | 'text' | 'bool' | 'temporal' | 'time' | 'opaque';

/** The comparison family of a column type. */
export function familyOf(t: ColumnType): Family {
  switch (t.kind) {
    case 'int16':
    case 'int32':
    case 'int64':
    case 'decimal':
      return 'exact';
    case 'float32':
    case 'float64':
      return 'float';
    case 'utf8':
      return t.json ? 'opaque' : 'text';
    case 'bool':
      return 'bool';
    case 'date':
    case 'timestamp':
      return 'temporal';
    case 'time':
      return 'time';
    default:
      return 'opaque';
  }
}

const shorten = (s: string): string => {
  const cps = Array.from(s);
  return cps.length > 40 ? cps.slice(0, 39).join('') + '…' : s;
};
const quoted = (s: string): string => `'${shorten(s).replace(/'/g, "''")}'`;

/** `decimal(12,2) field "amount"` */
export function describeField(f: FieldRef, t: ColumnType): string {
  return `${columnTypeName(t)} field "${f.name}"`;
}

/** `a string literal '5x'`, `the number 500`, `a DATE literal '2024-01-01'`, `the boolean true` */
export function describeLiteral(lit: Literal): string {
  switch (lit.kind) {
    case 'number':
      return `the number ${lit.text}`;
    case 'string':
      return `a string literal ${quoted(lit.value)}`;
    case 'date':
      return `a DATE literal ${quoted(lit.value)}`;
    case 'timestamp':
      return `a TIMESTAMP literal ${quoted(lit.value)}`;
    case 'bool':
      return `the boolean ${lit.value}`;
  }
}

/** Why `field` (of type `type`) supports nothing but `is [not] null`. */
export function opaqueProblem(field: FieldRef, type: ColumnType): string {
  return `${describeField(field, type)} supports only "is null" and "is not null"`;
}

/** Why `lit` cannot be compared with `field`, or null when it can. */
export function literalProblem(field: FieldRef, type: ColumnType, lit: Literal): string | null {
  const what = `cannot compare ${describeField(field, type)} with ${describeLiteral(lit)}`;
  switch (familyOf(type)) {
    case 'opaque':
      return opaqueProblem(field, type);
    case 'exact':
    case 'float':
      if (lit.kind === 'number') return null;
      return lit.kind === 'string' && /^-?\d+(\.\d+)?$/.test(lit.value)
        ? `${what} (write numbers without quotes)`
        : what;
    case 'text':
      if (lit.kind === 'string') return null;
      return lit.kind === 'number' ? `${what} (to compare as text, write '${lit.text}')` : what;
    case 'bool':
      return lit.kind === 'bool' ? null : `${what} (write true or false)`;
    case 'time': {
      if (lit.kind !== 'string') return `${what} (write a time as a string, e.g. '08:30:00')`;
      const r = parseTime(lit.value);
      return r.ok ? null : `${what}: ${r.reason}`;
    }
    case 'temporal':
      break;
  }
  if (type.kind === 'date') {
    if (lit.kind === 'date') return null;
    if (lit.kind === 'string') {
      const r = parseDate(lit.value);
      return r.ok ? null : `${what}: ${r.reason}`;
    }
    return lit.kind === 'timestamp' ? `${what} (use a DATE literal)` : `${what} (write DATE 'YYYY-MM-DD')`;
  }
  if (lit.kind === 'date') return null;
  if (lit.kind !== 'string' && lit.kind !== 'timestamp') return `${what} (write TIMESTAMP 'YYYY-MM-DD HH:MM:SS')`;
  const r = parseTimestamp(lit.value);
  if (!r.ok) return `${what}: ${r.reason}`;
  if (r.hasOffset && type.kind === 'timestamp' && type.tz === null) {
    return `${what}: the field has no time zone, so the literal must not have an offset`;
  }
  return null;
}

/** Why fields `a` and `b` cannot be compared, or null when they can. */
export function fieldsProblem(a: FieldRef, ta: ColumnType, b: FieldRef, tb: ColumnType): string | null {
  const fa = familyOf(ta);
  const fb = familyOf(tb);
  const numeric = (f: Family): boolean => f === 'exact' || f === 'float';
  if (numeric(fa) && numeric(fb)) return null;
  const what = `cannot compare ${describeField(a, ta)} with ${describeField(b, tb)}`;
  if (fa !== fb) return what;
  if (ta.kind === 'timestamp' && tb.kind === 'timestamp' && ta.tz !== tb.tz) return what;
  return null;
}

/** How to turn row text and literals into keys for one comparison, and how to order the keys. */
export interface Plan {
  /** Keys are strings ordered by code point (else numbers/BigInts ordered by {@link compareNumeric}). */
  readonly textual: boolean;
  readonly compare: (a: Key, b: Key) => number;
  /** Row text of a field of type `t` → key; null when the text does not parse for the type. */
  read(t: ColumnType): (text: string) => Key | null;
  /** A literal (that passed {@link literalProblem} for a field of type `t`) → key. */
  literal(lit: Literal, t: ColumnType): Key;
}

const readBool = (s: string): Key | null => (s === 't' || s === 'true' ? 1 : s === 'f' || s === 'false' ? 0 : null);
const identity = (s: string): Key => s;
const compareText = (a: Key, b: Key): number => compareCodePoints(a as string, b as string);
const compareKeys = compareNumeric as (a: Key, b: Key) => number;

function micros(r: ReturnType<typeof parseDate>): NumericKey {
  if (!r.ok) throw new Error(`filter literal not checked: ${r.reason}`);
  return r.micros;
}

/**
 * The plan for comparing fields of the given types with each other and/or with the given literals. Types and
 * literals must have passed {@link literalProblem} / {@link fieldsProblem}.
 */
export function planFor(types: readonly ColumnType[], literals: readonly Literal[]): Plan {
  const families = types.map(familyOf);
  const family = families.includes('float') ? 'float' : (families[0] as Family);
  const numeric = (read: Plan['read'], literal: Plan['literal']): Plan => ({
    textual: false,
    compare: compareKeys,
    read,
    literal,
  });
  switch (family) {
    case 'exact': {
      let scale = 0;
      for (const t of types) if (t.kind === 'decimal') scale = Math.max(scale, t.scale);
      for (const l of literals) if (l.kind === 'number') scale = Math.max(scale, scaleOfText(l.text));
      return numeric(
        (t) => (t.kind === 'decimal' ? (s) => readScaledDecimal(s, scale, t.scale) : (s) => readScaled(s, scale, 0)),
        (l) => {
          const k = l.kind === 'number' ? readScaled(l.text, scale) : null;
          if (k === null) throw new Error('filter literal not checked: expected a number');
          return k;
        },
      );
    }
    case 'float':
      // An int or decimal compared with a float is read as a double (Postgres casts to float8), once it is valid.
      return numeric(
        (t) =>
          t.kind === 'decimal'
            ? (s) => (readScaledDecimal(s, t.scale) === null ? null : Number(s))
            : t.kind === 'float32' || t.kind === 'float64'
              ? readFloat
              : (s) => (readScaled(s, 0) === null ? null : Number(s)),
        (l) => (l.kind === 'number' ? Number(l.text) : NaN),
      );
    case 'text':
      return {
        textual: true,
        compare: compareText,
        read: () => identity,
        literal: (l) => (l.kind === 'string' ? l.value : ''),
      };
    case 'bool':
      return numeric(
        () => readBool,
        (l) => (l.kind === 'bool' && l.value ? 1 : 0),
      );
    case 'time':
      return numeric(
        () => readTime,
        (l) => micros(parseTime(l.kind === 'string' ? l.value : '')),
      );
    case 'temporal':
      return numeric(
        (t) =>
          t.kind === 'date'
            ? readDate
            : t.kind === 'timestamp' && t.tz
              ? (s) => readTimestamp(s, true)
              : (s) => readTimestamp(s, false),
        (l, t) => {
          if (l.kind === 'date') return micros(parseDate(l.value));
          const text = l.kind === 'string' || l.kind === 'timestamp' ? l.value : '';
          return micros(t.kind === 'date' && l.kind === 'string' ? parseDate(text) : parseTimestamp(text));
        },
      );
    case 'opaque':
      throw new Error('filter not checked: an opaque field cannot be compared');
  }
}

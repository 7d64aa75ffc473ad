import type { ColumnType } from '../../../schemas/index.ts';

/** A column as introspected from the provider database. */
export interface PgColumn {
  name: string;
  /** format_type() of the column, or of a domain's base type. */
  type: string;
  /** pg_type.typtype of the (base) type: b base, e enum, d domain, c composite, r range, m multirange. */
  typtype: string;
  /** pg_type.typcategory: 'A' for arrays. */
  category: string;
  notNull: boolean;
}

/**
 * Postgres → delivered logical type (DESIGN.md, "Types"). Arrays, ranges and composites travel as their text form
 * until the change-stream issue adds LIST types.
 */
export function columnTypeFor(col: PgColumn): ColumnType {
  if (col.typtype === 'e' || col.category === 'A') return { kind: 'utf8' };
  const t = col.type;
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(t);
  if (numeric) {
    const precision = Number(numeric[1]);
    const scale = Number(numeric[2]);
    return precision <= 38 ? { kind: 'decimal', precision, scale } : { kind: 'utf8' };
  }
  switch (t) {
    case 'smallint':
      return { kind: 'int16' };
    case 'integer':
      return { kind: 'int32' };
    case 'bigint':
      return { kind: 'int64' };
    case 'real':
      return { kind: 'float32' };
    case 'double precision':
      return { kind: 'float64' };
    case 'boolean':
      return { kind: 'bool' };
    case 'date':
      return { kind: 'date' };
    case 'bytea':
      return { kind: 'binary' };
    case 'json':
    case 'jsonb':
      return { kind: 'utf8', json: true };
  }
  if (/^time(\(\d\))? without time zone$/.test(t)) return { kind: 'time' };
  if (/^timestamp(\(\d\))? without time zone$/.test(t)) return { kind: 'timestamp', tz: null };
  if (/^timestamp(\(\d\))? with time zone$/.test(t)) return { kind: 'timestamp', tz: 'UTC' };
  return { kind: 'utf8' };
}

/** Session settings that make the text form canonical: UTC timestamps, ISO dates and intervals, exact floats. */
export const CANONICAL_TEXT_OPTIONS =
  '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c extra_float_digits=3';

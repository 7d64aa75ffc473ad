import type { ColumnType } from '../../../schemas/index.ts';

/** A column as introspected from the provider database. */
export interface PgColumn {
  name: string;
  /** pg_attribute.atttypid and atttypmod: what a relation message of the stream announces for the column. */
  typeOid: number;
  typmod: number;
  /** format_type() of the column, or of a domain's base type. */
  type: string;
  /** pg_type.typtype of the (base) type: b base, e enum, d domain, c composite, r range, m multirange. */
  typtype: string;
  /** pg_type.typcategory: 'A' for arrays. */
  category: string;
  notNull: boolean;
  /** Arrays: format_type() of the element (a domain's base type), its typtype and its array delimiter. */
  elementType?: string | null;
  elementTyptype?: string | null;
  elementDelim?: string | null;
}

/**
 * Postgres → delivered logical type (DESIGN.md, "Types"): arrays become a LIST of their element's type (values
 * converted by pg-array.ts); enums, ranges, composites and everything else without a closer Parquet type travel as
 * their canonical text. Domains arrive here as their base type (introspect.ts).
 */
export function columnTypeFor(col: PgColumn): ColumnType {
  if (col.category === 'A') {
    if (!col.elementType || col.elementDelim !== ',') return { kind: 'utf8' };
    const element = columnTypeFor({
      name: col.name,
      typeOid: 0,
      typmod: -1,
      type: col.elementType,
      typtype: col.elementTyptype ?? 'b',
      category: '',
      notNull: false,
    });
    return element.kind === 'list' ? { kind: 'utf8' } : { kind: 'list', element };
  }
  if (col.typtype === 'e') return { kind: 'utf8' };
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
  '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c bytea_output=hex';

/**
 * The logical type of a delivered column, derived from the source type (DESIGN.md, "Types, Postgres → Parquet").
 * Values travel through the bus as the source's canonical text (Postgres text output with
 * TimeZone=UTC, DateStyle=ISO, IntervalStyle=iso_8601, extra_float_digits=3) so nothing passes through a JS double;
 * the Parquet writer converts text to the physical type.
 */
export type ScalarColumnType =
  | { kind: 'int16' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  /** numeric(p,s) with p ≤ 38 */
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'float32' }
  | { kind: 'float64' }
  | { kind: 'bool' }
  /** text, varchar, char(n) (padding kept), uuid, json/jsonb, interval, enums, numeric without (p ≤ 38), and masked values */
  | { kind: 'utf8'; json?: boolean }
  | { kind: 'binary' }
  | { kind: 'date' }
  /** time without time zone, µs */
  | { kind: 'time' }
  /** timestamp (tz null: local, no zone) or timestamptz (tz 'UTC'), µs */
  | { kind: 'timestamp'; tz: 'UTC' | null };

export type ColumnType =
  | ScalarColumnType
  /**
   * A one-dimensional list of scalar values: Postgres arrays (int[] → LIST of INT32, numeric(10,2)[] → LIST of
   * DECIMAL, …) and the `_unchanged` system column (a list of column names). The value's text form is a JSON array of
   * the elements' own text forms, or null for a NULL element: '["1","2",null]'; '[]' is an empty list; null is SQL
   * NULL. Written as the standard three-level Parquet LIST (DuckDB: INTEGER[], VARCHAR[], …).
   */
  | { kind: 'list'; element: ScalarColumnType };

export interface ColumnSpec {
  name: string;
  type: ColumnType;
}

/** A short human name for a column type, as shown by `sluice inspect` and written into manifests. */
export function columnTypeName(t: ColumnType): string {
  switch (t.kind) {
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    case 'timestamp':
      return t.tz ? 'timestamptz' : 'timestamp';
    case 'utf8':
      return t.json ? 'json' : 'utf8';
    case 'list':
      return `list<${columnTypeName(t.element)}>`;
    default:
      return t.kind;
  }
}

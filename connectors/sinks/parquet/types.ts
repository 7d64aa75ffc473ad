import type { ColumnSpec } from '../../../schemas/column-type.ts';

/** Input to {@link encodeParquet}: a column-major batch of rows in the source's canonical text form. */
export interface ParquetInput {
  columns: ColumnSpec[];
  /** Row count. */
  rows: number;
  /** Column-major: values[c][r], the source's canonical text form (Postgres text output) or null. */
  values: (string | null)[][];
  /** Written as Parquet key-value metadata (keys are written in sorted order). */
  metadata: Record<string, string>;
  /** Default 'zstd'. */
  compression?: 'zstd' | 'snappy' | 'none';
  /** Row groups hold at most this many rows. Default 65536. */
  rowGroupRows?: number;
}

/** A value that could not be represented in its column's Parquet type: it is written as null. */
export interface QualityIssue {
  column: string;
  row: number;
  raw: string;
  reason: string;
}

export interface ParquetOutput {
  bytes: Uint8Array;
  /** One entry per nulled value, ordered by row group, then column, then row. */
  quality: QualityIssue[];
}

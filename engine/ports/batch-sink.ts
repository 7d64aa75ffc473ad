import type { ColumnSpec, Manifest } from '../../schemas/index.ts';

/** What a batch file is before its rows come: where it goes and its columns. */
export interface BatchFileSpec {
  subscription: string;
  columns: ColumnSpec[];
  compression?: 'zstd' | 'snappy' | 'none';
  /** Rows per row group (default: the sink's `groupRows`). */
  rowGroupRows?: number;
  /** Split the file into parts of about this many bytes (`<stem>.p001.parquet`, …); one file when not given. */
  partBytes?: number;
}

/** How a finished file is named and described: known once its last row is written. */
export interface BatchFileEnd {
  /** `<tick>_<firstSeq>-<lastSeq>` (DESIGN.md, Batch output). */
  stem: string;
  /** Parquet key-value metadata. */
  metadata: Record<string, string>;
  /** Builds the manifest once the parts' sizes and hashes are known. */
  manifest(parts: Manifest['parts']): Manifest;
}

/**
 * A batch file being written: rows in row groups, then `finish` names it and writes the manifest last, or `abort`
 * leaves nothing behind. Holds one row group at a time, whatever the size of the file.
 */
export interface BatchFileWriter {
  /** Rows per row group: every `write` but the last gives exactly this many rows. */
  readonly groupRows: number;
  /**
   * One row group, column-major text values (see schemas/column-type.ts). Returns the values written as NULL because
   * the column's type cannot hold them, by row index within this group.
   */
  write(values: (string | null)[][], rows: number, signal?: AbortSignal): Promise<QualityNote[]>;
  finish(end: BatchFileEnd): Promise<BatchReceipt>;
  abort(): Promise<void>;
}

export interface BatchReceipt {
  parts: Manifest['parts'];
  manifestFile: string;
  manifestSha256: string;
  /** The manifest as written (its text): the delivery log's leaf is its canonical JSON. */
  manifestText: string;
}

/** A value the file could not hold as-is (written as NULL), by row index. */
export interface QualityNote {
  column: string;
  row: number;
  reason: string;
}

/**
 * Writes batches durably and atomically: parts to temp names, fsync, rename, manifest last. Writing the same rows
 * with the same end twice yields byte-identical files (exactly-once relies on it); a file already delivered is never
 * replaced by different bytes.
 */
export interface BatchSink {
  /** Rows per row group of the files it writes (the cycle masks this many events at a time). */
  readonly groupRows: number;
  open(spec: BatchFileSpec): Promise<BatchFileWriter>;
}

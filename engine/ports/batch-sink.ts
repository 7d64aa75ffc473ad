import type { ColumnSpec, Manifest } from '../../schemas/index.ts';

export interface BatchFile {
  subscription: string;
  /** `<tick>_<firstSeq>-<lastSeq>` (DESIGN.md, Batch output). */
  stem: string;
  columns: ColumnSpec[];
  rows: number;
  /** Column-major text values (see schemas/column-type.ts). */
  values: (string | null)[][];
  /** Parquet key-value metadata. */
  metadata: Record<string, string>;
  compression?: 'zstd' | 'snappy' | 'none';
  /** Builds the manifest once the parts' sizes and hashes, and the values written as NULL, are known. */
  manifest(parts: Manifest['parts'], quality: QualityNote[]): Manifest;
}

export interface BatchReceipt {
  parts: Manifest['parts'];
  manifestFile: string;
  manifestSha256: string;
  quality: QualityNote[];
}

/** A value the file could not hold as-is (written as NULL), by row index in the batch. */
export interface QualityNote {
  column: string;
  row: number;
  reason: string;
}

/**
 * Writes a batch durably and atomically: parts to temp names, fsync, rename, manifest last. Writing the same
 * BatchFile twice yields byte-identical files (exactly-once relies on it).
 */
export interface BatchSink {
  write(file: BatchFile, signal?: AbortSignal): Promise<BatchReceipt>;
}

import { join } from 'node:path';
import type { BatchFile, BatchReceipt, BatchSink } from '../../../engine/ports/index.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { encodeParquet } from './encode.ts';

/**
 * The Parquet directory sink: `<dir>/<subscription>/<stem>.parquet` and `<stem>.manifest.json`, parts first,
 * manifest last (DESIGN.md, Batch output). The encoding is deterministic, so re-writing a batch after a crash
 * yields byte-identical files.
 */
export class ParquetDirSink implements BatchSink {
  constructor(private readonly dirFor: (subscription: string) => string) {}

  async write(file: BatchFile, signal?: AbortSignal): Promise<BatchReceipt> {
    const dir = join(this.dirFor(file.subscription), file.subscription);
    const { bytes, quality } = encodeParquet({
      columns: file.columns,
      rows: file.rows,
      values: file.values,
      metadata: file.metadata,
      compression: file.compression ?? 'zstd',
    });
    signal?.throwIfAborted();
    const name = `${file.stem}.parquet`;
    const sha256 = await writeFileAtomic(join(dir, name), bytes);
    const parts = [{ file: name, rows: file.rows, bytes: bytes.byteLength, sha256 }];
    const notes = quality.map((q) => ({ column: q.column, row: q.row, reason: q.reason }));
    const manifestText = JSON.stringify(file.manifest(parts, notes), null, 2) + '\n';
    const manifestFile = `${file.stem}.manifest.json`;
    const manifestSha256 = await writeFileAtomic(join(dir, manifestFile), Buffer.from(manifestText));
    return { parts, manifestFile, manifestSha256, quality: notes };
  }
}

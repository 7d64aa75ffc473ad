import { join } from 'node:path';
import type { BatchFile, BatchReceipt, BatchSink } from '../../../engine/ports/index.ts';
import { rm } from 'node:fs/promises';
import { publishAtomic, tempPathFor, writeFileAtomic } from './atomic-write.ts';
import { DEFAULT_ROW_GROUP_ROWS } from './encode.ts';
import { ParquetStreamWriter } from './stream-writer.ts';

/**
 * The Parquet directory sink: `<dir>/<subscription>/<stem>.parquet` and `<stem>.manifest.json`, parts first,
 * manifest last (DESIGN.md, Batch output). The encoding is deterministic, so re-writing a batch after a crash
 * yields byte-identical files.
 */
export class ParquetDirSink implements BatchSink {
  constructor(private readonly dirFor: (subscription: string) => string) {}

  async write(file: BatchFile, signal?: AbortSignal): Promise<BatchReceipt> {
    const dir = join(this.dirFor(file.subscription), file.subscription);
    const name = `${file.stem}.parquet`;
    const path = join(dir, name);
    // row group by row group: the encoder holds one at a time (stream-writer.ts)
    const tmp = await tempPathFor(path);
    const writer = await ParquetStreamWriter.create(tmp, {
      columns: file.columns,
      metadata: file.metadata,
      compression: file.compression ?? 'zstd',
    });
    let result;
    try {
      for (let start = 0; start === 0 || start < file.rows; start += DEFAULT_ROW_GROUP_ROWS) {
        signal?.throwIfAborted();
        await writer.writeGroup(file.values, start, Math.min(DEFAULT_ROW_GROUP_ROWS, file.rows - start));
      }
      result = await writer.finish();
    } catch (e) {
      await writer.abort();
      await rm(tmp, { force: true });
      throw e;
    }
    const { quality } = result;
    const sha256 = await publishAtomic(tmp, path, result.sha256);
    const parts = [{ file: name, rows: file.rows, bytes: result.bytes, sha256 }];
    const notes = quality.map((q) => ({ column: q.column, row: q.row, reason: q.reason }));
    const manifestText = JSON.stringify(file.manifest(parts, notes), null, 2) + '\n';
    const manifestFile = `${file.stem}.manifest.json`;
    const manifestSha256 = await writeFileAtomic(join(dir, manifestFile), Buffer.from(manifestText));
    return { parts, manifestFile, manifestSha256, quality: notes };
  }
}

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  BatchFileEnd,
  BatchFileSpec,
  BatchFileWriter,
  BatchReceipt,
  BatchSink,
  QualityNote,
} from '../../../engine/ports/index.ts';
import { publishAtomic, tempPathFor, writeFileAtomic } from './atomic-write.ts';
import { DEFAULT_ROW_GROUP_ROWS } from './encode.ts';
import { EncoderThread, type ThreadFile } from './encoder-thread.ts';
import { sinkError } from './errors.ts';

/**
 * The Parquet directory sink: `<dir>/<subscription>/<stem>.parquet` — or, past the subscription's part size,
 * `<stem>.p001.parquet`, `<stem>.p002.parquet`, … — and `<stem>.manifest.json`, parts first, manifest last
 * (DESIGN.md, Batch output). A file is streamed row group by row group to temp names of its own by the encoder
 * thread (encoder-thread.ts, parted-file.ts, stream-writer.ts), then published under its stem; the encoding and the
 * split are deterministic, so re-writing a batch after a crash yields byte-identical files.
 */
export class ParquetDirSink implements BatchSink {
  readonly groupRows = DEFAULT_ROW_GROUP_ROWS;
  private readonly encoder = new EncoderThread();

  constructor(private readonly dirFor: (subscription: string) => string) {}

  async open(spec: BatchFileSpec): Promise<BatchFileWriter> {
    const dir = join(this.dirFor(spec.subscription), spec.subscription);
    try {
      const tmp = await tempPathFor(join(dir, 'batch.parquet'));
      const stream = await this.encoder.create(
        tmp,
        {
          columns: spec.columns,
          metadata: {},
          compression: spec.compression ?? 'zstd',
          rowGroupRows: spec.rowGroupRows ?? this.groupRows,
        },
        spec.partBytes,
      );
      return new DirFileWriter(dir, tmp, stream, spec.subscription);
    } catch (e) {
      throw sinkError(e, dir, spec.subscription);
    }
  }

  /** Stops the encoder thread (after the cycles in flight have finished). */
  close(): Promise<void> {
    return this.encoder.close();
  }
}

class DirFileWriter implements BatchFileWriter {
  constructor(
    private readonly dir: string,
    private readonly tmp: string,
    private readonly stream: ThreadFile,
    private readonly subscription: string,
  ) {}

  get groupRows(): number {
    return this.stream.groupRows;
  }

  async write(values: (string | null)[][], rows: number, signal?: AbortSignal): Promise<QualityNote[]> {
    signal?.throwIfAborted();
    const issues = await this.stream.writeGroup(values, rows).catch((e: unknown) => {
      throw sinkError(e, this.dir, this.subscription);
    });
    return issues.map((q) => ({ column: q.column, row: q.row, reason: q.reason }));
  }

  async finish(end: BatchFileEnd): Promise<BatchReceipt> {
    try {
      const result = await this.stream.finish(end.metadata).catch(async (e: unknown) => {
        await this.stream.abort(); // removes every part's temp file
        throw e;
      });
      const several = result.parts.length > 1;
      const parts = [];
      for (const [i, p] of result.parts.entries()) {
        const file = several ? `${end.stem}.p${String(i + 1).padStart(3, '0')}.parquet` : `${end.stem}.parquet`;
        const sha256 = await publishAtomic(p.path, join(this.dir, file), p.sha256);
        parts.push({ file, rows: p.rows, bytes: p.bytes, sha256 });
      }
      const manifestText = JSON.stringify(end.manifest(parts), null, 2) + '\n';
      const manifestFile = `${end.stem}.manifest.json`;
      const manifestSha256 = await writeFileAtomic(join(this.dir, manifestFile), Buffer.from(manifestText));
      return { parts, manifestFile, manifestSha256, manifestText };
    } catch (e) {
      throw sinkError(e, this.dir, this.subscription);
    }
  }

  async abort(): Promise<void> {
    await this.stream.abort(); // the encoder thread removes the parts it wrote
    await rm(this.tmp, { force: true }); // (also when the thread is gone)
  }
}

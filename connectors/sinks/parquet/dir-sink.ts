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
 * The Parquet directory sink: `<dir>/<subscription>/<stem>.parquet` and `<stem>.manifest.json`, parts first,
 * manifest last (DESIGN.md, Batch output). A file is streamed row group by row group to a temp name of its own
 * by the encoder thread (encoder-thread.ts, stream-writer.ts), then published under its stem; the encoding is
 * deterministic, so re-writing a batch after a crash yields byte-identical files.
 */
export class ParquetDirSink implements BatchSink {
  readonly groupRows = DEFAULT_ROW_GROUP_ROWS;
  private readonly encoder = new EncoderThread();

  constructor(private readonly dirFor: (subscription: string) => string) {}

  async open(spec: BatchFileSpec): Promise<BatchFileWriter> {
    const dir = join(this.dirFor(spec.subscription), spec.subscription);
    try {
      const tmp = await tempPathFor(join(dir, 'batch.parquet'));
      const stream = await this.encoder.create(tmp, {
        columns: spec.columns,
        metadata: {},
        compression: spec.compression ?? 'zstd',
        rowGroupRows: this.groupRows,
      });
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
  private rows = 0;

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
    this.rows += rows;
    return issues.map((q) => ({ column: q.column, row: q.row, reason: q.reason }));
  }

  async finish(end: BatchFileEnd): Promise<BatchReceipt> {
    try {
      const result = await this.stream.finish(end.metadata).catch(async (e: unknown) => {
        await rm(this.tmp, { force: true });
        throw e;
      });
      const name = `${end.stem}.parquet`;
      const sha256 = await publishAtomic(this.tmp, join(this.dir, name), result.sha256);
      const parts = [{ file: name, rows: this.rows, bytes: result.bytes, sha256 }];
      const manifestText = JSON.stringify(end.manifest(parts), null, 2) + '\n';
      const manifestFile = `${end.stem}.manifest.json`;
      const manifestSha256 = await writeFileAtomic(join(this.dir, manifestFile), Buffer.from(manifestText));
      return { parts, manifestFile, manifestSha256 };
    } catch (e) {
      throw sinkError(e, this.dir, this.subscription);
    }
  }

  async abort(): Promise<void> {
    await this.stream.abort();
    await rm(this.tmp, { force: true });
  }
}

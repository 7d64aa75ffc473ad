import { createHash } from 'node:crypto';
import type { Manifest } from '../../schemas/index.ts';
import type { BatchFile, BatchReceipt, BatchSink } from '../ports/index.ts';

/** One write as the memory sink recorded it. */
export interface WrittenBatch {
  /** `<subscription>/<stem>.parquet` */
  path: string;
  file: BatchFile;
  /** The deterministic serialization standing in for the Parquet bytes. */
  data: string;
  sha256: string;
  bytes: number;
  manifest: Manifest;
  /** `<stem>.manifest.json` as the directory sink writes it (2-space JSON and a newline). */
  manifestText: string;
  manifestSha256: string;
}

/** JSON with object keys sorted at every level, so equal content gives equal text. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * In-memory {@link BatchSink}: keeps every written BatchFile and hashes a deterministic serialization of it, so a
 * test can check that a batch re-created after a crash is identical. `writes` lists every call in order (rewrites
 * included); `files` holds the current content per path, as a directory would.
 */
export class MemoryBatchSink implements BatchSink {
  readonly writes: WrittenBatch[] = [];
  readonly files = new Map<string, WrittenBatch>();
  /** Test hook: when it returns true the write is recorded and then the call throws (a crash after the rename). */
  failAfterWrite: ((w: WrittenBatch) => boolean) | undefined;

  constructor(opts: { failAfterWrite?: (w: WrittenBatch) => boolean } = {}) {
    this.failAfterWrite = opts.failAfterWrite;
  }

  async write(file: BatchFile, signal?: AbortSignal): Promise<BatchReceipt> {
    signal?.throwIfAborted();
    const data = canonicalJson({
      subscription: file.subscription,
      stem: file.stem,
      columns: file.columns,
      rows: file.rows,
      values: file.values,
      metadata: file.metadata,
      compression: file.compression ?? 'zstd',
    });
    const name = `${file.stem}.parquet`;
    const hash = sha256(data);
    const bytes = Buffer.byteLength(data, 'utf8');
    const parts = [{ file: name, rows: file.rows, bytes, sha256: hash }];
    const manifest = file.manifest(parts, []);
    const manifestText = JSON.stringify(manifest, null, 2) + '\n';
    const written: WrittenBatch = {
      path: `${file.subscription}/${name}`,
      file,
      data,
      sha256: hash,
      bytes,
      manifest,
      manifestText,
      manifestSha256: sha256(manifestText),
    };
    this.writes.push(written);
    this.files.set(written.path, written);
    if (this.failAfterWrite?.(written))
      throw new Error(`MemoryBatchSink: injected failure after writing ${written.path}`);
    return { parts, manifestFile: `${file.stem}.manifest.json`, manifestSha256: written.manifestSha256, quality: [] };
  }
}

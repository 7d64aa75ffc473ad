import { createHash } from 'node:crypto';
import type { ColumnSpec, Manifest } from '../../schemas/index.ts';
import type { BatchFileSpec, BatchFileWriter, BatchSink } from '../ports/index.ts';
import { canonicalJson } from '../delivery-log/leaf.ts';

/** A file as the memory sink received it: its spec, its rows (row groups concatenated) and its end. */
export interface WrittenFile {
  subscription: string;
  stem: string;
  columns: ColumnSpec[];
  rows: number;
  values: (string | null)[][];
  metadata: Record<string, string>;
  compression: 'zstd' | 'snappy' | 'none';
  /** Rows of each row group, in order. */
  groups: number[];
}

/** One write as the memory sink recorded it. */
export interface WrittenBatch {
  /** `<subscription>/<stem>.parquet` */
  path: string;
  file: WrittenFile;
  /** The deterministic serialization standing in for the Parquet bytes. */
  data: string;
  sha256: string;
  bytes: number;
  manifest: Manifest;
  /** `<stem>.manifest.json` as the directory sink writes it (2-space JSON and a newline). */
  manifestText: string;
  manifestSha256: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * In-memory {@link BatchSink}: keeps every finished file and hashes a deterministic serialization of it, so a test can
 * check that a batch re-created after a crash is identical. `writes` lists every finished file in order (rewrites
 * included); `files` holds the current content per path, as a directory would; `aborted` counts files given up.
 * Holds row groups of `groupRows` (default 65536), refusing a short group anywhere but last, as the Parquet sink does.
 */
export class MemoryBatchSink implements BatchSink {
  readonly writes: WrittenBatch[] = [];
  readonly files = new Map<string, WrittenBatch>();
  aborted = 0;
  /** Test hook: when it returns true the write is recorded and then the call throws (a crash after the rename). */
  failAfterWrite: ((w: WrittenBatch) => boolean) | undefined;
  readonly groupRows: number;

  constructor(opts: { failAfterWrite?: (w: WrittenBatch) => boolean; groupRows?: number } = {}) {
    this.failAfterWrite = opts.failAfterWrite;
    this.groupRows = opts.groupRows ?? 65536;
  }

  async open(spec: BatchFileSpec): Promise<BatchFileWriter> {
    const values: (string | null)[][] = spec.columns.map(() => []);
    const groups: number[] = [];
    const groupRows = spec.rowGroupRows ?? this.groupRows;
    const record = (w: WrittenBatch) => {
      this.writes.push(w);
      this.files.set(w.path, w);
      return this.failAfterWrite?.(w) ?? false;
    };
    const aborted = () => void this.aborted++;
    return {
      groupRows,
      async write(group, rows, signal) {
        signal?.throwIfAborted();
        // (an empty file is one empty row group, as the Parquet sink writes it)
        if (rows < 0 || rows > groupRows || (rows === 0 && groups.length > 0)) {
          throw new Error(`a row group holds 1 to ${groupRows} rows, got ${rows}`);
        }
        if (groups.some((g) => g < groupRows)) throw new Error(`only the last row group may hold fewer rows`);
        if (group.length !== spec.columns.length)
          throw new Error(`${group.length} columns, expected ${spec.columns.length}`);
        group.forEach((col, c) => {
          for (let r = 0; r < rows; r++) values[c]!.push(col[r] ?? null);
        });
        groups.push(rows);
        return [];
      },
      async finish(end) {
        const rows = groups.reduce((a, b) => a + b, 0);
        const file: WrittenFile = {
          subscription: spec.subscription,
          stem: end.stem,
          columns: spec.columns,
          rows,
          values,
          metadata: end.metadata,
          compression: spec.compression ?? 'zstd',
          groups,
        };
        const { groups: _, ...content } = file;
        const data = canonicalJson(content);
        const name = `${end.stem}.parquet`;
        const hash = sha256(data);
        const bytes = Buffer.byteLength(data, 'utf8');
        const parts = [{ file: name, rows, bytes, sha256: hash }];
        const manifest = end.manifest(parts);
        const manifestText = JSON.stringify(manifest, null, 2) + '\n';
        const written: WrittenBatch = {
          path: `${spec.subscription}/${name}`,
          file,
          data,
          sha256: hash,
          bytes,
          manifest,
          manifestText,
          manifestSha256: sha256(manifestText),
        };
        if (record(written)) throw new Error(`MemoryBatchSink: injected failure after writing ${written.path}`);
        return {
          parts,
          manifestFile: `${end.stem}.manifest.json`,
          manifestSha256: written.manifestSha256,
          manifestText,
        };
      },
      async abort() {
        aborted();
      },
    };
  }
}

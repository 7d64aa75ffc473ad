/**
 * A Parquet file written row group by row group: parquet-wasm's `transformParquetStream` takes one record batch per
 * row group and hands back the file's bytes as it goes (one chunk per row group, the footer with the last), so the
 * WASM heap and the Arrow buffers hold one row group at a time, whatever the size of the file. The bytes are the
 * same as `encodeParquet`'s for the same input (same writer properties, same row groups); the key-value metadata in
 * the footer is sorted the same way (canonical-footer.ts) — the last chunk is held back until the stream ends so
 * that its footer can be fixed before it is written. The sha256 is computed as the bytes go to disk.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Table, tableToIPC } from 'apache-arrow';
import { Table as WasmTable, transformParquetStream, type RecordBatch as WasmBatch } from 'parquet-wasm';
import { sortKeyValueMetadata, withKeyValueMetadata } from './canonical-footer.ts';
import { ArrowLayout, DEFAULT_ROW_GROUP_ROWS, writerProperties } from './encode.ts';
import { QualitySink } from './quality.ts';
import type { ParquetInput, QualityIssue } from './types.ts';
import { reserveWasmHeap } from './wasm-heap.ts';

export type StreamOptions = Pick<ParquetInput, 'columns' | 'metadata' | 'compression' | 'rowGroupRows'>;

export interface StreamResult {
  rows: number;
  bytes: number;
  sha256: string;
  quality: QualityIssue[];
}

/** WASM heap a row group needs per byte of its Arrow IPC form (as encode.ts measured for whole files). */
const HEAP_PER_IPC_BYTE = 3;

type Item = { batch: WasmBatch; taken: () => void; failed: (e: Error) => void } | 'end';

export class ParquetStreamWriter {
  private readonly layout: ArrowLayout;
  readonly groupRows: number;
  private readonly quality = new QualitySink();
  private readonly hash: Hash = createHash('sha256');
  private drained!: Promise<void>;
  private held: Uint8Array | null = null;
  private written = 0;
  private rows = 0;
  /** A row group (or the end) waiting for the encoder to ask for it, or the encoder waiting for one. */
  private queued: Item | null = null;
  private wanted: ((item: Item) => void) | null = null;
  private failure: Error | null = null;
  /** Sizes of the chunks the encoder handed out so far (chunk i holds row group i), and who waits for the next. */
  private readonly chunkSizes: number[] = [];
  private chunkWaiters: (() => void)[] = [];
  private ended: Promise<void> | null = null;
  private outputDone = false;

  private constructor(
    private readonly fh: FileHandle,
    opts: StreamOptions,
  ) {
    this.layout = new ArrowLayout(opts.columns);
    this.groupRows = opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  }

  /** Creates (truncates) `path` and starts the encoder. */
  static async create(path: string, opts: StreamOptions): Promise<ParquetStreamWriter> {
    const fh = await open(path, 'w+', 0o644); // read too: a footer fixed on disk is hashed again
    const w = new ParquetStreamWriter(fh, opts);
    // pulled: the encoder asks for the next row group once it has encoded the one before
    const input = new ReadableStream<WasmBatch>(
      {
        pull: (c) =>
          new Promise<void>((resolve) => {
            const give = (item: Item) => {
              if (item === 'end') c.close();
              else {
                c.enqueue(item.batch);
                item.taken();
              }
              resolve();
            };
            if (w.queued) {
              const item = w.queued;
              w.queued = null;
              give(item);
            } else w.wanted = give;
          }),
      },
      { highWaterMark: 0 },
    );
    // resolves once the first row group has come in (it reads the schema from it): not awaited here
    const output = transformParquetStream(input, writerProperties(opts, w.groupRows));
    w.drained = w.drain(output);
    w.drained.catch(() => {}); // a failure is seen by the next writeGroup, by finish or by abort
    return w;
  }

  /**
   * Rows [start, start+length) of column-major `values` as the next row group (`length` ≤ rowGroupRows; only the
   * last group may be shorter; 0 only for an empty file). Resolves once the encoder has taken it, i.e. has encoded
   * the group before, with the values of this group written as NULL (their type cannot hold them).
   */
  async writeGroup(values: ParquetInput['values'], start: number, length: number): Promise<QualityIssue[]> {
    const { issues, submit } = this.prepareGroup(values, start, length);
    await submit();
    return issues;
  }

  /**
   * The first half of {@link writeGroup}: the row group built (its unrepresentable values known at once), and
   * `submit` to hand it to the encoder, resolving once the encoder took it. The encoder thread answers with the
   * issues before it waits, so the main thread masks the next group meanwhile.
   */
  prepareGroup(
    values: ParquetInput['values'],
    start: number,
    length: number,
  ): { issues: QualityIssue[]; submit: () => Promise<void> } {
    // (an empty file is one empty row group, as encodeParquet writes it)
    if (length < 0 || length > this.groupRows || (length === 0 && this.rows > 0)) {
      throw new Error(`a row group holds 1 to ${this.groupRows} rows, got ${length}`);
    }
    if (this.rows % this.groupRows !== 0) {
      throw new Error(`only the last row group may hold fewer than ${this.groupRows} rows`);
    }
    if (this.failure) throw this.failure;
    const before = this.quality.issues.length;
    const ipc = tableToIPC(new Table(this.layout.schema, [this.layout.batch(values, start, length, this.quality)]));
    reserveWasmHeap(ipc.length * HEAP_PER_IPC_BYTE);
    const batch = WasmTable.fromIPCStream(ipc).recordBatch(0)!;
    this.rows += length;
    return {
      issues: this.quality.issues.slice(before),
      submit: () => new Promise<void>((taken, failed) => this.offer({ batch, taken, failed })),
    };
  }

  /**
   * The bytes of the file through row group `group` (0-based), once the encoder has handed them out — the same
   * number whenever it is asked (deterministic), so a size limit decided on it splits the same way every time.
   */
  async bytesThrough(group: number): Promise<number> {
    while (this.chunkSizes.length <= group) {
      if (this.failure) throw this.failure;
      if (this.outputDone) throw new RangeError(`the file has ${this.chunkSizes.length} row groups, not ${group + 1}`);
      await new Promise<void>((resolve) => this.chunkWaiters.push(resolve));
    }
    let n = 0;
    for (let i = 0; i <= group; i++) n += this.chunkSizes[i]!;
    return n;
  }

  /** Ends the encoding (the footer is held back, small, until `finish`): the WASM encoder is released. */
  end(): Promise<void> {
    this.ended ??= (async () => {
      if (!this.failure) this.offer('end');
      await this.drained.catch(() => {});
    })();
    return this.ended;
  }

  /**
   * Ends the file: the footer, with `metadata` added to the key-value metadata given at create (all of it sorted —
   * the bytes as if it had all been given up front), fsync, close.
   */
  async finish(metadata: Record<string, string> = {}): Promise<StreamResult> {
    const footer = (tail: Uint8Array) =>
      Object.keys(metadata).length > 0 ? withKeyValueMetadata(tail, metadata, true) : sortKeyValueMetadata(tail, true);
    await this.end();
    let sha256: string;
    try {
      if (this.failure) throw this.failure;
      const last = this.held!;
      if (tailHoldsFooter(last)) {
        await this.put(footer(last));
        sha256 = this.hash.digest('hex');
      } else {
        // the footer began in an earlier chunk (not seen with parquet-wasm 0.8): fix it on disk, hash the file again
        await this.put(last);
        sha256 = await this.fixFooterOnDisk(footer);
      }
      await this.fh.sync();
    } finally {
      await this.fh.close();
    }
    return { rows: this.rows, bytes: this.written, sha256, quality: this.quality.issues };
  }

  /** Stops the encoder and closes the file (the caller removes it). */
  async abort(): Promise<void> {
    if (!this.failure) this.fail(new Error('aborted'));
    if (this.wanted) this.offer('end');
    await this.drained.catch(() => {});
    await this.fh.close().catch(() => {});
  }

  private offer(item: Item): void {
    const wanted = this.wanted;
    this.wanted = null;
    if (wanted) wanted(item);
    else this.queued = item;
  }

  private wakeChunkWaiters(): void {
    const waiting = this.chunkWaiters;
    this.chunkWaiters = [];
    for (const w of waiting) w();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const q = this.queued;
    this.queued = null;
    if (q && q !== 'end') q.failed(this.failure);
  }

  private async drain(stream: Promise<ReadableStream<Uint8Array>>): Promise<void> {
    try {
      const output = await stream;
      for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) {
        this.chunkSizes.push(chunk.length);
        this.wakeChunkWaiters();
        if (this.held) await this.put(this.held);
        this.held = chunk;
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      throw this.failure;
    } finally {
      this.outputDone = true;
      this.wakeChunkWaiters();
    }
  }

  private async fixFooterOnDisk(footer: (tail: Uint8Array) => Uint8Array): Promise<string> {
    const end = Buffer.alloc(8);
    await this.fh.read(end, 0, 8, this.written - 8);
    const start = this.written - 8 - end.readUInt32LE(0);
    const tail = Buffer.alloc(this.written - start);
    await this.fh.read(tail, 0, tail.length, start);
    const fixed = footer(tail);
    await this.fh.write(fixed, 0, fixed.length, start);
    await this.fh.truncate(start + fixed.length);
    this.written = start + fixed.length;
    const hash = createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    for (let at = 0; at < this.written; at += buf.length) {
      const { bytesRead } = await this.fh.read(buf, 0, Math.min(buf.length, this.written - at), at);
      hash.update(buf.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  }

  private async put(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off, this.written + off);
      off += bytesWritten;
    }
    this.written += bytes.length;
  }
}

function tailHoldsFooter(tail: Uint8Array): boolean {
  if (tail.length < 12) return false;
  const len = new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getUint32(0, true);
  return len + 8 <= tail.length;
}

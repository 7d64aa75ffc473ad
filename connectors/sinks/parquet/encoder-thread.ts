/**
 * The main thread's handle on the Parquet encoder thread (encode-worker.ts): one worker, started on first use, takes
 * row groups by message and writes the files, so that encoding (Arrow building, WASM, hashing, writes) runs on the
 * second core while this thread reads the bus and masks. The worker keeps the process alive only while a request
 * waits for its answer; a worker that dies fails the requests it had and is started again for the next file.
 */
import { Worker } from 'node:worker_threads';
import type { EncoderReply, EncoderRequest } from './encoder-protocol.ts';
import type { PartResult } from './parted-file.ts';
import type { StreamOptions } from './stream-writer.ts';
import type { QualityIssue } from './types.ts';

type Pending = { resolve: (r: EncoderReply & { ok: true }) => void; reject: (e: Error) => void };
type Body = EncoderRequest extends infer R ? (R extends unknown ? Omit<R, 'id' | 'file'> : never) : never;

export class EncoderThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextFile = 1;

  /**
   * A file streamed by the encoder thread, in parts of about `partBytes` (parted-file.ts; one part when not given):
   * the same methods as ParquetStreamWriter.
   */
  async create(path: string, options: StreamOptions, partBytes?: number): Promise<ThreadFile> {
    const file = this.nextFile++;
    await this.request(file, { op: 'create', path, options, ...(partBytes !== undefined ? { partBytes } : {}) });
    return new ThreadFile(this, file, options.rowGroupRows ?? 65536);
  }

  request(file: number, body: Body): Promise<EncoderReply & { ok: true }> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...body, id, file } as EncoderRequest);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./encode-worker-entry.js', import.meta.url));
    worker.unref();
    worker.on('message', (reply: EncoderReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) p.resolve(reply);
      else
        p.reject(Object.assign(new Error(`Parquet encoder: ${reply.error}`), reply.code ? { code: reply.code } : {}));
    });
    const fail = (e: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => fail(new Error(`Parquet encoder thread failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`Parquet encoder thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

export class ThreadFile {
  constructor(
    private readonly thread: EncoderThread,
    private readonly file: number,
    readonly groupRows: number,
  ) {}

  /** One row group (only its rows: they are copied to the encoder thread). */
  async writeGroup(values: (string | null)[][], rows: number): Promise<QualityIssue[]> {
    const reply = await this.thread.request(this.file, { op: 'group', values, rows });
    return reply.issues ?? [];
  }

  /** Every part's footer with `metadata`; the parts as written, in order. */
  async finish(metadata: Record<string, string>): Promise<{ parts: PartResult[]; quality: QualityIssue[] }> {
    return (await this.thread.request(this.file, { op: 'finish', metadata })).result!;
  }

  async abort(): Promise<void> {
    await this.thread.request(this.file, { op: 'abort' }).catch(() => {});
  }
}

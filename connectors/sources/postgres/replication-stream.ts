import type { Socket } from 'node:net';
import pg from 'pg';

/** Microseconds between the Unix epoch and the Postgres epoch (2000-01-01). */
export const PG_EPOCH_US = 946_684_800_000_000;

/** One XLogData message: `payload` is `buf[start, end)`, a pgoutput message; `walStart` its WAL position. */
export interface XLogData {
  walStart: number;
  walEnd: number;
}

/**
 * What the stream hands its consumer: every XLogData framed from one socket read, as offsets into `buf` (valid only
 * during the call — copy what must outlive it), plus the keepalives seen in the same read.
 */
export interface WalChunk {
  buf: Buffer;
  /** [start, end, walStart] triples, flattened: message i is buf[starts[3i], starts[3i+1]) at WAL walStart starts[3i+2]. */
  frames: number[];
  count: number;
  /** Highest server WAL end reported in this read (XLogData or keepalive), 0 when none. */
  walEnd: number;
  /** The server asked for an immediate status reply. */
  replyRequested: boolean;
}

export interface ReplicationStreamOptions {
  /** Pause reading for this long after a small read, so that the server writes many messages per wake-up. */
  coalesceMs: number;
  /** A read smaller than this counts as small. */
  coalesceBytes: number;
}

const DEFAULTS: ReplicationStreamOptions = { coalesceMs: 1, coalesceBytes: 32 * 1024 };

/** libuv reads at most 64 KiB at a time. */
const FULL_READ = 64 * 1024;

/**
 * A logical replication connection at the wire level. `pg` opens the connection (authentication, TLS); after that
 * this class owns the socket: it sends START_REPLICATION, frames CopyData messages itself — in whole socket reads,
 * handed over as one chunk, because waking per ~120-byte message costs the walsender most of its CPU (REFERENCE) —
 * and writes standby status updates. Reading pauses while the consumer's promise is pending (backpressure) while
 * status updates keep flowing, so the walsender never times out on a slow consumer.
 */
export class ReplicationStream {
  private readonly socket: Socket;
  /**
   * Reads holding an incomplete message, and the bytes it needs: a message larger than a read (one row with a large
   * value) is joined once, when complete, rather than re-copied on every read (quadratic for a 100 MB value).
   */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingNeed = 0;
  private paused = 0;
  private started = false;
  private onStart: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private ended = false;
  private closing = false;
  private readonly opts: ReplicationStreamOptions;
  private coalesceTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly client: pg.Client,
    private readonly consume: (chunk: WalChunk) => void | Promise<void>,
    private readonly onEnd: (error: Error | null) => void,
    opts: Partial<ReplicationStreamOptions>,
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
  }

  /**
   * Connects with `replication=database`, starts streaming `slot` from `startLsn` with the given pgoutput options,
   * and resolves once the server has entered CopyBoth mode. `consume` receives every read; `onEnd` is called exactly
   * once when the stream ends (null when ended by `close`).
   */
  static async open(
    config: pg.ClientConfig,
    start: { slot: string; startLsn: string; pluginOptions: Record<string, string> },
    consume: (chunk: WalChunk) => void | Promise<void>,
    onEnd: (error: Error | null) => void,
    opts: Partial<ReplicationStreamOptions> = {},
  ): Promise<ReplicationStream> {
    const client = new pg.Client({ ...config, replication: 'database' } as pg.ClientConfig);
    client.on('error', () => {}); // reported through the socket's own close/error below
    await client.connect();
    const stream = new ReplicationStream(client, consume, onEnd, opts);
    await stream.begin(start);
    return stream;
  }

  private begin(start: { slot: string; startLsn: string; pluginOptions: Record<string, string> }): Promise<void> {
    // pg's parser is idle after ReadyForQuery, so it holds no partial message: from here on the socket is ours.
    this.socket.removeAllListeners('data');
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('close', () => this.end(this.closing ? null : new StreamError('replication connection closed')));
    this.socket.on('error', (e) => this.end(new StreamError(`replication connection failed: ${e.message}`, e)));
    const options = Object.entries(start.pluginOptions)
      .map(([k, v]) => `"${k}" '${v.replaceAll("'", "''")}'`)
      .join(', ');
    const sql = `START_REPLICATION SLOT "${start.slot}" LOGICAL ${start.startLsn} (${options})`;
    return new Promise<void>((resolve, reject) => {
      this.onStart = { resolve, reject };
      this.socket.write(frontendMessage(0x51 /* Q */, Buffer.from(`${sql}\0`, 'utf8')));
    });
  }

  /** Sends a standby status update: everything before `flushed` is durable on our side. */
  sendStatus(flushed: number, replyRequested = false): void {
    if (this.ended || !this.started) return;
    const body = Buffer.allocUnsafe(34);
    body[0] = 0x72; // 'r'
    writeLsn(body, 1, flushed); // written
    writeLsn(body, 9, flushed); // flushed
    writeLsn(body, 17, flushed); // applied
    const nowUs = Date.now() * 1000 - PG_EPOCH_US;
    writeLsn(body, 25, nowUs);
    body[33] = replyRequested ? 1 : 0;
    this.socket.write(frontendMessage(0x64 /* d */, body));
  }

  /** Ends the stream: a final status is the caller's job; this sends Terminate and closes the socket. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.closing = true;
    if (this.coalesceTimer) clearTimeout(this.coalesceTimer);
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.end(frontendMessage(0x58 /* X */, Buffer.alloc(0)));
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    await closed;
    clearTimeout(timer);
  }

  private end(error: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    if (this.coalesceTimer) clearTimeout(this.coalesceTimer);
    if (!this.started && this.onStart) this.onStart.reject(error ?? new StreamError('replication stream closed'));
    this.onEnd(error);
    this.socket.destroy();
  }

  private onData(data: Buffer): void {
    let buf = data;
    if (this.pending.length > 0) {
      this.pending.push(data);
      this.pendingBytes += data.length;
      if (this.pendingBytes < this.pendingNeed) return;
      buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    const chunk: WalChunk = { buf, frames: [], count: 0, walEnd: 0, replyRequested: false };
    let off = 0;
    while (off + 5 <= buf.length) {
      const type = buf[off]!;
      const len = buf.readUInt32BE(off + 1);
      const next = off + 1 + len;
      if (next > buf.length) break;
      const body = off + 5;
      if (type === 0x64 /* d CopyData */) {
        const kind = buf[body];
        if (kind === 0x77 /* w XLogData */) {
          const walStart = readLsn(buf, body + 1);
          const walEnd = readLsn(buf, body + 9);
          chunk.frames.push(body + 25, next, walStart);
          chunk.count++;
          if (walEnd > chunk.walEnd) chunk.walEnd = walEnd;
        } else if (kind === 0x6b /* k keepalive */) {
          const walEnd = readLsn(buf, body + 1);
          if (walEnd > chunk.walEnd) chunk.walEnd = walEnd;
          if (buf[body + 17] === 1) chunk.replyRequested = true;
        }
      } else if (type === 0x57 /* W CopyBothResponse */) {
        this.started = true;
        this.onStart?.resolve();
        this.onStart = null;
      } else if (type === 0x45 /* E ErrorResponse */) {
        this.end(serverError(buf.subarray(body, next)));
        return;
      } else if (type === 0x63 /* c CopyDone */) {
        this.end(this.closing ? null : new StreamError('the server ended the replication stream'));
        return;
      }
      // N (notice), S (parameter status), C/Z after the copy: nothing to do
      off = next;
    }
    if (off < buf.length) {
      const rest = buf.subarray(off);
      this.pending = [rest];
      this.pendingBytes = rest.length;
      this.pendingNeed = rest.length >= 5 ? 1 + rest.readUInt32BE(1) : 5;
    }
    if (chunk.count === 0 && chunk.walEnd === 0) return;
    const result = this.consume(chunk);
    if (result) {
      this.pause();
      result.then(
        () => this.resume(),
        (e: unknown) => this.end(e instanceof Error ? e : new Error(String(e))),
      );
    } else if (data.length < this.opts.coalesceBytes && this.opts.coalesceMs > 0 && !this.coalesceTimer) {
      // A small read means we are keeping up message by message: let the server fill the socket for a moment.
      this.pause();
      this.coalesceTimer = setTimeout(() => {
        this.coalesceTimer = null;
        this.resume();
      }, this.opts.coalesceMs);
    } else if (data.length >= FULL_READ && !this.coalesceTimer) {
      // A full read means a backlog: libuv would read up to 32 of them (2 MiB, ~40 ms of decoding) before any other
      // I/O runs. Yield once per read so the bus's round trips are not starved by the stream that feeds them.
      this.pause();
      setImmediate(() => this.resume());
    }
  }

  private pause(): void {
    if (this.paused++ === 0) this.socket.pause();
  }

  private resume(): void {
    if (--this.paused === 0 && !this.ended) this.socket.resume();
  }
}

/** An error from the server or the connection, carrying the SQLSTATE when the server sent one. */
export class StreamError extends Error {
  code?: string;
  constructor(message: string, cause?: unknown, code?: string) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StreamError';
    if (code) this.code = code;
  }
}

function serverError(body: Buffer): StreamError {
  const fields: Record<string, string> = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const code = String.fromCharCode(body[i]!);
    const endAt = body.indexOf(0, i + 1);
    fields[code] = body.toString('utf8', i + 1, endAt);
    i = endAt + 1;
  }
  const detail = fields.D ? ` (${fields.D})` : '';
  return new StreamError(`${fields.M ?? 'replication error'}${detail}`, undefined, fields.C);
}

function frontendMessage(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeUInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/**
 * LSNs as JS numbers: exact below 2^53 bytes of WAL (8 PiB) — far beyond any server's lifetime; checked, never
 * silently rounded.
 */
export function readLsn(buf: Buffer, off: number): number {
  const hi = buf.readUInt32BE(off);
  if (hi >= 0x200000) throw new RangeError(`WAL position beyond 2^53 (high word ${hi.toString(16)})`);
  return hi * 4294967296 + buf.readUInt32BE(off + 4);
}

function writeLsn(buf: Buffer, off: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi | 0, off);
  buf.writeUInt32BE(v - hi * 4294967296, off + 4);
}

/** `16/B374D848` → number (exact below 2^53). */
export function lsnToNumber(lsn: string): number {
  const slash = lsn.indexOf('/');
  return parseInt(lsn.slice(0, slash), 16) * 4294967296 + parseInt(lsn.slice(slash + 1), 16);
}

/** number → fixed-width `0000000016/B374D848`-style `XXXXXXXX/XXXXXXXX`, which orders as a string. */
export function numberToLsn(v: number): string {
  const hi = Math.floor(v / 4294967296);
  const lo = v - hi * 4294967296;
  return `${hi.toString(16).toUpperCase().padStart(8, '0')}/${lo.toString(16).toUpperCase().padStart(8, '0')}`;
}

import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Lines buffered before a write. */
const FLUSH_BYTES = 1 << 20;

/**
 * An append-only file of one transaction's pending change events (NDJSON), so that a transaction of any size never
 * has to fit in memory. Sub-transactions are tracked by the byte offset of their first event: aborting one truncates
 * the file there, which also drops every later sub-transaction — pgoutput streams a transaction's changes in WAL
 * order, and nothing of the parent can follow a sub-transaction's first change before its abort.
 */
export class TxSpool<T> {
  private fd: number;
  private written = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private readonly subStarts: { subxid: number; offset: number }[] = [];
  private readonly seen = new Set<number>();
  private counts: { offset: number; count: number }[] = [];
  private total = 0;
  readonly path: string;

  constructor(dir: string, name: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `${name}.ndjson`);
    this.fd = openSync(this.path, 'w+');
  }

  /** Events stored (after aborts). */
  get count(): number {
    return this.total;
  }

  append(subxid: number, item: T): void {
    if (!this.seen.has(subxid)) {
      this.flush();
      this.seen.add(subxid);
      this.subStarts.push({ subxid, offset: this.written });
      this.counts.push({ offset: this.written, count: this.total });
    }
    const line = `${JSON.stringify(item)}\n`;
    this.pending.push(line);
    this.pendingChars += line.length;
    this.total++;
    if (this.pendingChars >= FLUSH_BYTES) this.flush();
  }

  /** Drops a sub-transaction's events and everything after them; unknown sub-transactions are a no-op. */
  abortSub(subxid: number): void {
    const i = this.subStarts.findIndex((s) => s.subxid === subxid);
    if (i < 0) return;
    this.flush();
    const { offset } = this.subStarts[i]!;
    const { count } = this.counts[i]!;
    for (const s of this.subStarts.splice(i)) this.seen.delete(s.subxid);
    this.counts = this.counts.slice(0, i);
    ftruncateSync(this.fd, offset);
    this.written = offset;
    this.total = count;
  }

  /** Reads the events back in order, in pages of at most `pageSize`. */
  *read(pageSize: number): Generator<T[]> {
    this.flush();
    let buf = Buffer.allocUnsafe(FLUSH_BYTES);
    let pos = 0;
    let page: T[] = [];
    while (pos < this.written) {
      const n = readSync(this.fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      // cut after the last complete line, so that no line (nor a multi-byte character) is split
      const lastNl = buf.lastIndexOf(0x0a, n - 1);
      if (lastNl < 0) {
        buf = Buffer.allocUnsafe(buf.length * 2); // one line longer than the buffer: grow and read again
        continue;
      }
      pos += lastNl + 1;
      const text = buf.toString('utf8', 0, lastNl + 1);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        page.push(JSON.parse(text.slice(start, nl)) as T);
        start = nl + 1;
        if (page.length >= pageSize) {
          yield page;
          page = [];
        }
      }
    }
    if (page.length > 0) yield page;
  }

  dispose(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    rmSync(this.path, { force: true });
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off, this.written + off);
    this.written += data.length;
  }
}

import type { Row } from '../../../schemas/index.ts';

/**
 * The watermark method (DBLog, Andreas & Netflix 2019) with Postgres's own visibility information, as one chunk of
 * a snapshot is read:
 *
 *   1. a window opens: from now on the source notes the key of every change of the resource it receives (it opens
 *      when the run is known, before the stream that serves it starts, and stays open for the whole run);
 *   2. the chunk is read (keyset, `where key > last order by key limit n`) in a REPEATABLE READ transaction whose
 *      first statement records the transaction's snapshot (`pg_current_snapshot()`: xmin, xmax, in-progress xids);
 *   3. a high watermark (`pg_logical_emit_message`) is written; when the stream reaches it, every change committed
 *      before it has been received. The chunk's rows are emitted right there, in stream order, minus every row whose
 *      key a change in the window touched (the stream carries that key's state as new as the chunk's, or newer), so
 *      a key is either read or streamed, never both, within one run of the stream.
 *
 * DBLog's low watermark is replaced by the window opening in memory plus one check that makes it exact: a
 * transaction received *before* the window opened must be visible to the chunk's snapshot. Postgres writes a commit
 * record before the transaction becomes visible (and a synchronous standby can keep it invisible for long), so a
 * transaction can reach us, then be invisible to a snapshot taken later. The source keeps the xids of the last
 * transactions it received; if one received before the window is invisible to the chunk's snapshot, the chunk is
 * read again (a few ms later). Keys touched in the window are dropped whether or not the chunk saw the change: a
 * row the chunk saw is already in the stream, so dropping it also avoids a duplicate.
 */

/** A `pg_current_snapshot()` (xid8 values), and visibility of a 32-bit xid as pgoutput sends it. */
export class PgSnapshot {
  readonly xmin: number;
  readonly xmax: number;
  readonly xip: ReadonlySet<number>;

  constructor(text: string) {
    const [xmin, xmax, xip] = text.split(':');
    this.xmin = Number(xmin);
    this.xmax = Number(xmax);
    this.xip = new Set(xip ? xip.split(',').filter(Boolean).map(Number) : []);
    if (!Number.isSafeInteger(this.xmin) || !Number.isSafeInteger(this.xmax)) {
      throw new Error(`not a pg_snapshot: "${text}"`);
    }
  }

  /** Whether the transaction with this 32-bit xid (committed) is visible in the snapshot. */
  visible(xid: number): boolean {
    // widen to xid8 as the xid nearest to xmax (modulo 2^32): live xids are always within 2^31 of each other
    const low = this.xmax % 2 ** 32;
    let diff = (xid - low) % 2 ** 32;
    if (diff >= 2 ** 31) diff -= 2 ** 32;
    else if (diff < -(2 ** 31)) diff += 2 ** 32;
    const full = this.xmax + diff;
    if (full < this.xmin) return true;
    return full < this.xmax && !this.xip.has(full);
  }
}

/** The xids of the last `capacity` transactions received, with a running count to mark "received before now". */
export class RecentXids {
  private readonly ring: Uint32Array;
  private count = 0;

  constructor(readonly capacity = 1 << 16) {
    this.ring = new Uint32Array(capacity);
  }

  push(xid: number): void {
    this.ring[this.count % this.capacity] = xid;
    this.count++;
  }

  /** A mark: transactions received from now on are after it. */
  mark(): number {
    return this.count;
  }

  /**
   * The first transaction received before `mark` (among those still remembered) that is invisible to `snapshot`,
   * or null.
   */
  invisibleBefore(mark: number, snapshot: PgSnapshot): number | null {
    const from = Math.max(0, this.count - this.capacity);
    for (let i = from; i < mark; i++) {
      const xid = this.ring[i % this.capacity]!;
      if (!snapshot.visible(xid)) return xid;
    }
    return null;
  }
}

/** Keys remembered per run (beyond this, only the current chunk's window is kept: still exact, more restated rows). */
const RUN_KEYS = 1_000_000;

/**
 * The keys of one resource's changes received while a snapshot run reads it. Open from the moment the run is known
 * to the source (before the stream that serves it starts), so that a row whose key the stream has carried since
 * is not restated by a chunk: the stream already delivered its state, as new as the chunk's or newer. The current
 * chunk's window is always complete; the run's memory of earlier keys is bounded by RUN_KEYS.
 */
export class RunWindow {
  private readonly earlier = new Set<string>();
  private chunk = new Set<string>();
  private truncated = false;
  private full = false;
  /** RecentXids mark when the window (or, once the run's memory is full, the current chunk's) opened. */
  private mark: number;

  constructor(
    readonly resource: string,
    readonly keyColumns: readonly string[],
    mark: number,
  ) {
    this.mark = mark;
  }

  /** A chunk's read begins: transactions received from now on are seen by its window. */
  beginChunk(mark: number): void {
    this.truncated = false;
    if (!this.full) {
      for (const k of this.chunk) this.earlier.add(k);
      this.full = this.earlier.size >= RUN_KEYS;
    }
    this.chunk = new Set();
    if (this.full) this.mark = mark;
  }

  /** Transactions received before this mark were not seen by the window (the visibility check covers them). */
  get since(): number {
    return this.mark;
  }

  /** Notes one received change of the window's resource (the old key too, when an update changed it). */
  observe(e: { op: string; key: Row; before?: Row | null }): void {
    if (e.op === 't') {
      this.truncated = true;
      return;
    }
    this.chunk.add(keyText(this.keyColumns, e.key));
    if (e.before) {
      const old = keyText(this.keyColumns, e.before);
      if (!old.includes('\u0000undefined')) this.chunk.add(old);
    }
  }

  /** Rows whose key the stream has not carried (none after a truncate in the chunk's window). */
  keep(rows: Row[]): { kept: Row[]; skipped: number } {
    if (this.truncated) return { kept: [], skipped: rows.length };
    if (this.chunk.size === 0 && this.earlier.size === 0) return { kept: rows, skipped: 0 };
    const kept = rows.filter((r) => {
      const k = keyText(this.keyColumns, r);
      return !this.chunk.has(k) && !this.earlier.has(k);
    });
    return { kept, skipped: rows.length - kept.length };
  }
}

/** A key's values as one string (the source's canonical text, so stream and chunk rows agree). */
export function keyText(columns: readonly string[], row: Row): string {
  let s = '';
  for (const c of columns) {
    const v = row[c];
    s += v === null ? '\u0000null' : v === undefined ? '\u0000undefined' : `\u0001${v}`;
  }
  return s;
}

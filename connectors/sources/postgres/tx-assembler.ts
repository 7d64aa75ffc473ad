import type { Row, SourceEvent } from '../../../schemas/index.ts';
import type { PgMessage, Relation, Tuple } from './pgoutput-decoder.ts';
import { PG_EPOCH_US } from './replication-stream.ts';
import { TxSpool } from './tx-spool.ts';

export interface ResourceBinding {
  resource: string;
  key: string[];
  /** The source's number of the relation's shape (kept columns and their types), carried in `schemaVersion`. */
  layout?: number;
}

/** An event before its transaction commits: position, commit time and txId are known only then. */
export type PendingEvent = Pick<SourceEvent, 'resource' | 'op' | 'key' | 'before' | 'after' | 'unchanged'> &
  Partial<Pick<SourceEvent, 'schemaVersion'>>;

/** A committed transaction: its events in memory, or in a spool file when it was large or streamed. */
export interface CommittedTx {
  xid: number;
  commitLsn: number;
  /** Confirm this once the transaction is durable downstream. */
  endLsn: number;
  /** RFC 3339 UTC with µs. */
  commitTs: string;
  count: number;
  events: PendingEvent[] | null;
  spool: TxSpool<PendingEvent> | null;
}

interface OpenTx {
  xid: number;
  /** A plain transaction's commit LSN, announced by its Begin. */
  finalLsn?: number;
  /** WAL position where we first saw the transaction. */
  firstLsn: number;
  events: PendingEvent[];
  spool: TxSpool<PendingEvent> | null;
}

export interface AssemblerOptions {
  /** Where streamed and large transactions wait for their commit. */
  spoolDir: string;
  /** Events of one non-streamed transaction held in memory before it moves to a spool. */
  spillAfter: number;
}

/** Fixed-width position: `<commit LSN, 8/8 hex>:<index in commit, 10 digits>` — orders as a string. */
export function eventPosition(commitLsn: string, index: number): string {
  return `${commitLsn}:${String(index).padStart(10, '0')}`;
}

/** µs since the Postgres epoch → RFC 3339 UTC with µs. */
export function isoFromPgMicros(pgUs: number): string {
  const us = pgUs + PG_EPOCH_US;
  const frac = ((us % 1_000_000) + 1_000_000) % 1_000_000; // floor semantics, also before 1970
  const ms = (us - frac) / 1000;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${String(frac).padStart(6, '0')}Z`);
}

/**
 * Folds decoded pgoutput messages into committed transactions of change events. Plain transactions (Begin … Commit)
 * collect in memory and move to a spool past `spillAfter` events; streamed ones (protocol 2, `streaming 'on'`:
 * Stream Start … Stop blocks of several transactions interleaved, then Stream Commit or Abort) always spool, with
 * sub-transaction aborts applied to the spool. Nothing is handed out before its commit.
 */
export class TxAssembler {
  private plain: OpenTx | null = null;
  private readonly streamed = new Map<number, OpenTx>();
  private streamXid: number | null = null;
  private spools = 0;

  constructor(private readonly opts: AssemblerOptions) {}

  /** True while any transaction is open (a plain one, or a streamed one not yet committed or aborted). */
  get inTransaction(): boolean {
    return this.plain !== null || this.streamed.size > 0;
  }

  /** The commit LSN of the plain transaction being received (its Begin announces it); null outside of one. */
  get plainCommitLsn(): number | null {
    return this.plain?.finalLsn ?? null;
  }

  /** The earliest WAL position of an open transaction; a confirmed position must never pass it. */
  oldestOpenLsn(): number | null {
    let min: number | null = this.plain?.firstLsn ?? null;
    for (const t of this.streamed.values()) if (min === null || t.firstLsn < min) min = t.firstLsn;
    return min;
  }

  /** Returns a committed transaction at its commit, otherwise null. */
  push(msg: PgMessage, walStart: number): CommittedTx | null {
    switch (msg.tag) {
      case 'insert':
        this.add(msg.xid, event(msg.rel, 'c', pickKey(msg.rel, msg.new.row), null, msg.new));
        return null;
      case 'update': {
        const after = msg.new;
        // REPLICA IDENTITY FULL sends the whole old row, so an unchanged TOAST value is known: fill it in. A key-only
        // old tuple is sent when a key column holds an external TOAST value (the new row marks it unchanged): the
        // key columns are known from it, the others are not.
        if (msg.old && after.unchanged) fillUnchanged(after, msg.keyOnly ? identityTuple(msg.rel, msg.old) : msg.old);
        const before = msg.old ? (msg.keyOnly ? keyTuple(msg.rel, msg.old) : msg.old) : null;
        this.add(msg.xid, event(msg.rel, 'u', pickKey(msg.rel, after.row), before, after));
        return null;
      }
      case 'delete': {
        const before = msg.keyOnly ? keyTuple(msg.rel, msg.old) : msg.old;
        this.add(msg.xid, event(msg.rel, 'd', pickKey(msg.rel, before.row), before, null));
        return null;
      }
      case 'truncate':
        for (const rel of msg.rels) this.add(msg.xid, event(rel, 't', {}, null, null));
        return null;
      case 'begin':
        this.plain = { xid: msg.xid, finalLsn: msg.finalLsn, firstLsn: walStart, events: [], spool: null };
        return null;
      case 'commit': {
        const tx = this.plain;
        this.plain = null;
        return tx ? this.finish(tx, msg.commitLsn, msg.endLsn, msg.commitTs) : null;
      }
      case 'stream_start': {
        this.streamXid = msg.xid;
        if (!this.streamed.has(msg.xid)) {
          this.streamed.set(msg.xid, { xid: msg.xid, firstLsn: walStart, events: [], spool: this.newSpool(msg.xid) });
        }
        return null;
      }
      case 'stream_stop':
        this.streamXid = null;
        return null;
      case 'stream_commit': {
        const tx = this.streamed.get(msg.xid);
        if (!tx) return null; // nothing of it was streamed to us (all changes in unbound relations)
        this.streamed.delete(msg.xid);
        return this.finish(tx, msg.commitLsn, msg.endLsn, msg.commitTs);
      }
      case 'stream_abort': {
        const tx = this.streamed.get(msg.xid);
        if (!tx) return null;
        if (msg.subxid === msg.xid) {
          tx.spool?.dispose();
          this.streamed.delete(msg.xid);
        } else {
          tx.spool?.abortSub(msg.subxid);
        }
        return null;
      }
      default:
        return null;
    }
  }

  /** Deletes every spool (the stream restarts from the confirmed position and resends open transactions). */
  dispose(): void {
    this.plain?.spool?.dispose();
    this.plain = null;
    for (const t of this.streamed.values()) t.spool?.dispose();
    this.streamed.clear();
    this.streamXid = null;
  }

  private add(subxid: number, ev: PendingEvent): void {
    if (this.streamXid !== null) {
      this.streamed.get(this.streamXid)!.spool!.append(subxid, ev);
      return;
    }
    const tx = this.plain;
    if (!tx) return; // a change outside any transaction: pgoutput never sends one
    if (tx.spool) {
      tx.spool.append(tx.xid, ev);
      return;
    }
    tx.events.push(ev);
    if (tx.events.length >= this.opts.spillAfter) {
      tx.spool = this.newSpool(tx.xid);
      for (const e of tx.events) tx.spool.append(tx.xid, e);
      tx.events = [];
    }
  }

  private newSpool(xid: number): TxSpool<PendingEvent> {
    return new TxSpool<PendingEvent>(this.opts.spoolDir, `tx-${xid}-${++this.spools}`);
  }

  private finish(tx: OpenTx, commitLsn: number, endLsn: number, commitTs: number): CommittedTx {
    const count = tx.spool ? tx.spool.count : tx.events.length;
    return {
      xid: tx.xid,
      commitLsn,
      endLsn,
      commitTs: isoFromPgMicros(commitTs),
      count,
      events: tx.spool ? null : tx.events,
      spool: tx.spool,
    };
  }
}

function event(rel: Relation, op: PendingEvent['op'], key: Row, before: Tuple | null, after: Tuple | null) {
  const b = rel.binding as ResourceBinding;
  const ev: PendingEvent = { resource: b.resource, op, key };
  if (b.layout !== undefined) ev.schemaVersion = b.layout;
  if (before) ev.before = before.row;
  if (after) {
    ev.after = after.row;
    if (after.unchanged) ev.unchanged = after.unchanged;
  }
  return ev;
}

function pickKey(rel: Relation, row: Row): Row {
  const out: Row = {};
  for (const c of (rel.binding as ResourceBinding).key) out[c] = row[c] ?? null;
  return out;
}

/** A replica-identity key tuple (`K`): the other columns are sent as NULL but are not known — keep the key only. */
function keyTuple(rel: Relation, t: Tuple): Tuple {
  return { row: pickKey(rel, t.row), unchanged: null };
}

/** The replica identity columns of a key tuple (`K`), the only ones whose values it carries. */
function identityTuple(rel: Relation, t: Tuple): Tuple {
  const row: Row = {};
  for (const c of rel.columns) if (c.isKey && c.name in t.row) row[c.name] = t.row[c.name] ?? null;
  return { row, unchanged: null };
}

function fillUnchanged(after: Tuple, old: Tuple): void {
  const still: string[] = [];
  for (const c of after.unchanged!) {
    const v = old.row[c];
    if (v !== undefined) after.row[c] = v;
    else still.push(c);
  }
  after.unchanged = still.length > 0 ? still : null;
}

import type pg from 'pg';
import type { Logger } from '../../../engine/ports/index.ts';
import type { Row, SourceEvent } from '../../../schemas/index.ts';
import type { TableRef } from './introspect.ts';
import { checkSnapshotKey, connectReader, estimateRows, readChunk, type Chunk } from './snapshot-reader.ts';
import { applyChange, type SnapshotChange, type SnapshotRun, type SnapshotState } from './snapshot-state.ts';
import { RecentXids, RunWindow } from './snapshot-window.ts';
import { eventPosition, type PendingEvent } from './tx-assembler.ts';
import { numberToLsn } from './replication-stream.ts';

/** What a snapshot needs to know about a resource the source streams. */
export interface SnapshotBinding {
  table: TableRef;
  key: { name: string; type: string }[];
  /** Columns read: the key and the columns that enter the platform, in table order. */
  columns: string[];
  /** The source's shape number of these columns as introspected (carried by the rows in `schemaVersion`). */
  layout: number;
}

/** A change to the snapshot state and the rows that come with it, in stream order (the source's queue). */
export interface SnapshotItem {
  change: SnapshotChange;
  events: SourceEvent[];
  /** WAL position of the high watermark the rows were emitted at (0: none). */
  end: number;
}

export interface RunnerHost {
  url: string;
  /** Prefix of this source's watermark messages. */
  prefix: string;
  chunkRows: number;
  logger: Logger;
  binding(resource: string): SnapshotBinding | undefined;
  /** The stream's queue has room for another chunk. */
  room(): boolean;
  /** Queues an item after everything the stream received so far; `waiter` hears when its checkpoint is confirmed. */
  push(item: SnapshotItem, waiter?: { resolve: () => void; reject: (e: Error) => void }): void;
  /** The snapshot could not go on (the provider connection broke): the source fails and restarts. */
  fail(e: unknown): void;
  /** Converts array columns to list text in place (as the stream's events are). */
  convert(resource: string, row: Row): void;
}

interface Pending {
  token: string;
  run: SnapshotRun;
  chunk: Chunk;
  estimated?: number;
  window: RunWindow;
  resolve: (outcome: 'emitted' | 'retry') => void;
}

/**
 * Runs a source's snapshots one chunk at a time while it streams (the watermark method, snapshot-window.ts). Lives as
 * long as one replication stream and is made before it opens, so that its windows see every transaction the stream
 * brings: a restart begins a new runner from the durable state, and a chunk that was read but not yet durable is
 * simply read again.
 */
export class SnapshotRunner {
  /** What will be durable once everything queued is: runs move ahead here as their chunks are queued. */
  readonly plan: SnapshotState;
  readonly recent = new RecentXids();
  /** One window per active run, open from when the runner learns of it. */
  private readonly windows = new Map<string, RunWindow>();
  private pending: Pending | null = null;
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  private seq = 0;
  private readonly log: Logger;
  readonly done: Promise<void>;

  constructor(
    private readonly host: RunnerHost,
    durable: SnapshotState,
  ) {
    this.plan = structuredClone(durable);
    this.log = host.logger.child({ component: 'snapshot' });
    for (const run of this.plan.active) this.open(run);
    this.done = this.loop().catch((e: unknown) => {
      if (!this.abort.signal.aborted) host.fail(e);
    });
  }

  /** Applies a change to the plan and queues it for the durable state. */
  change(
    change: SnapshotChange,
    events: SourceEvent[] = [],
    end = 0,
    waiter?: { resolve: () => void; reject: (e: Error) => void },
  ): void {
    applyChange(this.plan, change);
    if (change.kind === 'add') this.open(change.run);
    for (const id of this.windows.keys()) if (!this.plan.active.some((r) => r.id === id)) this.windows.delete(id);
    this.host.push({ change, events, end }, waiter);
    this.wake?.();
  }

  private open(run: SnapshotRun): void {
    const b = this.host.binding(run.resource);
    const key = b ? b.key.map((k) => k.name) : [];
    this.windows.set(run.id, new RunWindow(run.resource, key, this.recent.mark()));
  }

  /**
   * Applies a change that needs no place in the stream — one derived again from the stored state at every start
   * (initial runs, attaching with snapshotMode never): to the plan and, through `durable`, to what the next
   * checkpoint stores.
   */
  adopt(change: SnapshotChange, durable: SnapshotState): void {
    applyChange(this.plan, change);
    applyChange(durable, change);
    if (change.kind === 'add') this.open(change.run);
  }

  /** Every committed transaction the stream hands on, before it is queued. */
  observe(xid: number, events: Iterable<PendingEvent> | null): void {
    this.recent.push(xid);
    if (this.windows.size === 0 || !events) return;
    for (const e of events) for (const w of this.windows.values()) if (e.resource === w.resource) w.observe(e);
  }

  /** Whether a window needs to see transactions' events (a spooled one is then read once more). */
  get watching(): boolean {
    return this.windows.size > 0;
  }

  /**
   * A watermark message from the stream (at `lsn`, inside a transaction that commits at `commitLsn`): the pending
   * chunk's rows are queued here when it is ours. They take positions at the watermark's commit, as the events of
   * that transaction would: a transaction that committed between the message and that commit came before it in the
   * stream and has a higher position than the message's own.
   */
  onWatermark(content: string, lsn: number, commitLsn: number | null): void {
    const p = this.pending;
    if (!p || p.token !== content) return; // a replay of an older watermark after a restart, or another source's
    this.pending = null;
    if (commitLsn === null) {
      // not in a plain transaction (the server streamed it): its commit position is not known yet
      p.resolve('retry');
      return;
    }
    const race = this.recent.invisibleBefore(p.window.since, p.chunk.snapshot);
    if (race !== null) {
      this.log.debug('chunk read again: a transaction received before it is not visible to its snapshot yet', {
        resource: p.run.resource,
        xid: race,
      });
      p.resolve('retry');
      return;
    }
    const b = this.host.binding(p.run.resource)!;
    const { kept, skipped } = p.window.keep(p.chunk.rows);
    const at = numberToLsn(commitLsn);
    const events: SourceEvent[] = new Array(kept.length);
    for (let i = 0; i < kept.length; i++) {
      const after = kept[i]!;
      this.host.convert(p.run.resource, after);
      const key: Row = {};
      for (const k of b.key) key[k.name] = after[k.name] ?? null;
      events[i] = {
        resource: p.run.resource,
        op: 'r',
        key,
        after,
        position: eventPosition(at, i),
        commitTs: p.chunk.readAt,
        txId: `snapshot:${p.run.id}`,
        schemaVersion: b.layout,
        ...(p.run.target ? { target: p.run.target } : {}),
      };
    }
    const last = p.chunk.rows.length < this.host.chunkRows;
    this.change(
      {
        kind: 'chunk',
        id: p.run.id,
        after: p.chunk.last ?? p.run.after,
        rows: kept.length,
        skipped,
        ...(p.estimated !== undefined ? { estimated: p.estimated } : {}),
        last,
        at: new Date().toISOString(),
      },
      events,
      lsn,
    );
    if (last) this.log.info('snapshot done', { resource: p.run.resource, id: p.run.id, target: p.run.target });
    p.resolve('emitted');
  }

  stop(): Promise<void> {
    this.abort.abort();
    this.pending?.resolve('retry');
    this.pending = null;
    this.wake?.();
    return this.done;
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    let client: pg.Client | null = null;
    try {
      while (!signal.aborted) {
        const run = this.plan.active[0];
        if (!run) {
          await client?.end().catch(() => {}); // no connection held while there is nothing to read
          client = null;
          if (this.plan.active.length > 0 || signal.aborted) continue; // a run came while the connection closed
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
          continue;
        }
        const b = this.host.binding(run.resource);
        if (!b) {
          this.fail(run, `resource "${run.resource}" is no longer streamed by this provider`);
          continue;
        }
        client ??= await connectReader(this.host.url);
        let estimated: number | undefined;
        if (run.chunks === 0) {
          try {
            await checkSnapshotKey(
              client,
              run.resource,
              b.table,
              b.key.map((k) => k.name),
            );
          } catch (e) {
            this.fail(run, (e as Error).message);
            continue;
          }
          estimated = await estimateRows(client, b.table);
          this.log.info('snapshot started', { resource: run.resource, id: run.id, reason: run.reason, estimated });
        }
        while (!this.host.room() && !signal.aborted) await sleep(20);
        if (signal.aborted) return;
        const outcome = await this.chunk(client, run, b, estimated);
        if (outcome === 'retry') await sleep(20);
      }
    } finally {
      await client?.end().catch(() => {});
    }
  }

  /** Reads one chunk inside a window, then writes the high watermark and waits for the stream to reach it. */
  private async chunk(
    client: pg.Client,
    run: SnapshotRun,
    b: SnapshotBinding,
    estimated: number | undefined,
  ): Promise<'emitted' | 'retry'> {
    const window = this.windows.get(run.id)!;
    window.beginChunk(this.recent.mark());
    let chunk: Chunk;
    try {
      chunk = await readChunk(client, {
        table: b.table,
        key: b.key,
        columns: b.columns,
        after: run.after,
        limit: this.host.chunkRows,
      });
    } catch (e) {
      const code = (e as { code?: string }).code;
      // a statement the server refuses (privileges, a vanished column) will not work on a retry: the run fails
      if (code && /^(42|0A)/.test(code)) {
        this.fail(run, `reading ${b.table.schema}.${b.table.name}: ${(e as Error).message}`);
        return 'retry';
      }
      throw e;
    }
    if (this.abort.signal.aborted) return 'retry'; // stopped while reading: no one would see the watermark
    const token = `${run.id}#${run.chunks}#${++this.seq}`;
    const outcome = new Promise<'emitted' | 'retry'>((resolve) => {
      this.pending = { token, run, chunk, window, resolve, ...(estimated !== undefined ? { estimated } : {}) };
    });
    // Transactional: its commit flushes the WAL (a non-transactional message waits for the next flush, up to
    // wal_writer_delay). Even so the walsender sometimes holds the last transaction back until more WAL follows —
    // measured here: a chunk waited until the next heartbeat, ~10 s, in one run of three — so while we wait, a
    // small message every NUDGE_MS gives it that WAL.
    await client.query('select pg_logical_emit_message(true, $1, $2)', [this.host.prefix, token]);
    let settled = false;
    void outcome.then(() => (settled = true));
    for (;;) {
      const timer = new Promise<'nudge'>((resolve) => setTimeout(() => resolve('nudge'), NUDGE_MS));
      const first = await Promise.race([outcome, timer]);
      if (first !== 'nudge' || settled) return outcome;
      await client.query('select pg_logical_emit_message(false, $1, $2)', [this.host.prefix, 'nudge']);
    }
  }

  private fail(run: SnapshotRun, error: string): void {
    this.log.error('snapshot failed', { resource: run.resource, id: run.id, error });
    this.change({ kind: 'fail', id: run.id, error, at: new Date().toISOString() });
  }
}

/** How long a chunk waits for its watermark before nudging the walsender with more WAL. */
const NUDGE_MS = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

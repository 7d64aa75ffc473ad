import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SluiceError } from '../../../engine/errors.ts';
import type {
  ChangeBatch,
  Logger,
  ResourceShape,
  SnapshotProgress,
  SnapshotRequest,
  Source,
  SourceStatus,
} from '../../../engine/ports/index.ts';
import type { SourceEvent } from '../../../schemas/index.ts';
import { mapPgError } from './errors.ts';
import { pgArrayToJson } from './pg-array.ts';
import { describeRelationColumns, introspectTable, parseTable, quoteTable, replicaIdentity } from './introspect.ts';
import { LayoutRegistry, type ResourceColumns } from './layouts.ts';
import { PgoutputDecoder, type PgMessage, type Relation } from './pgoutput-decoder.ts';
import { lsnToNumber, numberToLsn, ReplicationStream, type WalChunk } from './replication-stream.ts';
import { checkSlot, type SlotRow } from './slot-check.ts';
import { SnapshotRunner, type SnapshotBinding, type SnapshotItem } from './snapshot-runner.ts';
import {
  applyChange,
  checkpointLsn,
  checkpointRev,
  checkpointState,
  afterSlotLoss,
  emptyState,
  encodeCheckpoint,
  progressOf,
  type SnapshotState,
} from './snapshot-state.ts';
import { eventPosition, TxAssembler, type CommittedTx, type PendingEvent } from './tx-assembler.ts';
import { CANONICAL_TEXT_OPTIONS } from './type-map.ts';

export interface PostgresResource {
  id: string;
  /** `schema.table` or `table`. */
  table: string;
  key: string[];
  /** Columns that may enter the platform (shareable classified fields); key columns are always kept. */
  columns: string[];
  /**
   * Columns the resource's stream carried before (its recorded schema versions). One of `columns` that the table no
   * longer has was dropped: the source goes on without it. Any other missing column is a configuration error.
   */
  streamed?: string[];
}

export interface PostgresSourceOptions {
  /** Provider id: slot and publication are `sluice_<id with - as _>`. */
  id: string;
  url: string;
  resources: PostgresResource[];
  logger: Logger;
  /** Events of committed transactions held in memory before reading pauses (backpressure). Default 50 000. */
  maxBufferedEvents?: number;
  /** Events of one plain transaction held in memory before it moves to the spool. Default 20 000. */
  spillAfter?: number;
  /** Where streamed and large transactions wait for their commit. Default: a folder under the OS temp dir. */
  spoolDir?: string;
  /** Standby status interval; must stay well under the server's wal_sender_timeout. Default 10 s. */
  statusIntervalMs?: number;
  /** `pg_logical_emit_message` heartbeat interval (0 = off). Default 10 s. */
  heartbeatIntervalMs?: number;
  /** Alert when the confirmed position has not moved for this long while the server's WAL grows. Default 5 min. */
  stallAfterMs?: number;
  /** Pause after a small socket read so that the server batches its writes (see ReplicationStream). Default 1 ms. */
  coalesceMs?: number;
  /**
   * `initial` (default): a resource's current rows are delivered (`op: r`) when it is first attached — a new
   * provider, or a table added to one; `never`: only changes from the slot's creation on.
   */
  snapshotMode?: 'initial' | 'never';
  /** Rows per snapshot chunk (one keyset read, one bus append). Default 10 000. */
  chunkRows?: number;
  /**
   * The first start re-creates a slot that cannot be resumed (missing, invalidated, advanced by someone else) and
   * re-snapshots every resource (`sluice run --recover-slot`); a healthy slot is resumed as it is.
   */
  recoverSlot?: boolean;
}

type QueueItem =
  { tx: CommittedTx; commitMs: number } | { idle: number } | { snap: SnapshotItem; waiter?: DurableWaiter };

/** A snapshot request waiting until a checkpoint that stores it is confirmed (rejected if the stream restarts first). */
interface DurableWaiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

const HEARTBEAT_PREFIX = 'sluice.heartbeat';
const WATERMARK_PREFIX = 'sluice.snapshot';

/** Messages above this size get a status reply before and after their (synchronous) decoding and spooling. */
const LARGE_MESSAGE = 1 << 20;

/**
 * PostgreSQL logical replication with a pgoutput protocol-2 decoder of our own on `pg`'s replication connection
 * (REFERENCE: pg-logical-replication cannot stream large transactions, confirms on its own timer and spends most of
 * the client CPU). Streaming is on, so a transaction of any size flows through the spool; a position is confirmed
 * only after the bus stored it (the pump calls `commit` after the append that carried its checkpoint), never past an
 * open transaction's start, and the stream keeps answering the server while reading is paused for backpressure.
 */
export class PostgresSource implements Source {
  readonly id: string;
  readonly slot: string;
  readonly publication: string;
  private readonly opts: PostgresSourceOptions;
  private readonly log: Logger;
  private readonly spoolDir: string;
  /** `schema.table` → the resource it feeds and the columns kept of it. */
  private bindings = new Map<string, ResourceColumns>();
  private readonly layouts = new LayoutRegistry();
  private state: SourceStatus['state'] = 'STOPPED';
  private lastError: string | undefined;
  /** Last position sent to the server as flushed. */
  private confirmed = 0;
  private confirmedMovedAt = Date.now();
  /** Highest checkpoint handed out with a batch (monotonic). */
  private handedOut = 0;
  private received: number | null = null;
  private stream: ReplicationStream | null = null;
  private assembler: TxAssembler | null = null;
  private queue: QueueItem[] = [];
  private queuedEvents = 0;
  private queuedSpools = 0;
  private wake: (() => void) | null = null;
  private space: (() => void) | null = null;
  private failure: Error | null = null;
  private timers: NodeJS.Timeout[] = [];
  private admin: pg.Pool | null = null;
  private lagBytes: number | undefined;
  private walAtConfirm: number | null = null;
  private stalled = false;
  /** Commit time (ms) of the oldest transaction handed out but not yet durable. */
  private inFlightCommitMs: number | null = null;
  private heartbeatOutstandingSince: number | null = null;
  private heartbeatRtt = 0;
  private heartbeatWarned = false;
  private lastIdlePush = 0;
  /** The standby status interval: the configured one, or a third of the server's wal_sender_timeout if shorter. */
  private statusIntervalMs = 10_000;
  private restartWanted = false;
  /** Snapshot state as stored with the checkpoint the source started from. */
  private loaded: SnapshotState = emptyState();
  /** Snapshot state as handed out with the last checkpoint (in stream order). */
  private durable: SnapshotState = emptyState();
  private runner: SnapshotRunner | null = null;
  private snapBindings = new Map<string, SnapshotBinding>();
  /** Requests waiting for a checkpoint with their rev to be confirmed. */
  private durableWaiters: (DurableWaiter & { rev: number })[] = [];
  /** The next start re-creates an unusable slot and re-snapshots every resource. */
  private recovering: boolean;
  private recoveryWaiters: { resolve: (runs: SnapshotProgress[]) => void; reject: (e: Error) => void }[] = [];
  /** The last start or stream failed because the slot cannot be resumed. */
  private slotInvalid = false;
  /** The stream's first batch stores the checkpoint of a slot created anew (with the re-snapshot runs in it). */
  private announce = false;

  constructor(opts: PostgresSourceOptions) {
    this.opts = { ...opts };
    this.id = opts.id;
    this.slot = `sluice_${opts.id.replaceAll('-', '_')}`;
    this.publication = this.slot;
    this.spoolDir = opts.spoolDir ?? join(tmpdir(), `sluice-spool-${process.pid}`, opts.id);
    this.log = opts.logger.child({ component: 'source', sourceId: opts.id });
    this.recovering = opts.recoverSlot ?? false;
  }

  async start(
    signal: AbortSignal,
    opts: { lastPosition: string | null; checkpoint: string | null },
  ): Promise<ResourceShape[]> {
    await this.stopStreaming();
    this.restartWanted = false;
    // a failed source retrying is still failed to its operators until an attempt gets through
    if (this.state !== 'FAILED') this.state = 'STARTING';
    const client = new pg.Client(this.clientConfig());
    try {
      await client.connect();
      signal.throwIfAborted();
      const settings = await client.query<{ wal_level: string; version: string; timeout: string }>(
        `select current_setting('wal_level') as wal_level, current_setting('server_version_num') as version,
                (select setting from pg_settings where name = 'wal_sender_timeout') as timeout`,
      );
      const { wal_level: walLevel, version, timeout } = settings.rows[0]!;
      // Status updates must reach the walsender well within its timeout, also while reading is paused.
      const senderTimeout = Number(timeout);
      const wanted = this.opts.statusIntervalMs ?? 10_000;
      this.statusIntervalMs = senderTimeout > 0 ? Math.min(wanted, Math.max(100, senderTimeout / 3)) : wanted;
      if (walLevel !== 'logical') {
        throw new SluiceError(
          'SOURCE_FAILED',
          `provider "${this.id}": wal_level is "${walLevel}", logical replication needs wal_level=logical (set it in postgresql.conf and restart the server)`,
          { details: { provider: this.id, setting: 'wal_level' } },
        );
      }
      if (Number(version) < 140000) {
        throw new SluiceError(
          'SOURCE_FAILED',
          `provider "${this.id}": PostgreSQL ${version} is too old: streaming of large transactions (pgoutput protocol 2) needs PostgreSQL 14 or later`,
          { details: { provider: this.id, serverVersion: version } },
        );
      }
      const shapes = await this.bind(client);
      await this.ensurePublication(client);
      const stored = { lastPosition: opts.lastPosition, checkpoint: opts.checkpoint && checkpointLsn(opts.checkpoint) };
      const recreated = await this.ensureSlot(client, stored, Number(version));
      // Snapshot state travels with the checkpoint. Nothing stored at all: a new provider (or one whose first run died
      // before storing anything) — every resource is snapshotted; a checkpoint or position without state: a provider
      // attached before snapshots existed — its resources count as attached.
      const fresh = opts.checkpoint === null && opts.lastPosition === null;
      this.loaded = checkpointState(opts.checkpoint) ?? emptyState(fresh ? [] : this.opts.resources.map((r) => r.id));
      this.slotInvalid = false;
      if (this.recovering) this.finishRecovery(recreated);
      return shapes;
    } catch (e) {
      this.fail(e);
      const err = mapPgError(e, `provider "${this.id}"`);
      err.details.provider ??= this.id;
      if (err.code === 'SLOT_INVALID') this.slotInvalid = true;
      if (this.recoveryWaiters.length > 0) {
        const waiting = new SluiceError(
          err.code,
          `${err.message} (the recovery stays requested: it is tried again with the next start)`,
          { retriable: err.retriable, details: err.details, cause: err },
        );
        for (const w of this.recoveryWaiters.splice(0)) w.reject(waiting);
      }
      throw err;
    } finally {
      await client.end().catch(() => {});
    }
  }

  private clientConfig(): pg.ClientConfig {
    return { connectionString: this.opts.url, options: CANONICAL_TEXT_OPTIONS, connectionTimeoutMillis: 10_000 };
  }

  /** Introspects every resource's table; checks its columns and that deletes will carry its key. */
  private async bind(client: pg.Client): Promise<ResourceShape[]> {
    const shapes: ResourceShape[] = [];
    this.bindings.clear();
    this.snapBindings.clear();
    for (const r of this.opts.resources) {
      const t = parseTable(r.table);
      const live = await introspectTable(client, t).catch((e: unknown) => {
        if (e instanceof SluiceError) e.details.resource = r.id;
        throw e;
      });
      const byName = new Map(live.map((c) => [c.name, c]));
      const dropped: string[] = [];
      for (const c of [...r.key, ...r.columns]) {
        if (!byName.has(c) && !r.key.includes(c) && r.streamed?.includes(c)) dropped.push(c);
        else if (!byName.has(c)) {
          throw new SluiceError(
            'SOURCE_FAILED',
            `resource "${r.id}": column "${c}" does not exist in ${t.schema}.${t.name}`,
            {
              details: { resource: r.id, column: c },
            },
          );
        }
      }
      const identity = await replicaIdentity(client, t);
      if (identity.mode !== 'full' && !r.key.every((k) => identity.columns.includes(k))) {
        const has = identity.columns.length > 0 ? `(${identity.columns.join(', ')})` : 'no key';
        throw new SluiceError(
          'SOURCE_FAILED',
          `resource "${r.id}": key (${r.key.join(', ')}) is not covered by the replica identity of ${t.schema}.${t.name}, which sends ${has} with deletes — a delete could not name its row`,
          {
            details: {
              resource: r.id,
              table: `${t.schema}.${t.name}`,
              replicaIdentity: identity.mode,
              recovery: `alter table ${quoteTable(t)} replica identity full, or declare the primary key as the resource key`,
            },
          },
        );
      }
      if (dropped.length > 0) {
        this.log.warn('columns dropped from the table: the resource goes on without them', {
          resource: r.id,
          table: `${t.schema}.${t.name}`,
          columns: dropped,
        });
      }
      const keep = new Set([...r.key, ...r.columns.filter((c) => !dropped.includes(c))]);
      const bound: ResourceColumns = { resource: r.id, key: r.key, keep };
      this.bindings.set(`${t.schema}.${t.name}`, bound);
      const layout = this.layouts.fromTable(bound, live);
      this.snapBindings.set(r.id, {
        table: t,
        key: r.key.map((k) => ({ name: k, type: byName.get(k)!.type })),
        columns: layout.columns.map((c) => c.name),
        layout: layout.id,
      });
      shapes.push(layout.shape!);
    }
    this.layouts.restart(shapes.map((s) => this.layouts.get(s.layout)!));
    return shapes;
  }

  private async ensurePublication(client: pg.Client): Promise<void> {
    const tables = this.opts.resources.map((r) => quoteTable(parseTable(r.table))).join(', ');
    const exists = await client.query('select 1 from pg_publication where pubname = $1', [this.publication]);
    if (exists.rowCount === 0) {
      await client.query(`create publication ${this.publication} for table ${tables}`);
      return;
    }
    // A publication the DBA made (as the tables' owner) that already has every table is used as it is: altering it
    // would need its owner's rights. Extra tables in it are harmless (their changes are not bound to a resource).
    const { rows } = await client.query<{ t: string }>(
      `select schemaname || '.' || tablename as t from pg_publication_tables where pubname = $1`,
      [this.publication],
    );
    const published = new Set(rows.map((r) => r.t));
    const wanted = this.opts.resources.map((r) => parseTable(r.table)).map((t) => `${t.schema}.${t.name}`);
    if (wanted.every((t) => published.has(t))) return;
    await client.query(`alter publication ${this.publication} set table ${tables}`);
  }

  /**
   * Verifies (or creates) the slot against what the bus holds; refuses anything that would skip changes — unless a
   * recovery was asked for: then an unusable slot is dropped and created anew (returns true).
   */
  private async ensureSlot(
    client: pg.Client,
    stored: { lastPosition: string | null; checkpoint: string | null },
    version: number,
  ): Promise<boolean> {
    const invalidation = version >= 170000 ? 'invalidation_reason' : 'null::text';
    const { rows } = await client.query<SlotRow>(
      `select plugin, confirmed_flush_lsn::text as confirmed, wal_status as "walStatus", ${invalidation} as invalidation
         from pg_replication_slots where slot_name = $1`,
      [this.slot],
    );
    const decision = checkSlot(this.id, this.slot, rows[0], stored, this.recovering);
    let confirmed = rows[0]?.confirmed ?? null;
    if (decision.action === 'recreate') {
      if (rows[0]) await client.query('select pg_drop_replication_slot($1)', [this.slot]);
      const created = await client.query<{ lsn: string }>(
        `select lsn::text from pg_create_logical_replication_slot($1, 'pgoutput')`,
        [this.slot],
      );
      confirmed = created.rows[0]!.lsn;
      this.log.warn('replication slot created anew: every resource of the provider is re-snapshotted', {
        slot: this.slot,
        at: confirmed,
        because: decision.reason,
      });
    } else if (decision.action === 'create') {
      const created = await client.query<{ lsn: string }>(
        `select lsn::text from pg_create_logical_replication_slot($1, 'pgoutput')`,
        [this.slot],
      );
      confirmed = created.rows[0]!.lsn;
      this.log.info('created replication slot', { slot: this.slot, at: confirmed });
    } else if (decision.warning) {
      this.log.warn(decision.warning, { slot: this.slot });
    } else if (!stored.lastPosition && !stored.checkpoint) {
      this.log.info('resuming an existing slot; the bus holds nothing from it yet', { slot: this.slot, at: confirmed });
    }
    const at = confirmed ? lsnToNumber(confirmed) : 0;
    const cp = stored.checkpoint ? lsnToNumber(stored.checkpoint) : 0;
    // The server resumes from its confirmed position; we confirm nothing below what the bus already allowed.
    this.confirmed = Math.max(at, cp);
    this.handedOut = this.confirmed;
    this.confirmedMovedAt = Date.now();
    return decision.action === 'recreate';
  }

  /**
   * After a start that was asked to recover: with the slot created anew, every resource re-snapshots, and the first
   * batch stores the new position with those runs (until then a crash shows the slot as unusable again, and the
   * recovery is simply asked for again). A healthy slot needed nothing.
   */
  private finishRecovery(recreated: boolean): void {
    this.recovering = false;
    if (recreated) {
      const runs = this.opts.resources.map((r) => newRun(r.id, 'resnapshot'));
      this.loaded = afterSlotLoss(this.loaded, runs);
      this.announce = true;
    } else this.log.info('recovery asked for, but the slot is usable: streaming resumes from it', { slot: this.slot });
    const runs = this.loaded.active.filter((r) => !r.target).map((r) => progressOf(r, this.id));
    for (const w of this.recoveryWaiters.splice(0)) w.resolve(runs);
  }

  /** The last start failed because the slot cannot be resumed: `recover` is the way out. */
  get needsRecovery(): boolean {
    return this.slotInvalid;
  }

  /**
   * Asks the next start to re-create the unusable slot and re-snapshot every resource; resolves with the runs once
   * that start went through, rejects when it failed (the request stays: the next start tries again). `retryNow`
   * lets the caller cut the pump's back-off short.
   */
  recover(retryNow?: () => void): Promise<SnapshotProgress[]> {
    this.recovering = true;
    const done = new Promise<SnapshotProgress[]>((resolve, reject) => this.recoveryWaiters.push({ resolve, reject }));
    this.restartWanted = true;
    this.wake?.();
    retryNow?.();
    return done;
  }

  async *read(opts: { maxEvents: number; signal: AbortSignal }): AsyncIterable<ChangeBatch> {
    await this.openStream();
    const onAbort = () => this.wake?.();
    opts.signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        while (this.queue.length === 0) {
          if (this.failure) throw this.failure;
          if (opts.signal.aborted || this.state === 'STOPPED' || this.takeRestart()) return;
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
        }
        if (this.failure) throw this.failure;
        if (opts.signal.aborted || this.state === 'STOPPED' || this.takeRestart()) return;
        const head = this.queue[0]!;
        if ('tx' in head && head.tx.spool) {
          this.queue.shift();
          this.queuedSpools--;
          for (const batch of this.readSpooled(head.tx, head.commitMs, opts.maxEvents)) {
            yield await this.withShapes(batch);
          }
        } else {
          yield await this.withShapes(this.takeInMemory(opts.maxEvents));
        }
        this.space?.();
      }
    } finally {
      opts.signal.removeEventListener('abort', onAbort);
    }
  }

  /** The batch with the shapes the stream announced since the last batch (a table's columns changed). */
  private async withShapes(batch: ChangeBatch): Promise<ChangeBatch> {
    if (!this.layouts.pending) return batch;
    const shapes = await this.layouts.report((columns) => describeRelationColumns(this.adminPool(), columns));
    for (const shape of shapes) {
      this.log.info('the stream brings a new shape of a table', {
        resource: shape.resource,
        columns: shape.columns.map((c) => `${c.name} ${c.sourceType}`),
      });
    }
    return { ...batch, shapes };
  }

  /** Whole in-memory transactions (and idle checkpoints) up to maxEvents — at least one transaction. */
  private takeInMemory(maxEvents: number): ChangeBatch {
    const events: SourceEvent[] = [];
    let end = 0;
    while (this.queue.length > 0) {
      const item = this.queue[0]!;
      if ('tx' in item) {
        if (item.tx.spool) break;
        const txEvents = item.tx.events!;
        if (events.length > 0 && events.length + txEvents.length > maxEvents) break;
        this.queue.shift();
        this.queuedEvents -= txEvents.length;
        const commitLsn = numberToLsn(item.tx.commitLsn);
        for (let i = 0; i < txEvents.length; i++) events.push(this.finalize(txEvents[i]!, commitLsn, i, item.tx));
        end = Math.max(end, item.tx.endLsn);
        this.noteInFlight(item.commitMs);
      } else if ('snap' in item) {
        // a chunk is one append: its rows and the progress that says they are stored are durable together
        const rows = item.snap.events;
        if (events.length > 0 && events.length + rows.length > maxEvents) break;
        this.queue.shift();
        this.queuedEvents -= rows.length;
        for (const e of rows) events.push(e);
        applyChange(this.durable, item.snap.change);
        if (item.waiter) this.durableWaiters.push({ rev: this.durable.rev, ...item.waiter });
        end = Math.max(end, item.snap.end, this.handedOut);
      } else {
        this.queue.shift();
        end = Math.max(end, item.idle);
      }
    }
    return { events, checkpoint: this.checkpointFor(end) };
  }

  /** A spooled transaction in fragments of maxEvents; only the last one carries the checkpoint. */
  private *readSpooled(tx: CommittedTx, commitMs: number, maxEvents: number): Generator<ChangeBatch> {
    const spool = tx.spool!;
    try {
      const commitLsn = numberToLsn(tx.commitLsn);
      let index = 0;
      this.noteInFlight(commitMs);
      const pages = spool.read(maxEvents);
      let page = pages.next();
      if (page.done) {
        yield { events: [], checkpoint: this.checkpointFor(tx.endLsn) };
        return;
      }
      while (!page.done) {
        const events = page.value.map((e) => this.finalize(e, commitLsn, index++, tx));
        const next = pages.next();
        yield { events, checkpoint: next.done ? this.checkpointFor(tx.endLsn) : '' };
        page = next;
      }
    } finally {
      spool.dispose();
    }
  }

  /**
   * A transaction's end position as a checkpoint: never past an open transaction's start, never backwards; with the
   * snapshot state as handed out so far, so that a chunk's progress is stored in the same append as its rows.
   */
  private checkpointFor(end: number): string {
    if (end === 0) return '';
    let cp = end;
    const open = this.assembler?.oldestOpenLsn() ?? null;
    if (open !== null && open < cp) cp = open;
    if (cp < this.handedOut) cp = this.handedOut;
    this.handedOut = cp;
    return encodeCheckpoint(numberToLsn(cp), this.durable);
  }

  /** A pending event with its position, commit time and transaction; array values in list form. */
  private finalize(e: PendingEvent, commitLsn: string, index: number, tx: CommittedTx): SourceEvent {
    const out = e as SourceEvent;
    out.position = eventPosition(commitLsn, index);
    out.commitTs = tx.commitTs;
    out.txId = String(tx.xid);
    const arrays = this.layouts.get(out.schemaVersion)?.arrays;
    if (arrays?.length) {
      convertArrays(out.after, arrays);
      convertArrays(out.before, arrays);
      convertArrays(out.key, arrays);
    }
    return out;
  }

  private noteInFlight(commitMs: number): void {
    if (this.inFlightCommitMs === null || commitMs < this.inFlightCommitMs) this.inFlightCommitMs = commitMs;
  }

  private async openStream(): Promise<void> {
    await this.stopStreaming();
    this.failure = null;
    this.queue = [];
    this.queuedEvents = 0;
    this.queuedSpools = 0;
    rmSync(this.spoolDir, { recursive: true, force: true }); // spools of a previous run: the server resends them
    if (this.announce) {
      this.announce = false;
      this.queue.push({ idle: this.confirmed }); // stores the new slot's position, with the re-snapshot runs
    }
    this.assembler = new TxAssembler({ spoolDir: this.spoolDir, spillAfter: this.opts.spillAfter ?? 20_000 });
    this.startSnapshots(); // before the stream opens: its windows see every transaction the stream brings
    const decoder = new PgoutputDecoder((rel) => this.bindRelation(rel));
    const assembler = this.assembler;
    this.stream = await ReplicationStream.open(
      this.clientConfig(),
      {
        slot: this.slot,
        startLsn: '0/0',
        pluginOptions: {
          proto_version: '2',
          publication_names: this.publication,
          streaming: 'on',
          messages: 'true',
        },
      },
      (chunk) => this.onChunk(chunk, decoder, assembler),
      (error) => {
        if (error) this.fail(mapStreamError(error, this.id, this.slot));
      },
      { coalesceMs: this.opts.coalesceMs ?? 1 },
    );
    this.state = 'STREAMING';
    const statusEvery = this.statusIntervalMs;
    this.timers.push(setInterval(() => void this.onStatusTimer(), statusEvery));
    const heartbeatEvery = this.opts.heartbeatIntervalMs ?? 10_000;
    if (heartbeatEvery > 0) this.timers.push(setInterval(() => void this.emitHeartbeat(), heartbeatEvery));
    this.stream.sendStatus(this.confirmed);
    void this.sampleLag();
    this.log.info('streaming', { slot: this.slot, publication: this.publication, from: numberToLsn(this.confirmed) });
  }

  /**
   * A snapshot runner for this stream, from the durable state; resources not attached yet get their initial snapshot
   * (a new provider, or a table added to a running one) — or are attached as they are with snapshotMode `never`.
   */
  private startSnapshots(): void {
    this.durable = structuredClone(this.loaded);
    const runner = new SnapshotRunner(
      {
        url: this.opts.url,
        prefix: `${WATERMARK_PREFIX}.${this.slot}`,
        chunkRows: this.opts.chunkRows ?? 10_000,
        logger: this.log,
        binding: (resource) => this.snapBindings.get(resource),
        room: () => this.queuedEvents < (this.opts.maxBufferedEvents ?? 50_000) / 2 && this.queuedSpools === 0,
        push: (item, waiter) => {
          this.queue.push({ snap: item, ...(waiter ? { waiter } : {}) });
          this.queuedEvents += item.events.length;
          this.wake?.();
        },
        fail: (e) => this.fail(mapPgError(e, `provider "${this.id}": snapshot`)),
        convert: (resource, row) => {
          const arrays = this.layouts.get(this.snapBindings.get(resource)!.layout)?.arrays;
          if (arrays?.length) convertArrays(row, arrays);
        },
      },
      this.durable,
    );
    this.runner = runner;
    const plan = runner.plan;
    const unattached = this.opts.resources
      .map((r) => r.id)
      .filter((id) => !plan.attached.includes(id) && !plan.active.some((a) => a.resource === id && !a.target));
    if (unattached.length === 0) return;
    // derived from the stored state at every start, so they need no place in the stream of their own
    if (this.opts.snapshotMode === 'never') {
      runner.adopt({ kind: 'attach', resources: unattached }, this.durable);
      return;
    }
    for (const resource of unattached) runner.adopt({ kind: 'add', run: newRun(resource, 'initial') }, this.durable);
  }

  /**
   * Resources (as of the last start) whose initial snapshot has not finished: their bus holds everything from their
   * attach on, so a new subscription reads it from the start rather than asking for a backfill.
   */
  unattached(): string[] {
    if (this.opts.snapshotMode === 'never') return [];
    return this.opts.resources.map((r) => r.id).filter((id) => !this.loaded.attached.includes(id));
  }

  /**
   * Starts a snapshot run (DESIGN.md: resnapshot a resource, backfill a subscription); resolves once the request is
   * stored with a checkpoint, so it survives a crash. An active run for the same resource and subscription is
   * returned as it is.
   */
  async snapshot(req: SnapshotRequest): Promise<SnapshotProgress> {
    const runner = this.runner;
    if (this.state !== 'STREAMING' || !runner || this.restartWanted) {
      // re-binding (a classification changed): a run taken now could read chunks with the columns of before
      const now = this.restartWanted
        ? 're-binding its tables'
        : `not streaming (${this.state}${this.lastError ? `: ${this.lastError}` : ''})`;
      throw new SluiceError('UNAVAILABLE', `provider "${this.id}" is ${now}; a snapshot starts once it streams`, {
        retriable: true,
        details: { provider: this.id },
      });
    }
    if (!this.snapBindings.has(req.resource)) {
      throw new SluiceError('NOT_FOUND', `provider "${this.id}" streams no resource "${req.resource}"`, {
        details: { provider: this.id, resource: req.resource },
      });
    }
    const same = runner.plan.active.find((r) => r.resource === req.resource && r.target === req.subscription);
    if (same) return progressOf(same, this.id);
    const run = newRun(req.resource, req.reason, req.subscription);
    await new Promise<void>((resolve, reject) => runner.change({ kind: 'add', run }, [], 0, { resolve, reject }));
    this.log.info('snapshot requested', { resource: run.resource, id: run.id, reason: run.reason, target: run.target });
    return progressOf(run, this.id);
  }

  private bindRelation(rel: Omit<Relation, 'keep' | 'binding'>): { keep: (string | null)[]; binding: unknown } | null {
    const b = this.bindings.get(`${rel.schema}.${rel.name}`);
    if (!b) return null;
    try {
      const layout = this.layouts.fromRelation(b, `${rel.schema}.${rel.name}`, rel.columns);
      return { keep: rel.columns.map((c) => (b.keep.has(c.name) ? c.name : null)), binding: layout.binding };
    } catch (e) {
      this.fail(e); // nothing of the relation is confirmed from here on; the error says what to do
      return null;
    }
  }

  /** One socket read: decode every message in order, then handle the keepalive; may pause reading. */
  private onChunk(chunk: WalChunk, decoder: PgoutputDecoder, assembler: TxAssembler): void | Promise<void> {
    const { buf, frames } = chunk;
    for (let i = 0; i < frames.length; i += 3) {
      const walStart = frames[i + 2]!;
      // A large message (a big value) takes long to decode and spool, and no status timer runs meanwhile: answer the
      // server around it, so a busy machine does not look like a dead client to wal_sender_timeout — a timeout here
      // would make it send the same message again, and time out again.
      const large = frames[i + 1]! - frames[i]! > LARGE_MESSAGE;
      if (large) this.stream?.sendStatus(this.confirmed);
      const msg = decoder.decode(buf, frames[i]!, frames[i + 1]!);
      if (!msg) continue;
      if (msg.tag === 'message') {
        if (this.onLogicalMessage(msg, assembler)) this.advanceIdle(msg.lsn, assembler);
        continue;
      }
      const tx = assembler.push(msg, walStart);
      if (large) this.stream?.sendStatus(this.confirmed);
      if (tx) this.enqueue(tx);
    }
    if (chunk.walEnd > 0) this.advanceIdle(chunk.walEnd, assembler);
    if (chunk.replyRequested) this.stream?.sendStatus(this.confirmed);
    return this.backpressure();
  }

  private enqueue(tx: CommittedTx): void {
    const runner = this.runner;
    if (runner) {
      // a chunk's window sees every change of its resource; a spooled transaction is read once more for that
      const events = tx.events ?? (runner.watching && tx.spool ? spooledEvents(tx) : null);
      runner.observe(tx.xid, events);
    }
    this.received = tx.endLsn;
    this.queue.push({ tx, commitMs: Date.parse(tx.commitTs) });
    if (tx.spool) this.queuedSpools++;
    else this.queuedEvents += tx.count;
    this.wake?.();
  }

  /**
   * A keepalive (or our own heartbeat message) reports how far the server has decoded. With no transaction open,
   * everything before it that concerns us is queued already, so the position may be confirmed once the queue ahead
   * of it is durable: queue it as an idle checkpoint (at most once a second, merged with one already waiting).
   */
  private advanceIdle(walEnd: number, assembler: TxAssembler): void {
    if (assembler.inTransaction || walEnd <= this.handedOut) return;
    const last = this.queue[this.queue.length - 1];
    if (last && 'idle' in last) {
      last.idle = Math.max(last.idle, walEnd);
      return;
    }
    const now = Date.now();
    if (now - this.lastIdlePush < 1000) return;
    this.lastIdlePush = now;
    this.queue.push({ idle: walEnd });
    this.wake?.();
  }

  /** Returns true for one of our heartbeats (after noting its round trip); hands our watermarks to the runner. */
  private onLogicalMessage(msg: Extract<PgMessage, { tag: 'message' }>, assembler: TxAssembler): boolean {
    if (msg.prefix === `${WATERMARK_PREFIX}.${this.slot}`) {
      this.runner?.onWatermark(msg.content.toString('utf8'), msg.lsn, assembler.plainCommitLsn);
      return true;
    }
    if (msg.transactional || msg.prefix !== `${HEARTBEAT_PREFIX}.${this.slot}`) return false;
    const sentAt = Number(msg.content.toString('utf8'));
    if (!Number.isFinite(sentAt)) return false;
    this.heartbeatRtt = Math.max(0, Date.now() - sentAt);
    if (this.heartbeatOutstandingSince !== null && sentAt >= this.heartbeatOutstandingSince) {
      this.heartbeatOutstandingSince = null;
    }
    return true;
  }

  private backpressure(): Promise<void> | undefined {
    const full = () =>
      this.state === 'STREAMING' &&
      (this.queuedEvents > (this.opts.maxBufferedEvents ?? 50_000) || this.queuedSpools >= 2);
    if (!full()) return undefined;
    return (async () => {
      while (full()) {
        await new Promise<void>((resolve) => (this.space = resolve));
        this.space = null;
      }
    })();
  }

  async commit(checkpoint: string): Promise<void> {
    if (!checkpoint) return;
    this.inFlightCommitMs = null;
    const rev = checkpointRev(checkpoint);
    if (rev >= 0 && this.durableWaiters.length > 0) {
      const ready = this.durableWaiters.filter((w) => w.rev <= rev);
      this.durableWaiters = this.durableWaiters.filter((w) => w.rev > rev);
      for (const w of ready) w.resolve();
    }
    const v = lsnToNumber(checkpointLsn(checkpoint));
    if (v <= this.confirmed) return;
    this.confirmed = v;
    this.confirmedMovedAt = Date.now();
    this.walAtConfirm = null;
    // the position moved: by definition no longer stalled (not only from the next lag sample on, which a busy admin
    // connection can delay)
    if (this.stalled) {
      this.stalled = false;
      this.log.info('slot advancing again', { slot: this.slot });
    }
    this.stream?.sendStatus(v);
  }

  private async onStatusTimer(): Promise<void> {
    this.stream?.sendStatus(this.confirmed);
    await this.sampleLag();
  }

  private adminPool(): pg.Pool {
    if (!this.admin) {
      this.admin = new pg.Pool({ ...this.clientConfig(), max: 1 });
      this.admin.on('error', () => {}); // an idle admin connection dropping is not a source failure
    }
    return this.admin;
  }

  async caughtUp(signal?: AbortSignal): Promise<void> {
    const { rows } = await this.adminPool().query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
    const target = lsnToNumber(rows[0]!.lsn);
    // a heartbeat after the target lets an idle stream confirm a position past it (idle checkpoints come at most
    // once a second); sent again while waiting, as a nudge
    for (let waited = 0; this.confirmed < target; waited += 100) {
      signal?.throwIfAborted();
      if (waited % 500 === 0) await this.emitHeartbeat();
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A non-transactional message through the slot: proves the stream moves, and keeps an idle slot advancing. */
  private async emitHeartbeat(): Promise<void> {
    if (this.state !== 'STREAMING') return;
    const now = Date.now();
    try {
      await this.adminPool().query('select pg_logical_emit_message(false, $1, $2)', [
        `${HEARTBEAT_PREFIX}.${this.slot}`,
        String(now),
      ]);
      this.heartbeatOutstandingSince ??= now;
    } catch (e) {
      if (!this.heartbeatWarned) this.log.warn('heartbeat failed', { error: (e as Error).message });
      this.heartbeatWarned = true;
    }
  }

  /**
   * WAL the slot holds back (server's write position − slot's confirmed position), and the stall alert: the
   * confirmed position has not moved for `stallAfterMs` while the server's WAL grew.
   */
  private async sampleLag(): Promise<void> {
    if (this.state === 'STOPPED') return; // close() ends the admin pool; never open a new one after it
    try {
      const { rows } = await this.adminPool().query<{ lag: string | null; current: string }>(
        `select pg_current_wal_lsn()::text as current,
                (select pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text
                   from pg_replication_slots where slot_name = $1) as lag`,
        [this.slot],
      );
      const row = rows[0]!;
      if (row.lag != null) this.lagBytes = Number(row.lag);
      const current = lsnToNumber(row.current);
      this.walAtConfirm ??= current;
      const stalled =
        this.state === 'STREAMING' &&
        Date.now() - this.confirmedMovedAt >= (this.opts.stallAfterMs ?? 300_000) &&
        current > this.walAtConfirm;
      if (stalled !== this.stalled) {
        this.stalled = stalled;
        if (stalled) {
          this.log.warn('slot stalled: the confirmed position has not moved while WAL grows', {
            slot: this.slot,
            confirmed: numberToLsn(this.confirmed),
            sinceSeconds: Math.round((Date.now() - this.confirmedMovedAt) / 1000),
            lagBytes: this.lagBytes,
          });
        } else this.log.info('slot advancing again', { slot: this.slot });
      }
    } catch (e) {
      this.log.debug('lag sample failed', { error: (e as Error).message });
    }
  }

  /**
   * Seconds the bus is behind the provider: the age of the oldest committed transaction received but not yet durable;
   * when none, the heartbeat round trip — or the age of a heartbeat that has not come back (a silent stall).
   */
  private lagSeconds(): number {
    const now = Date.now();
    let oldest = this.inFlightCommitMs;
    const first = this.queue.find((q) => 'tx' in q) as { commitMs: number } | undefined;
    if (first && (oldest === null || first.commitMs < oldest)) oldest = first.commitMs;
    const pending = oldest === null ? 0 : now - oldest;
    const outstanding = this.heartbeatOutstandingSince === null ? 0 : now - this.heartbeatOutstandingSince;
    return Math.max(pending, outstanding, this.heartbeatRtt) / 1000;
  }

  status(): SourceStatus {
    return {
      id: this.id,
      state: this.state,
      confirmed: this.confirmed === 0 ? null : numberToLsn(this.confirmed),
      received: this.received === null ? null : numberToLsn(this.received),
      ...(this.lagBytes !== undefined ? { lagBytes: this.lagBytes } : {}),
      ...(this.state === 'STREAMING' ? { lagSeconds: this.lagSeconds() } : {}),
      stalled: this.stalled,
      ...(this.lastError ? { error: this.lastError } : {}),
      snapshots: this.snapshotProgress(),
    };
  }

  /** Runs as stored (rows counted once durable), plus requested ones not stored yet; then the last finished. */
  private snapshotProgress(): SnapshotProgress[] {
    const stored = this.durable;
    const planned = this.runner?.plan.active.filter((r) => !stored.active.some((s) => s.id === r.id)) ?? [];
    return [...stored.active, ...planned, ...[...stored.done].reverse()].map((r) => progressOf(r, this.id));
  }

  private fail(e: unknown): void {
    if (this.state === 'STOPPED') return;
    this.failure = e instanceof Error ? e : new Error(String(e));
    this.lastError = this.failure.message;
    this.state = 'FAILED';
    this.wake?.();
    this.space?.();
  }

  private async stopStreaming(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const runner = this.runner;
    this.runner = null;
    await runner?.stop();
    // a request not yet stored is lost with the queue: its caller hears so (a stored one resumes after the restart)
    const lost = new SluiceError(
      'UNAVAILABLE',
      `provider "${this.id}" restarted before the snapshot request was stored`,
      {
        retriable: true,
      },
    );
    const queued = this.queue.flatMap((q) => ('snap' in q && q.waiter ? [q.waiter] : []));
    for (const w of [...queued, ...this.durableWaiters]) w.reject(lost);
    this.durableWaiters = [];
    const stream = this.stream;
    this.stream = null;
    if (stream) {
      stream.sendStatus(this.confirmed); // one last status with what is durable
      await stream.close();
    }
    this.assembler?.dispose();
    this.assembler = null;
    this.heartbeatOutstandingSince = null;
  }

  /**
   * New resources (a provider classified or declassified a column at runtime): `read` ends after the batch in hand,
   * and the next `start` binds the new column sets — from the stored position, like any restart, so nothing is
   * skipped and what was already read is de-duplicated by position.
   */
  reconfigure(resources: PostgresResource[]): void {
    this.opts.resources = resources;
    this.restartWanted = true;
    this.wake?.();
  }

  private takeRestart(): boolean {
    if (!this.restartWanted) return false;
    this.restartWanted = false;
    return true;
  }

  async close(): Promise<void> {
    this.state = 'STOPPED';
    await this.stopStreaming();
    await this.admin?.end().catch(() => {});
    this.admin = null;
    this.wake?.();
    this.space?.();
    rmSync(this.spoolDir, { recursive: true, force: true });
  }
}

/** A run's id names its resource, its subscription (a backfill) and when it was asked for. */
function newRun(resource: string, reason: SnapshotRequest['reason'], target?: string) {
  const at = new Date().toISOString();
  return {
    id: `${resource}${target ? `@${target}` : ''}:${at.replace(/[-:]/g, '').replace(/\.\d+/, '')}`,
    resource,
    ...(target ? { target } : {}),
    reason,
    after: null,
    chunks: 0,
    rows: 0,
    skipped: 0,
    estimated: null,
    startedAt: at,
  };
}

/** The events of a spooled transaction, read again page by page while a snapshot chunk needs to see its keys. */
function* spooledEvents(tx: CommittedTx): Generator<PendingEvent> {
  for (const page of tx.spool!.read(10_000)) yield* page;
}

/** Array text → list text, in place; text that is not an array literal stays as it is (delivery flags it). */
function convertArrays(row: Record<string, string | null> | null | undefined, columns: string[]): void {
  if (!row) return;
  for (const c of columns) {
    const v = row[c];
    if (typeof v !== 'string') continue;
    try {
      row[c] = pgArrayToJson(v);
    } catch {
      // not Postgres array output: leave it; it is delivered as NULL with the raw text in _quality
    }
  }
}

/** Server errors on the stream, in plain words; a slot the server can no longer serve is not retried. */
function mapStreamError(e: Error, provider: string, slot: string): SluiceError {
  const code = (e as { code?: string }).code;
  if (code === '55000' || code === '42704') {
    return new SluiceError('SLOT_INVALID', `provider "${provider}": replication slot ${slot}: ${e.message}`, {
      cause: e,
      details: {
        provider,
        slot,
        sqlstate: code,
        recovery: `re-snapshot the provider's resources; see the error for why the server cannot stream the slot`,
      },
    });
  }
  if (code === '55006') {
    return new SluiceError(
      'UNAVAILABLE',
      `provider "${provider}": ${e.message} (another consumer, or our previous connection not yet gone)`,
      {
        retriable: true,
        cause: e,
        details: { provider, slot, sqlstate: code },
      },
    );
  }
  if (!code) {
    // the connection dropped (server restart, network): reconnect with back-off
    return new SluiceError('UNAVAILABLE', `provider "${provider}": ${e.message}`, {
      retriable: true,
      cause: e,
      details: { provider },
    });
  }
  return mapPgError(e, `provider "${provider}"`);
}

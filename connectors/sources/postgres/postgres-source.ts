import pg from 'pg';
import { LogicalReplicationService } from 'pg-logical-replication';
import { RawTextPgoutputPlugin } from './raw-text-plugin.ts';
import { SluiceError } from '../../../engine/errors.ts';
import type { ChangeBatch, Logger, ResourceShape, Source, SourceStatus } from '../../../engine/ports/index.ts';
import { introspectTable, parseTable, quoteTable } from './introspect.ts';
import { bigIntToLsn, lsnToBigInt } from './lsn.ts';
import { TxAssembler, type AssembledTx, type PgoutputMessage, type ResourceBinding } from './tx-assembler.ts';
import { CANONICAL_TEXT_OPTIONS, columnTypeFor } from './type-map.ts';
import { mapPgError } from './errors.ts';

export interface PostgresResource {
  id: string;
  /** `schema.table` or `table`. */
  table: string;
  key: string[];
  /** Columns that may enter the platform (shareable classified fields); key columns are always kept. */
  columns: string[];
}

export interface PostgresSourceOptions {
  /** Provider id: slot and publication are `sluice_<id with - as _>`. */
  id: string;
  url: string;
  resources: PostgresResource[];
  logger: Logger;
  /** Events held in memory before the stream is paused (backpressure). Default 50 000. */
  maxBufferedEvents?: number;
  /** Standby status interval; must stay well under the server's wal_sender_timeout. Default 10 s. */
  statusIntervalMs?: number;
}

/**
 * Postgres logical replication (pgoutput) through pg-logical-replication 2.5.0, used so that nothing is confirmed
 * behind our back (REFERENCE, "ack hazard"): `acknowledge.auto` is off and its timer disabled; a position is
 * confirmed only by `commit()` (after the bus made it durable), and this class answers keepalives itself with that
 * confirmed position. Values stay the server's text , so int8 and
 * numeric are exact and timestamps keep µs (RawTextPgoutputPlugin).
 */
export class PostgresSource implements Source {
  readonly id: string;
  readonly slot: string;
  readonly publication: string;
  private readonly opts: PostgresSourceOptions;
  private readonly log: Logger;
  private bindings = new Map<string, ResourceBinding>();
  private state: SourceStatus['state'] = 'STOPPED';
  private lastError: string | undefined;
  private confirmed: bigint = 0n;
  private received: string | null = null;
  private service: LogicalReplicationService | null = null;
  private queue: AssembledTx[] = [];
  private queuedEvents = 0;
  private wake: (() => void) | null = null;
  private space: (() => void) | null = null;
  private failure: Error | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private assembler: TxAssembler | null = null;

  constructor(opts: PostgresSourceOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.slot = `sluice_${opts.id.replaceAll('-', '_')}`;
    this.publication = this.slot;
    this.log = opts.logger.child({ component: 'source', sourceId: opts.id });
  }

  async start(signal: AbortSignal, opts: { lastPosition: string | null }): Promise<ResourceShape[]> {
    this.state = 'STARTING';
    const client = new pg.Client({
      connectionString: this.opts.url,
      options: CANONICAL_TEXT_OPTIONS,
      connectionTimeoutMillis: 10_000,
    });
    try {
      await client.connect();
      signal.throwIfAborted();
      const wal = await client.query<{ wal_level: string }>('show wal_level');
      if (wal.rows[0]?.wal_level !== 'logical') {
        throw new SluiceError(
          'SOURCE_FAILED',
          `provider "${this.id}": wal_level is "${wal.rows[0]?.wal_level}", logical replication needs wal_level=logical (set it in postgresql.conf and restart the server)`,
          { details: { provider: this.id, setting: 'wal_level' } },
        );
      }
      const shapes: ResourceShape[] = [];
      for (const r of this.opts.resources) {
        const t = parseTable(r.table);
        const live = await introspectTable(client, t).catch((e: unknown) => {
          if (e instanceof SluiceError) e.details.resource = r.id;
          throw e;
        });
        const byName = new Map(live.map((c) => [c.name, c]));
        for (const c of [...r.key, ...r.columns]) {
          if (!byName.has(c)) {
            throw new SluiceError(
              'SOURCE_FAILED',
              `resource "${r.id}": column "${c}" does not exist in ${t.schema}.${t.name}`,
              {
                details: { resource: r.id, column: c },
              },
            );
          }
        }
        const keep = new Set([...r.key, ...r.columns]);
        this.bindings.set(`${t.schema}.${t.name}`, { resource: r.id, key: r.key, keep });
        shapes.push({
          resource: r.id,
          key: r.key,
          columns: live
            .filter((c) => keep.has(c.name))
            .map((c) => ({ name: c.name, type: columnTypeFor(c), sourceType: c.type })),
        });
      }
      await this.ensurePublication(client);
      const slotConfirmed = await this.ensureSlot(client, opts.lastPosition);
      if (slotConfirmed && lsnToBigInt(slotConfirmed) > this.confirmed) this.confirmed = lsnToBigInt(slotConfirmed);
      return shapes;
    } catch (e) {
      this.fail(e);
      const err = mapPgError(e, `provider "${this.id}"`);
      err.details.provider ??= this.id;
      throw err;
    } finally {
      await client.end().catch(() => {});
    }
  }

  private async ensurePublication(client: pg.Client): Promise<void> {
    const tables = this.opts.resources.map((r) => quoteTable(parseTable(r.table))).join(', ');
    const exists = await client.query('select 1 from pg_publication where pubname = $1', [this.publication]);
    if (exists.rowCount === 0) await client.query(`create publication ${this.publication} for table ${tables}`);
    else await client.query(`alter publication ${this.publication} set table ${tables}`);
  }

  /** Creates the slot if missing (refused when the bus already holds changes from it); returns its confirmed LSN. */
  private async ensureSlot(client: pg.Client, lastPosition: string | null): Promise<string | null> {
    const { rows } = await client.query<{ plugin: string; confirmed: string | null }>(
      'select plugin, confirmed_flush_lsn::text as confirmed from pg_replication_slots where slot_name = $1',
      [this.slot],
    );
    const slot = rows[0];
    if (!slot && lastPosition) {
      throw new SluiceError(
        'SLOT_INVALID',
        `provider "${this.id}": replication slot ${this.slot} is missing, but changes from it were delivered up to position ${lastPosition}; changes made since then cannot be recovered from the WAL`,
        {
          details: {
            slot: this.slot,
            lastPosition,
            recovery: `re-snapshot the provider's resources (sluice resnapshot, coming with the snapshot issue); to accept the gap and stream from now on, create the slot yourself: select pg_create_logical_replication_slot('${this.slot}', 'pgoutput')`,
          },
        },
      );
    }
    if (!slot) {
      const created = await client.query<{ lsn: string }>(
        `select lsn::text from pg_create_logical_replication_slot($1, 'pgoutput')`,
        [this.slot],
      );
      this.log.info('created replication slot', { slot: this.slot });
      return created.rows[0]?.lsn ?? null;
    }
    if (slot.plugin !== 'pgoutput') {
      throw new SluiceError(
        'SLOT_INVALID',
        `replication slot ${this.slot} uses plugin "${slot.plugin}", not pgoutput`,
        {
          details: {
            slot: this.slot,
            recovery: `drop it (select pg_drop_replication_slot('${this.slot}')) and re-attach`,
          },
        },
      );
    }
    return slot.confirmed;
  }

  async *read(opts: { maxEvents: number; signal: AbortSignal }): AsyncIterable<ChangeBatch> {
    await this.subscribe();
    const onAbort = () => this.wake?.();
    opts.signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (opts.signal.aborted) return;
        while (this.queue.length === 0) {
          if (this.failure) throw this.failure;
          if (opts.signal.aborted || this.state === 'STOPPED') return;
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
        }
        const batch: ChangeBatch = { events: [], checkpoint: '' };
        while (
          this.queue.length > 0 &&
          (batch.events.length === 0 || batch.events.length + this.queue[0]!.events.length <= opts.maxEvents)
        ) {
          const tx = this.queue.shift()!;
          this.queuedEvents -= tx.events.length;
          for (const e of tx.events) batch.events.push(e);
          batch.checkpoint = tx.commitEndLsn;
        }
        this.space?.();
        yield batch;
      }
    } finally {
      opts.signal.removeEventListener('abort', onAbort);
    }
  }

  private async subscribe(): Promise<void> {
    if (this.service) await this.service.destroy().catch(() => {});
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.failure = null;
    this.queue = [];
    this.queuedEvents = 0;
    this.assembler = new TxAssembler(this.bindings);
    const service = new LogicalReplicationService(
      { connectionString: this.opts.url, options: CANONICAL_TEXT_OPTIONS, connectionTimeoutMillis: 10_000 },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.service = service;
    service.on('data', (_lsn: string, msg: PgoutputMessage) => this.onMessage(msg));
    service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => this.onKeepalive(lsn, shouldRespond));
    service.on('error', (e: Error) => this.fail(e));
    const started = new Promise<void>((resolve) => service.once('start', () => resolve()));
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 1, publicationNames: [this.publication] });
    // subscribe() stays pending for the whole stream; its end or failure is reported through fail().
    const streaming = service.subscribe(plugin, this.slot);
    streaming.then(
      () => {
        if (this.state !== 'STOPPED') this.fail(new Error('replication stream ended'));
      },
      (e: unknown) => this.fail(e),
    );
    const endedEarly = streaming.then(() => {
      throw new Error('replication stream ended before it started');
    });
    endedEarly.catch(() => {}); // after the start, an end is reported through fail() instead
    await Promise.race([started, endedEarly]);
    this.state = 'STREAMING';
    const tick = () => void this.sendStatus().then(() => this.sampleLag());
    this.statusTimer = setInterval(tick, this.opts.statusIntervalMs ?? 10_000);
    tick();
    this.log.info('streaming', { slot: this.slot, publication: this.publication });
  }

  /** Called in stream order; returning a promise pauses the socket until it settles (flowControl). */
  private async onMessage(msg: PgoutputMessage): Promise<void> {
    const tx = this.assembler!.push(msg);
    if (!tx) return;
    this.received = tx.commitEndLsn;
    this.queue.push(tx);
    this.queuedEvents += tx.events.length;
    this.wake?.();
    while (this.queuedEvents > (this.opts.maxBufferedEvents ?? 50_000) && this.state === 'STREAMING') {
      await new Promise<void>((resolve) => (this.space = resolve));
      this.space = null;
    }
  }

  private onKeepalive(lsn: string, shouldRespond: boolean): void {
    // With nothing received and unconfirmed, everything up to the server's sent position is durable, so the slot
    // may advance (an idle slot otherwise pins WAL forever). Keepalives bypass the library's flow-control queue, so
    // XLogData that arrived before this keepalive may still sit there: advance only when that queue is empty too.
    if (
      this.libraryIdle() &&
      this.queue.length === 0 &&
      !this.assembler?.inTransaction &&
      this.received === this.lastCommitted
    ) {
      const v = lsnToBigInt(lsn);
      if (v > this.confirmed) this.confirmed = v;
    }
    if (shouldRespond) void this.sendStatus();
  }

  /** pg-logical-replication 2.5.0 internals (pinned): its flow-control queue is empty and nothing is in progress. */
  private libraryIdle(): boolean {
    const lib = this.service as unknown as { _messageQueue?: unknown[]; _processing?: boolean } | null;
    return !!lib && Array.isArray(lib._messageQueue) && lib._messageQueue.length === 0 && lib._processing === false;
  }

  private lastCommitted: string | null = null;

  async commit(checkpoint: string): Promise<void> {
    if (!checkpoint) return;
    const v = lsnToBigInt(checkpoint);
    this.lastCommitted = checkpoint;
    if (v <= this.confirmed) return;
    this.confirmed = v;
    await this.sendStatus();
  }

  private async sendStatus(service = this.service): Promise<void> {
    if (!service || this.confirmed === 0n) return;
    // The library reports `lsn + 1` as written/flushed. Postgres skips, on restart, every transaction whose commit
    // record starts before the confirmed position, so it must be exactly the end of what is durable: pass one less.
    await service
      .acknowledge(bigIntToLsn(this.confirmed - 1n))
      .catch((e: unknown) => this.log.warn('standby status failed', { error: String(e) }));
  }

  /**
   * WAL the slot holds back: the server's current write position minus the slot's confirmed position (what
   * `sluice_source_lag_bytes` reports). Sampled on the status timer over a small admin connection.
   */
  private async sampleLag(): Promise<void> {
    if (this.state === 'STOPPED') return; // close() ends the admin pool; never open a new one after it
    try {
      if (!this.admin) {
        this.admin = new pg.Pool({ connectionString: this.opts.url, max: 1, connectionTimeoutMillis: 10_000 });
        this.admin.on('error', () => {}); // an idle admin connection dropping is not a source failure
      }
      const { rows } = await this.admin.query<{ lag: string | null }>(
        'select pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text as lag from pg_replication_slots where slot_name = $1',
        [this.slot],
      );
      if (rows[0]?.lag != null) this.lagBytes = Number(rows[0].lag);
    } catch (e) {
      this.log.debug('lag sample failed', { error: (e as Error).message });
    }
  }

  private admin: pg.Pool | null = null;
  private lagBytes: number | undefined;

  status(): SourceStatus {
    return {
      id: this.id,
      state: this.state,
      confirmed: this.confirmed === 0n ? null : bigIntToLsn(this.confirmed),
      received: this.received,
      ...(this.lagBytes !== undefined ? { lagBytes: this.lagBytes } : {}),
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }

  private fail(e: unknown): void {
    if (this.state === 'STOPPED') return;
    this.failure = e instanceof Error ? e : new Error(String(e));
    this.lastError = this.failure.message;
    this.state = 'FAILED';
    this.wake?.();
    this.space?.();
  }

  async close(): Promise<void> {
    this.state = 'STOPPED';
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
    const service = this.service;
    this.service = null;
    if (service) {
      // one last status with what is durable, then stop the stream
      await this.sendStatus(service);
      await service.destroy().catch(() => {});
    }
    await this.admin?.end().catch(() => {});
    this.admin = null;
    this.wake?.();
    this.space?.();
  }
}

import type { ColumnSpec, SourceEvent } from '../../schemas/index.ts';

/**
 * Whole transactions in commit order — or one fragment of a large committed transaction, its last fragment carrying
 * the checkpoint — and the source checkpoint that covers them. A batch may hold no events and only a checkpoint
 * (an idle source moving past WAL that holds nothing for it).
 */
export interface ChangeBatch {
  events: SourceEvent[];
  /**
   * The source position to confirm once this batch and every batch before it is durable in the bus; stored with the
   * append (Postgres: the commit end LSN of the batch's last transaction, never past an open transaction's start).
   * Empty for a fragment that must not be confirmed yet. Opaque to the engine.
   */
  checkpoint: string;
  /**
   * Shapes first used by this batch's events (or by a later batch's): a table's columns changed in the stream (a
   * column dropped, added to the shared set, retyped). Reported before any event that uses them.
   */
  shapes?: ResourceShape[];
}

/** A resource's columns as the source reports them (types come from the database, never retyped by hand). */
export interface ResourceShape {
  resource: string;
  /** Shared columns only, in table order, with their delivered logical type. */
  columns: (ColumnSpec & { sourceType: string })[];
  key: string[];
  /**
   * The source's own number for this shape. An event a source emits carries it in `schemaVersion`; the pump replaces
   * it with the schema version the state store registered for the shape.
   */
  layout: number;
}

export type SourceState = 'STARTING' | 'STREAMING' | 'FAILED' | 'STOPPED';

export interface SourceStatus {
  id: string;
  state: SourceState;
  /** Last checkpoint confirmed to the source. */
  confirmed: string | null;
  /** Last checkpoint received from the source. */
  received: string | null;
  /** How far the source's retained position lags its current write position (Postgres: WAL bytes), last sampled. */
  lagBytes?: number;
  /** Seconds the bus is behind the source (DESIGN.md `sluice_source_lag_seconds`), while streaming. */
  lagSeconds?: number;
  /** The confirmed position has not moved for the configured time while the source kept writing. */
  stalled?: boolean;
  error?: string;
  /** Snapshot runs in progress and the last finished ones. */
  snapshots?: SnapshotProgress[];
}

/** Why a snapshot runs: a resource's first attach, an operator's re-snapshot, or a subscription's backfill. */
export type SnapshotReason = 'initial' | 'resnapshot' | 'backfill';

export interface SnapshotRequest {
  resource: string;
  /** A backfill: the rows are for this subscription only; other subscriptions never see them. */
  subscription?: string;
  reason: SnapshotReason;
}

/** A snapshot run (DESIGN.md: watermark method, resumable) as status and metrics show it. */
export interface SnapshotProgress {
  id: string;
  provider: string;
  resource: string;
  subscription?: string;
  reason: SnapshotReason;
  state: 'RUNNING' | 'DONE' | 'FAILED';
  /** Rows delivered as `_op = r` so far. */
  rows: number;
  /** Rows whose key changed while their chunk was read: the stream delivered their newer state instead. */
  skipped: number;
  chunks: number;
  /** Estimated rows of the table (null until the first chunk). */
  estimated: number | null;
  startedAt: string;
  finishedAt?: string;
  error?: string;
}

/**
 * A CDC source (DESIGN.md, Ports). Pull-based: `read` yields batches in commit order; nothing is confirmed to the
 * source until `commit` is called with a checkpoint the caller has made durable.
 */
export interface Source {
  readonly id: string;
  /**
   * Prepares the source (publication, slot) and reports the shape of every resource it streams (as the table is now;
   * the stream may report older or newer ones with its batches). `lastPosition` is
   * the last event position the bus holds from this source, `checkpoint` the last checkpoint stored with an append.
   * A source that cannot resume exactly there (its slot is gone, invalidated, or confirmed beyond the checkpoint)
   * must refuse with SLOT_INVALID rather than silently skip changes.
   */
  start(
    signal: AbortSignal,
    opts: { lastPosition: string | null; checkpoint: string | null },
  ): Promise<ResourceShape[]>;
  /** Commit-ordered batches of whole transactions; ends when `signal` aborts or `close` is called. */
  read(opts: { maxEvents: number; signal: AbortSignal }): AsyncIterable<ChangeBatch>;
  /** Confirms a checkpoint (monotonic; an older one is ignored). */
  commit(checkpoint: string): Promise<void>;
  status(): SourceStatus;
  /**
   * Starts a snapshot of a resource (chunked reads reconciled with the stream; resumable); resolves once the
   * request is durable — it survives a crash from then on. A run already active for the same resource and
   * subscription is returned instead of a second one.
   */
  snapshot?(req: SnapshotRequest): Promise<SnapshotProgress>;
  /**
   * Resolves once every change committed at the source before the call is durable in the bus (its position
   * confirmed): a cycle that then reads the bus sees them. Rejects when `signal` aborts.
   */
  caughtUp?(signal?: AbortSignal): Promise<void>;
  /**
   * Resources whose initial snapshot has not finished (as of the last start): the bus holds all of them from their
   * attach on, so a new subscription reads it from the start instead of asking for a backfill.
   */
  unattached?(): string[];
  /** Stops streaming after confirming the last committed checkpoint. Idempotent. */
  close(): Promise<void>;
}

import type { ColumnSpec, SourceEvent } from '../../schemas/index.ts';

/** A run of whole transactions in commit order, and the source checkpoint that covers them. */
export interface ChangeBatch {
  events: SourceEvent[];
  /**
   * The source position to confirm once this batch and every batch before it is durable in the bus
   * (Postgres: the commit end LSN of the batch's last transaction). Opaque to the engine.
   */
  checkpoint: string;
}

/** A resource's columns as the source reports them (types come from the database, never retyped by hand). */
export interface ResourceShape {
  resource: string;
  /** Shared columns only, in table order, with their delivered logical type. */
  columns: (ColumnSpec & { sourceType: string })[];
  key: string[];
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
  error?: string;
}

/**
 * A CDC source (DESIGN.md, Ports). Pull-based: `read` yields batches in commit order; nothing is confirmed to the
 * source until `commit` is called with a checkpoint the caller has made durable.
 */
export interface Source {
  readonly id: string;
  /**
   * Prepares the source (publication, slot) and reports the shape of every resource it streams. `lastPosition` is
   * the last position the bus holds from this source: a source that cannot resume from it (its slot is gone) must
   * refuse with SLOT_INVALID rather than silently start from now.
   */
  start(signal: AbortSignal, opts: { lastPosition: string | null }): Promise<ResourceShape[]>;
  /** Commit-ordered batches of whole transactions; ends when `signal` aborts or `close` is called. */
  read(opts: { maxEvents: number; signal: AbortSignal }): AsyncIterable<ChangeBatch>;
  /** Confirms a checkpoint (monotonic; an older one is ignored). */
  commit(checkpoint: string): Promise<void>;
  status(): SourceStatus;
  /** Stops streaming after confirming the last committed checkpoint. Idempotent. */
  close(): Promise<void>;
}

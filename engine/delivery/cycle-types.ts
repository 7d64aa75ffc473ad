import type { BatchSink, Bus, Logger, ResourceSchema, StateStore } from '../ports/index.ts';
import type { GrantedField } from '../rules/grant.ts';
import type { RowRules } from './batch-rows.ts';
import type { FieldMaskOptions } from './field-masks.ts';

/** What a batch cycle needs to know about its subscription (compiled from config by ops/). */
export interface BatchSubscription {
  id: string;
  subscriber: string;
  resource: string;
  provider: string;
  purpose: string;
  businessSystem: string;
  grantId: string;
  fields: GrantedField[];
  compression: 'zstd' | 'snappy' | 'none';
  /**
   * `changes` (default): every change; `latest`: the net effect per key within the cycle (net-effect.ts).
   */
  incremental?: 'changes' | 'latest' | 'snapshot';
  /** Split a file into parts of about this many bytes (`<stem>.p001.parquet`, …); one file when not given. */
  partBytes?: number;
  /** Rows per row group (default: the sink's). */
  rowGroupRows?: number;
  /** Upper bound on rows per file; a larger backlog becomes several files in one tick. */
  maxRowsPerFile: number;
  /**
   * Decides the grant for one delivery at `tick` (conditions with validity intervals and delivery counts change
   * over time); without it `fields` is used as it is. Called before each intent; the intent records the result,
   * so a re-creation after a crash uses the grant it started with.
   */
  grant?: (tick: Date) => Promise<{ fields: GrantedField[]; denied: CycleDenial[] }>;
  /** Per-tag partial formats and per-field generalize options. */
  masking?: Pick<FieldMaskOptions, 'partial' | 'generalize'>;
  /** The row filter and quality policy, compiled per schema version (the types are the version's). */
  rowRules?: (schema: ResourceSchema) => RowRules;
  /** The subscriber's X25519 public key: `encrypt` data keys are wrapped for it (required for encrypt fields). */
  recipientKey?: string;
}

/** A requested field the grant withheld at this cycle, and why (never data values). */
export interface CycleDenial {
  field: string;
  reason: string;
  message: string;
}

export interface CycleDeps {
  bus: Bus;
  state: StateStore;
  sink: BatchSink;
  logger: Logger;
  /** Test hook: called at named points of the protocol (the kill -9 tests crash the process there). */
  checkpoint?: (point: CyclePoint) => void;
  /** Aborted when the engine drains: the file in progress is finished, no further one is started. */
  stopping?: AbortSignal;
  /**
   * Retention trimmed changes the subscription had not received (seqs `first`..`last`): called, and awaited, before
   * the cycle moves past them — the composition root stores that the subscription needs a backfill of the current
   * state.
   */
  onGap?: (subscription: string, gap: { first: bigint; last: bigint }) => Promise<void>;
  /**
   * The `snapshot` mode: asks the subscription's source for a backfill of its current state (rows for it alone,
   * consistent with the stream) and resolves once all of it is on the bus, with the bus head before the request and
   * after it — the state at `to` is the fold of `(from, to]`.
   */
  backfill?: (sub: BatchSubscription, signal?: AbortSignal) => Promise<{ from: bigint; to: bigint }>;
}

export type CyclePoint = 'intent-committed' | 'files-written' | 'delivery-committed';

export interface CycleResult {
  files: {
    stem: string;
    rows: number;
    firstSeq: bigint;
    lastSeq: bigint;
    manifestFile: string;
    /** A re-delivered file: the deliveries it repeats. */
    redeliveryOf?: string[];
  }[];
  rows: number;
  /** Non-null values written per masking strategy. */
  masked: Record<string, number>;
  /** Quality failures by check (mask-fallback-hash, unrepresentable). */
  quality: Record<string, number>;
  /** Rows re-created from an intent left open by a crash. */
  recovered: boolean;
  /** Fields requested but not granted at this cycle (from the last decision). */
  denied: CycleDenial[];
  /** Events the row filter left out. */
  filteredOut: number;
  /** Events folded into a later row of the same key (`latest`). */
  netted: number;
  /** Rows held back by the quality policy. */
  held: number;
  /** Changes trimmed by retention before this subscription received them (it gets a backfill instead). */
  gap?: { first: bigint; last: bigint };
}

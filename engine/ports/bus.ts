import type { ChangeEvent, SourceEvent } from '../../schemas/index.ts';

export interface AppendResult {
  /** Events stored by this call (events at or before the source's stored position are skipped as replays). */
  appended: number;
  /** Highest seq per resource after the append. */
  heads: Record<string, bigint>;
}

/**
 * The durable change log between sources and deliveries (DESIGN.md, Ports). Postgres log table in the state DB by
 * default; JetStream later. Every adapter passes engine/testing/bus-conformance.ts.
 */
export interface Bus {
  /**
   * Appends one source batch atomically and durably. Assigns each event its resource's next `seq` (strictly
   * increasing). Idempotent by position: events whose position is not after the source's last stored position are
   * dropped, so replaying a batch after a crash stores nothing twice. `checkpoint`, when given, is stored in the
   * same transaction: the source position the source may confirm once this append is durable (opaque here).
   * `after` pipelines appends: the events are serialized at call time, but written only once `after` (the
   * previous append of the same source) has resolved — and not at all if it rejects, so no batch is ever stored
   * after one that was lost.
   */
  append(
    source: string,
    events: SourceEvent[],
    opts?: { checkpoint?: string; after?: Promise<unknown> },
  ): Promise<AppendResult>;
  /** The last stored position of a source, or null. */
  sourcePosition(source: string): Promise<string | null>;
  /** The last checkpoint stored with an append, or null: what the source has been allowed to confirm. */
  sourceCheckpoint(source: string): Promise<string | null>;
  /** The highest seq of a resource (0n when empty). */
  head(resource: string): Promise<bigint>;
  /**
   * Retention: deletes a resource's events with seq ≤ `upToSeq` that were appended before `appendedBefore` — always
   * a prefix of its log (seqs and append times grow together). Whole storage units go: an adapter may keep a few
   * such events that share a unit with later ones. Returns the highest seq no longer held (never lower than before)
   * and the number of events deleted by this call.
   */
  trim(resource: string, opts: { upToSeq: bigint; appendedBefore: Date }): Promise<{ trimmed: bigint; events: number }>;
  /** The highest seq of a resource no longer held (trimmed by retention); 0n when nothing was trimmed. */
  trimmed(resource: string): Promise<bigint>;
  /**
   * Events of a resource with fromExclusive < seq ≤ toInclusive in seq order, in pages of at most `pageSize`
   * (`fromExclusive` at or past `trimmed(resource)`: a trimmed range is gone).
   */
  read(
    resource: string,
    fromExclusive: bigint,
    toInclusive: bigint,
    opts?: { pageSize?: number; signal?: AbortSignal },
  ): AsyncIterable<ChangeEvent[]>;
  close(): Promise<void>;
}

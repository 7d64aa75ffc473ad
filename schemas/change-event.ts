/**
 * The bus payload (DESIGN.md "Data model"). Values are the source's canonical text (see column-type.ts): int8 and
 * numeric never pass through a JS double; timestamps keep µs.
 */
export type Op = 'c' | 'u' | 'd' | 'r' | 't';

/** Column → text value; `null` is SQL NULL. A column absent from `after` of an update is an unchanged TOAST value. */
export type Row = Record<string, string | null>;

export interface ChangeEvent {
  resource: string;
  op: Op;
  key: Row;
  before?: Row | null;
  after?: Row | null;
  /** Columns whose unchanged TOAST value the source did not send (neither NULL nor known). */
  unchanged?: string[];
  /** The source's own position, fixed-width so that one source's positions order as strings. */
  position: string;
  /** Per-resource int64 assigned by the bus at append (decimal string). */
  seq: string;
  /** Commit time, RFC 3339 UTC with µs. */
  commitTs: string;
  txId: string;
  /**
   * The resource's schema version (the state store's record of its columns) the event's values follow. As a source
   * emits it, before the pump stamps the version: the source's number of the shape (`ResourceShape.layout`).
   */
  schemaVersion: number;
  /**
   * A backfill's rows (`op: r`) are for this subscription only; every other subscription of the resource skips them.
   * Absent: for every subscription.
   */
  target?: string;
}

/** An event as a source emits it, before the bus assigns `seq`. */
export type SourceEvent = Omit<ChangeEvent, 'seq'>;

import type { ColumnSpec } from '../../schemas/index.ts';
import type { QualityReport } from '../quality/index.ts';
import type { GrantedField } from '../rules/grant.ts';

export interface ResourceSchema {
  resource: string;
  version: number;
  columns: (ColumnSpec & { sourceType: string })[];
  key: string[];
}

/** A batch cycle's committed plan: deliver fromSeq < seq ≤ toSeq of the resource, labelled with `tick`. */
export interface DeliveryIntent {
  subscription: string;
  resource: string;
  tick: string;
  windowFrom: string | null;
  fromSeq: bigint;
  toSeq: bigint;
  /** The granted fields and masks the cycle started with: a re-creation after a crash uses these, not today's grant. */
  fields: GrantedField[];
  /** Versions of the subscription's secrets the cycle started with (absent: version 1 of each). */
  keys?: { hash: number; encrypt?: number };
  /**
   * Set for a re-delivery (`sluice redeliver`): the deliveries of the range it produces again. Its files are named
   * by `tick`, the time of the re-delivery; completing it records them and leaves the cursor where it is. A
   * subscription has at most one open intent of each kind.
   */
  redeliveryOf?: RedeliveredOriginal[];
}

/** A delivery a re-delivery produces again (its range, to name it in the manifests of the files that overlap it). */
export interface RedeliveredOriginal {
  deliveryId: string;
  firstSeq: string;
  lastSeq: string;
}

export type IntentKind = 'cycle' | 'redelivery';

/** What a subscription's secret is for: the HMAC key of `hash`, or the AES data key of `encrypt`. */
export type SecretKind = 'hash' | 'encrypt';

/** One version of a subscription's secret. */
export interface SubscriptionSecret {
  kind: SecretKind;
  version: number;
  key: Uint8Array;
  /** encrypt: the data key wrapped for the subscriber's public key (`recipient`), stored once per version. */
  wrapped?: { recipient: string; key: unknown };
}

/** What a committed delivery records (one per delivered file set; the Merkle log builds on it later). */
import type { AnchorReceipt } from './anchor.ts';

export interface DeliveryRecord {
  deliveryId: string;
  subscription: string;
  stem: string;
  firstSeq: bigint;
  lastSeq: bigint;
  rows: number;
  manifestSha256: string;
  parts: { file: string; sha256: string; bytes: number }[];
  /** A re-delivered file: the deliveries whose ranges it produces again. */
  redeliveryOf?: string[];
  /**
   * The data of this delivery's leaf in the delivery log (RFC 8785 canonical JSON: a batch's manifest, or a feed
   * range's summary); appended to the log in the transaction that stores the record.
   */
  leaf: string;
  /** The leaf's index in the delivery log (set by the store; present on records read back). */
  logIndex?: bigint;
}

/**
 * One leaf of the delivery log (RFC 6962 Merkle tree, engine/delivery-log/): a delivery's, or an operator action's
 * that changes what is shared (classification, cadence override, pause, key rotation, fields).
 */
export interface LogLeaf {
  /** Dense from 0 in append order. */
  index: bigint;
  /** The leaf's data: canonical JSON (RFC 8785). Its hash is SHA-256(0x00 ‖ UTF-8 of it). */
  leaf: string;
  kind: 'delivery' | 'action';
  subscription?: string;
  deliveryId?: string;
  /** When it was appended (ISO 8601). */
  at: string;
}

/**
 * An event of a feed in the dead-letter store (webhooks, DESIGN.md Feed output): `failed` — the request that carried it
 * exhausted its attempts; `waiting` — a later event of a key already parked, held behind it so that per-key order
 * holds. Events of other keys flow meanwhile.
 */
export interface DeadLetter {
  subscription: string;
  seq: bigint;
  /** The event id (`<subscription>:<seq>`): a replay sends it again under the same id. */
  id: string;
  /** The ordering key: the masked key as canonical JSON (the event's `subject`). */
  key: string;
  /** The CloudEvent as it was built (structured JSON): a replay sends these bytes. */
  body: string;
  state: 'failed' | 'waiting';
  /** Attempts made so far (the feed's, then each replay's). */
  attempts: number;
  error?: string;
  /** When it was parked (ISO 8601, UTC). */
  parkedAt: string;
}

/** A feed range done: every event in (cursor, toSeq] was published, filtered out, or parked. */
export interface FeedRange {
  subscription: string;
  toSeq: bigint;
  /** When the range was sent (ISO 8601, UTC): the cursor's `lastTick`. */
  at: string;
  /** The delivery record of what was published (null when nothing was). */
  record: DeliveryRecord | null;
  /** Events the sink gave up on, or held behind a parked key: stored in the dead-letter store. */
  parked: DeadLetter[];
}

/** A provider's runtime classification of one column (`sluice classify`); wins over the config until cleared. */
export interface ClassificationRecord {
  resource: string;
  column: string;
  level: 'core' | 'important' | 'general';
  tag?: string;
  share: 'unconditional' | 'conditional' | 'none';
  /** Who made it (free text from the API caller), when. */
  by?: string;
  at: string;
}

/**
 * An operator's runtime change to one setting of a subscription (`sluice fields`); wins over the config until
 * cleared, and survives restarts.
 */
export type SubscriptionOverride = {
  subscription: string;
  /** Who made it (free text from the API caller), when. */
  by?: string;
  at: string;
} & (
  | { setting: 'fields'; value: string[] }
  /** `sluice cycle set`: the exchange cycle's cron and time zone (the config's time zone when not given). */
  | { setting: 'cadence'; value: { cadence: string; timezone?: string } }
  /** `sluice pause`: no cycle runs until `sluice resume`. */
  | { setting: 'paused'; value: { reason?: string } }
);

/** How the last cycle run of a subscription ended (`sluice cycles`). */
export interface CycleRun {
  /** The tick it ran for (ISO 8601, UTC). */
  tick: string;
  /** When it ended (ISO 8601, UTC). */
  endedAt: string;
  /** `delivered`: files written; `empty`: nothing new (or nothing granted); `failed`: see `error`. */
  outcome: 'delivered' | 'empty' | 'failed';
  rows: number;
  files: number;
  durationMs: number;
  error?: string;
}

/** What the state DB knows of a subscription's exchange cycle across restarts. */
export interface CycleState {
  subscription: string;
  last: CycleRun | null;
  /**
   * The next tick the schedule expected when it was last computed (ISO 8601, UTC): one in the past at start means
   * ticks were missed while the engine was down — they are caught up as one run.
   */
  nextDue: string | null;
}

/** What `registerSubscription` found: whether the subscription is new, and a backfill it still needs. */
export interface SubscriptionStart {
  created: boolean;
  /** Why a backfill is still to be requested (null: none). */
  backfill: string | null;
}

export interface SubscriptionCursor {
  /** Everything with seq ≤ this has been delivered (or skipped by the filter). */
  seq: bigint;
  lastTick: string | null;
}

/**
 * Durable platform state (DESIGN.md, Ports): schemas, secrets, positions, intents, delivery records.
 * Postgres (embedded by default).
 */
export interface StateStore {
  /**
   * Records the shape of a resource; returns its version. A version names one shape: a shape recorded before gets
   * its version back (a stream resumed before a DDL shows the older shape again), a new one the next number.
   */
  registerSchema(shape: Omit<ResourceSchema, 'version'>): Promise<number>;
  schema(resource: string, version: number): Promise<ResourceSchema>;
  /** Every recorded version of a resource's shape, oldest first. */
  schemas(resource: string): Promise<ResourceSchema[]>;
  /** The subscription's current HMAC key for the `hash` strategy (version 1 is created on first use). */
  subscriptionKey(subscription: string): Promise<Uint8Array>;
  /**
   * A version of a subscription's secret: `version` when given (STATE_CORRUPT when there is none), else the
   * current one — created (32 random bytes) on first use. Secrets are never logged.
   */
  secret(subscription: string, kind: SecretKind, version?: number): Promise<SubscriptionSecret>;
  /** Adds a new version of a secret and makes it current; files already delivered keep theirs. */
  rotateSecret(subscription: string, kind: SecretKind): Promise<SubscriptionSecret>;
  /**
   * Records the wrapping of an encrypt data key for `recipient`, unless the version already has one (the first is
   * kept, so a re-created manifest is identical). Returns what is stored.
   */
  wrapSecret(subscription: string, version: number, recipient: string, wrapped: unknown): Promise<SubscriptionSecret>;
  cursor(subscription: string): Promise<SubscriptionCursor>;
  /**
   * Called for every subscription at engine start. A subscription never seen (no record, no cursor) starts at
   * `head`, and needs a backfill when the resource already has data (head > 0). A known one whose `fields` gained
   * names needs a backfill of them. The need is stored until `backfillRequested`, so a crash cannot lose it.
   */
  registerSubscription(s: {
    subscription: string;
    resource: string;
    fields: string[];
    head: bigint;
  }): Promise<SubscriptionStart>;
  /** The subscription's backfill has been handed (durably) to its source. */
  backfillRequested(subscription: string): Promise<void>;
  /** Stores that a registered subscription needs a backfill (why), until `backfillRequested`. */
  requireBackfill(subscription: string, why: string): Promise<void>;
  /** The subscription's open intent of that kind (a cycle's by default), left by a run that did not finish. */
  openIntent(subscription: string, kind?: IntentKind): Promise<DeliveryIntent | null>;
  /** Commits the plan before any file is written (STATE_CORRUPT when one of its kind is open already). */
  beginIntent(intent: DeliveryIntent): Promise<void>;
  /**
   * Atomically: store the records (none when the range held no rows), count the fields' usage, close the intent,
   * and — for a cycle, not a re-delivery — move the cursor to intent.toSeq.
   */
  completeIntent(intent: DeliveryIntent, records: DeliveryRecord[]): Promise<void>;
  deliveries(subscription: string): Promise<DeliveryRecord[]>;
  /** How many deliveries are recorded for the subscription (cheap: a feed records one per range). */
  deliveryCount(subscription: string): Promise<number>;
  /**
   * Atomically: store the range's delivery record (if any) and its parked events, and move the cursor to `toSeq`
   * (STATE_CORRUPT when that would move it back). Feeds count no field usage (`maxDeliveries` is about batches).
   */
  completeFeedRange(range: FeedRange): Promise<void>;
  /** Appends an operator action's leaf to the delivery log (its own transaction); returns its index. */
  appendLogLeaf(leaf: { leaf: string; subscription?: string }): Promise<bigint>;
  /** How many leaves the delivery log holds. */
  logSize(): Promise<bigint>;
  /** The log's leaves with index in [from, to), in order. */
  logLeaves(from: bigint, to: bigint): Promise<LogLeaf[]>;
  /** Records an anchored checkpoint (again: nothing; the same size with another root: STATE_CORRUPT). */
  recordCheckpoint(c: AnchorReceipt & { at: string }): Promise<void>;
  /** The anchored checkpoints, by size. */
  checkpoints(): Promise<(AnchorReceipt & { at: string })[]>;
  /** The subscription's dead-letter store, by seq. */
  deadLetters(subscription: string): Promise<DeadLetter[]>;
  /** Removes dead letters (delivered by a replay, or skipped); returns how many there were. */
  removeDeadLetters(subscription: string, seqs: bigint[]): Promise<number>;
  /** Records a failed replay of dead letters: `attempts` added, their state and error set. */
  markDeadLetters(
    subscription: string,
    seqs: bigint[],
    change: { state: DeadLetter['state']; attempts: number; error?: string },
  ): Promise<void>;
  /**
   * Deliveries of each field to the subscription so far (the `maxDeliveries` condition): every completed intent with
   * at least one record counts once for each of its fields, in the same transaction as the records.
   */
  fieldUsage(subscription: string): Promise<Map<string, number>>;
  /** Every runtime classification, ordered by resource and column. */
  classifications(): Promise<ClassificationRecord[]>;
  /** Records (or replaces) the runtime classification of a column. */
  setClassification(c: ClassificationRecord): Promise<void>;
  /** Stores the latest quality report of a resource for its source (scan or stream), replacing the previous one. */
  saveQualityReport(r: QualityReport): Promise<void>;
  /** The stored quality reports of a resource (scan first). */
  qualityReports(resource: string): Promise<QualityReport[]>;
  /** Removes a runtime classification (the config's applies again); false when there was none. */
  clearClassification(resource: string, column: string): Promise<boolean>;
  /** Every runtime subscription override, ordered by subscription and setting. */
  subscriptionOverrides(): Promise<SubscriptionOverride[]>;
  /** Records (or replaces) the override of one setting of a subscription. */
  setSubscriptionOverride(o: SubscriptionOverride): Promise<void>;
  /** Removes an override (the config's value applies again); false when there was none. */
  clearSubscriptionOverride(subscription: string, setting: SubscriptionOverride['setting']): Promise<boolean>;
  /** Records how a cycle run of the subscription ended (the last one is kept). */
  recordCycleRun(subscription: string, run: CycleRun): Promise<void>;
  /** Records the next tick the subscription's schedule expects (null: none, e.g. paused). */
  setNextDue(subscription: string, at: string | null): Promise<void>;
  /** Every subscription's cycle state, ordered by subscription. */
  cycleStates(): Promise<CycleState[]>;
  close(): Promise<void>;
}

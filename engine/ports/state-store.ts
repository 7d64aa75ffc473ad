import type { ColumnSpec } from '../../schemas/index.ts';
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
}

/** What a committed delivery records (one per delivered file set; the Merkle log builds on it later). */
export interface DeliveryRecord {
  deliveryId: string;
  subscription: string;
  stem: string;
  firstSeq: bigint;
  lastSeq: bigint;
  rows: number;
  manifestSha256: string;
  parts: { file: string; sha256: string; bytes: number }[];
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
  /** Records the shape of a resource; returns its version (a new one only when the shape changed). */
  registerSchema(shape: Omit<ResourceSchema, 'version'>): Promise<number>;
  schema(resource: string, version: number): Promise<ResourceSchema>;
  /** The subscription's HMAC key for the `hash` strategy, created on first use and kept forever. */
  subscriptionKey(subscription: string): Promise<Uint8Array>;
  cursor(subscription: string): Promise<SubscriptionCursor>;
  openIntent(subscription: string): Promise<DeliveryIntent | null>;
  /** Commits the cycle's plan before any file is written. */
  beginIntent(intent: DeliveryIntent): Promise<void>;
  /** Atomically: store the records (none when the range held no rows), move the cursor to intent.toSeq, close the intent. */
  completeIntent(intent: DeliveryIntent, records: DeliveryRecord[]): Promise<void>;
  deliveries(subscription: string): Promise<DeliveryRecord[]>;
  close(): Promise<void>;
}

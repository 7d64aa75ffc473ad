import type { SourceStatus } from '../../engine/ports/index.ts';
import type { AnchorerStatus } from '../../engine/delivery-log/anchorer.ts';

export interface SubscriptionStatus {
  id: string;
  resource: string;
  /** `batch`: Parquet files on an exchange cycle; `feed`: a live event feed (`feed` below). */
  mode: 'batch' | 'feed';
  /** A live feed: its transport, events published since start, dead letters, last publish and error. */
  feed?: {
    transport: 'nats' | 'webhook';
    published: number;
    deadLetters: number;
    paused: boolean;
    lastPublishAt: string | null;
    lastError?: string;
  };
  /** The exchange cycle: the config's, or an operator's runtime override (`sluice cycle set`). */
  cadence: string;
  timezone: string;
  cadenceOverride?: { by?: string; at: string };
  /** Set while an operator paused it (`sluice pause`). */
  paused?: { reason?: string; by?: string; at: string };
  cursorSeq: string;
  lastTick: string | null;
  nextRun: string | null;
  running: boolean;
  lastError?: string;
  deliveries: number;
  /** Requested fields the grant withheld at the last cycle (or now, before the first), with the reason. */
  denied: { field: string; reason: string; message: string }[];
  /** The fields it asks for: the config's, or an operator's runtime override (`sluice fields`). */
  fields: string[];
  fieldsOverride?: { by?: string; at: string };
  /** Requested fields the table no longer has (dropped while streamed): delivered without them from then on. */
  dropped?: string[];
}

export interface EngineStatus {
  pid: number;
  startedAt: string;
  state: { ok: boolean; error?: string };
  sources: SourceStatus[];
  subscriptions: SubscriptionStatus[];
  /** With a chain configured: the delivery log's anchoring (sizes, leaves waiting, the last checkpoint, an error). */
  anchor?: AnchorerStatus;
}

import type { BatchSubscription, CycleDenial } from '../../engine/delivery/batch-cycle.ts';
import { SluiceError } from '../../engine/errors.ts';
import type { Logger } from '../../engine/ports/index.ts';
import { decideGrant, type Grant } from '../../engine/rules/grant.ts';
import { join } from 'node:path';
import { PostgresSource, type PostgresResource } from '../../connectors/sources/postgres/postgres-source.ts';
import type { WebhookSinkOptions } from '../../connectors/sinks/webhook/webhook-sink.ts';
import { parseDuration } from '../config/duration.ts';
import { parseSize } from '../config/size.ts';
import type { Config, ResourceConfig, SubscriptionConfig } from '../../schemas/index.ts';
import { FEED_CADENCE } from './runtime-subscriptions.ts';
import type { GeneralizeOptions } from '../../engine/masking/index.ts';
import { formatPath } from '../config/issues.ts';
import { maskingMatrix, maskingTags } from '../config/masking-matrix.ts';

/** A subscription as the engine runs it: a batch one with its schedule, or a live feed (`feed` set). */
export type ScheduledSubscription = BatchSubscription & {
  cadence: string;
  timezone: string;
  /** A live feed: its transport and bounds (no cadence then). */
  feed?: FeedSettings;
  /** Feeds: events read from the bus per range, at most. */
  maxInFlight: number;
  /** Feeds: how long to wait for a fuller webhook batch. */
  lingerMs: number;
  lastError?: string;
  /** Fields withheld by the last decision. */
  denied: CycleDenial[];
};

/** Upper bound on the rows of one file: a larger backlog becomes several files in one tick. */
const MAX_ROWS_PER_FILE = 500_000;

/**
 * One source per provider (its own slot and replication connection); only key columns and shareable classified
 * fields may enter the platform. Streamed and large transactions spool under `<dataDir>/spool/<provider>`.
 */
export function buildSources(
  cfg: Config,
  log: Logger,
  streamed: Streamed = () => undefined,
  recoverSlot: readonly string[] = [],
): PostgresSource[] {
  return cfg.providers.map(
    (p) =>
      new PostgresSource({
        id: p.id,
        url: p.connector.url,
        logger: log,
        spoolDir: join(cfg.dataDir!, 'spool', p.id),
        heartbeatIntervalMs: parseDuration(p.connector.heartbeat, 10_000),
        stallAfterMs: parseDuration(p.connector.stallAlertAfter, 300_000),
        snapshotMode: p.connector.snapshot?.mode ?? 'initial',
        chunkRows: p.connector.snapshot?.chunkRows ?? 10_000,
        resources: sourceResources(cfg, p.id, streamed),
        recoverSlot: recoverSlot.includes(p.id),
      }),
  );
}

/** The columns a resource's stream carried so far (its recorded schema versions). */
export type Streamed = (resource: string) => ReadonlySet<string> | undefined;

/**
 * The resources a provider's source streams: key columns and shareable classified fields only; with the columns
 * streamed before, so that one dropped from the table since is not taken for a mistyped name.
 */
export function sourceResources(
  cfg: Pick<Config, 'resources'>,
  provider: string,
  streamed: Streamed = () => undefined,
): PostgresResource[] {
  return cfg.resources
    .filter((r) => r.provider === provider)
    .map((r) => {
      const columns = Object.entries(r.fields)
        .filter(([, f]) => f.share !== 'none')
        .map(([name]) => name);
      const seen = streamed(r.id);
      const before = seen ? columns.filter((c) => seen.has(c)) : [];
      return { id: r.id, table: r.table, key: r.key, columns, ...(before.length ? { streamed: before } : {}) };
    });
}

/** The validated config's subscriptions, each with its grant decided by the same rules `sluice validate` uses. */
export function compileSubscriptions(cfg: Config): Map<string, ScheduledSubscription> {
  const subs = new Map<string, ScheduledSubscription>();
  for (const s of cfg.subscriptions) {
    const resource = cfg.resources.find((r) => r.id === s.resource)!;
    const subscriber = cfg.subscribers.find((x) => x.id === s.subscriber);
    const sub: ScheduledSubscription = {
      id: s.id,
      subscriber: s.subscriber,
      resource: s.resource,
      provider: resource.provider,
      purpose: s.purpose,
      businessSystem: s.businessSystem,
      grantId: `config:${s.id}`,
      fields: [],
      denied: [],
      ...(subscriber?.publicKey ? { recipientKey: subscriber.publicKey } : {}),
      maxRowsPerFile: MAX_ROWS_PER_FILE,
      ...deliverySettings(s.delivery, s.subscriber, s.id),
    };
    regrant(sub, cfg); // fields, denials and masking options as of now
    subs.set(s.id, sub);
  }
  return subs;
}

/**
 * A subscription's grant under the config as it is now (runtime classifications applied by the caller), decided
 * for the instant `at` with the usage counters given (the `decide` specification, engine/rules/decision.ts).
 */
export function grantFor(cfg: Config, subscription: string, at: Date, usage?: ReadonlyMap<string, number>): Grant {
  const s = cfg.subscriptions.find((x) => x.id === subscription)!;
  const resource = cfg.resources.find((r) => r.id === s.resource)!;
  const subscriber = cfg.subscribers.find((x) => x.id === s.subscriber)!;
  return decideGrant(resource, subscriber, s, maskingMatrix(cfg.masking), at.toISOString(), {
    tags: maskingTags(cfg.masking),
    ...(usage ? { usage } : {}),
  });
}

/** Partial formats per tag, and generalize options per field: the config's defaults under each field's own. */
export function maskingOptions(cfg: Config, resource: ResourceConfig): NonNullable<BatchSubscription['masking']> {
  const defaults = cfg.masking?.generalize ?? {};
  const generalize: Record<string, GeneralizeOptions> = {};
  for (const [name, f] of Object.entries(resource.fields)) {
    generalize[name] = { ...defaults, ...(f.generalize as GeneralizeOptions | undefined) };
  }
  return { ...(cfg.masking?.partial ? { partial: cfg.masking.partial } : {}), generalize };
}

const denial = (p: Grant['problems'][number]): CycleDenial => ({
  field: p.field,
  reason: p.reason,
  message: p.message,
});

/** The decision as a batch cycle asks for it: at the tick, with the subscription's usage counters. */
export function cycleGrant(cfg: () => Config, subscription: string, usage: () => Promise<ReadonlyMap<string, number>>) {
  return async (tick: Date) => {
    const g = grantFor(cfg(), subscription, tick, await usage());
    return { fields: g.fields, denied: g.problems.map(denial) };
  };
}

/**
 * After a runtime classification changed the resource: what the subscription shows between cycles (its grant now,
 * without usage) and the masking options of its fields. The cycle itself decides again anyway (`grant`).
 */
export function regrant(sub: ScheduledSubscription, cfg: Config): void {
  const g = grantFor(cfg, sub.id, new Date());
  sub.fields = g.fields;
  sub.denied = g.problems.map(denial);
  sub.masking = maskingOptions(
    cfg,
    cfg.resources.find((r) => r.id === sub.resource)!,
  );
}

/**
 * The config path a source error is about (from its details: resource, column, provider), prefixed to its message:
 * `resources[0].fields.mobile: column "mobile" does not exist in public.relief_recipients`.
 */
export function withConfigPath(cfg: Config, e: SluiceError): SluiceError {
  const d = e.details;
  const ri = cfg.resources.findIndex((r) => r.id === d.resource);
  const pi = cfg.providers.findIndex((p) => p.id === (d.provider ?? cfg.resources[ri]?.provider));
  let path: (string | number)[] | null = null;
  if (ri >= 0 && typeof d.column === 'string') {
    const r = cfg.resources[ri]!;
    path = Object.hasOwn(r.fields, d.column)
      ? ['resources', ri, 'fields', d.column]
      : ['resources', ri, 'key', r.key.indexOf(d.column)];
  } else if (ri >= 0) path = ['resources', ri, 'table'];
  else if (pi >= 0) path = ['providers', pi, 'connector', 'url'];
  if (!path) return e;
  return new SluiceError(e.code, `${formatPath(path)}: ${e.message}`, {
    retriable: e.retriable,
    details: { ...e.details, configPath: formatPath(path) },
    cause: e,
  });
}

/** A feed's transport, resolved from its config (durations parsed, defaults applied). */
export type FeedSettings =
  | { kind: 'nats'; url: string; subject: string; stream: string; maxAgeMs: number }
  | ({ kind: 'webhook' } & Omit<WebhookSinkOptions, 'onFailure'>);

/** The delivery settings of a subscription as the engine runs them (batch or feed). */
function deliverySettings(d: SubscriptionConfig['delivery'], subscriber: string, id: string) {
  if (d.mode === 'batch') {
    return {
      compression: d.compression ?? 'zstd',
      incremental: d.incremental ?? 'changes',
      partBytes: parseSize(d.partSize, 1024 ** 3),
      ...(d.rowGroupRows ? { rowGroupRows: d.rowGroupRows } : {}),
      cadence: d.cadence,
      timezone: d.timezone ?? 'UTC',
      maxInFlight: 0,
      lingerMs: 0,
    } as const;
  }
  const feed: FeedSettings = d.nats
    ? {
        kind: 'nats',
        url: d.nats.url,
        subject: d.nats.subject ?? `sluice.feed.${subscriber}.${id}`,
        stream: d.nats.stream ?? 'SLUICE_FEED',
        maxAgeMs: parseDuration(d.nats.maxAge, 7 * 86_400_000),
      }
    : {
        kind: 'webhook',
        url: d.webhook!.url,
        secret: d.webhook!.secret,
        batchSize: d.webhook!.batchSize ?? 100,
        timeoutMs: parseDuration(d.webhook!.timeout, 10_000),
        maxAttempts: d.webhook!.maxAttempts ?? 8,
        backoff: {
          initialMs: parseDuration(d.webhook!.backoff?.initial, 500),
          maxMs: parseDuration(d.webhook!.backoff?.max, 60_000),
        },
      };
  return {
    compression: 'zstd',
    incremental: 'changes',
    cadence: FEED_CADENCE,
    timezone: 'UTC',
    feed,
    maxInFlight: d.maxInFlight ?? 1000,
    lingerMs: parseDuration(d.webhook?.linger, 0),
  } as const;
}

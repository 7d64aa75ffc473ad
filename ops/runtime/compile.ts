import type { BatchSubscription } from '../../engine/delivery/batch-cycle.ts';
import type { Logger } from '../../engine/ports/index.ts';
import { decideGrant } from '../../engine/rules/grant.ts';
import { PostgresSource } from '../../connectors/sources/postgres/postgres-source.ts';
import type { Config } from '../../schemas/index.ts';
import { maskingMatrix } from '../config/masking-matrix.ts';

/** A batch subscription as the engine runs it, with its schedule. */
export type ScheduledSubscription = BatchSubscription & { cadence: string; timezone: string; lastError?: string };

/** Upper bound on the rows of one file: a larger backlog becomes several files in one tick. */
const MAX_ROWS_PER_FILE = 500_000;

/** One source per provider; only key columns and shareable classified fields may enter the platform. */
export function buildSources(cfg: Config, log: Logger): PostgresSource[] {
  return cfg.providers.map(
    (p) =>
      new PostgresSource({
        id: p.id,
        url: p.connector.url,
        logger: log,
        resources: cfg.resources
          .filter((r) => r.provider === p.id)
          .map((r) => ({
            id: r.id,
            table: r.table,
            key: r.key,
            columns: Object.entries(r.fields)
              .filter(([, f]) => f.share !== 'none')
              .map(([name]) => name),
          })),
      }),
  );
}

/** The validated config's subscriptions, each with its grant decided by the same rules `sluice validate` uses. */
export function compileSubscriptions(cfg: Config): Map<string, ScheduledSubscription> {
  const matrix = maskingMatrix(cfg.masking);
  const subs = new Map<string, ScheduledSubscription>();
  for (const s of cfg.subscriptions) {
    const resource = cfg.resources.find((r) => r.id === s.resource)!;
    const subscriber = cfg.subscribers.find((x) => x.id === s.subscriber)!;
    subs.set(s.id, {
      id: s.id,
      subscriber: s.subscriber,
      resource: s.resource,
      provider: resource.provider,
      purpose: s.purpose,
      businessSystem: s.businessSystem,
      grantId: `config:${s.id}`,
      fields: decideGrant(resource, subscriber, s, matrix).fields,
      compression: s.delivery.compression ?? 'zstd',
      maxRowsPerFile: MAX_ROWS_PER_FILE,
      cadence: s.delivery.cadence,
      timezone: s.delivery.timezone ?? 'UTC',
    });
  }
  return subs;
}

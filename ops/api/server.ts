import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { SluiceError } from '../../engine/errors.ts';
import type { RuntimeCatalog } from '../runtime/runtime-catalog.ts';
import type { EngineStatus } from '../runtime/status.ts';
import { catalogRoutes, keyRoutes, qualityRoutes, type QualityApi } from './catalog-routes.ts';
import { cycleRoutes, type CycleApi } from './cycle-routes.ts';
import { dlqRoutes, type DlqApi } from './dlq-routes.ts';
import { logRoutes } from './log-routes.ts';
import type { DeliveryLog } from '../../engine/delivery-log/delivery-log.ts';
import { schemaRoutes, type SchemaApi } from './schema-routes.ts';
import { snapshotRoutes, type SnapshotApi } from './snapshot-routes.ts';
import { subscriptionRoutes, type SubscriptionApi } from './subscription-routes.ts';

export interface ApiOptions {
  listen: string;
  status: () => Promise<EngineStatus>;
  metrics: Registry;
  catalog?: RuntimeCatalog;
  quality?: QualityApi;
  rotateKey?: (subscription: string, kind: 'hash' | 'encrypt') => Promise<{ version: number }>;
  snapshots?: SnapshotApi;
  schemas?: SchemaApi;
  subscriptions?: SubscriptionApi;
  cycles?: CycleApi;
  dlq?: DlqApi;
  log?: DeliveryLog;
}

/**
 * The engine's local HTTP API (loopback by default). `/healthz`: the process is up. `/readyz`: state DB reachable
 * and every source streaming (503 with the reasons otherwise). `/v1/status`: sources and subscriptions.
 * `/v1/catalog…`: the data map and runtime classifications (catalog-routes.ts). `/v1/snapshots`, resnapshot and
 * backfill (snapshot-routes.ts). `/v1/resources/:id/schemas` (schema-routes.ts). `/v1/subscriptions/:id/fields` (subscription-routes.ts). `/v1/cycles`, `/v1/subscriptions/:id/cycle|pause|resume`
 * (cycle-routes.ts). `/v1/subscriptions/:id/dlq…`: a feed's dead letters (dlq-routes.ts). `/v1/log…`: the delivery
 * log's checkpoint and proofs (log-routes.ts). `/metrics`: Prometheus text format.
 */
export async function startApi(
  opts: ApiOptions,
): Promise<{ url: string; close: () => Promise<void>; app: FastifyInstance }> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const s = await opts.status();
    const problems = [
      ...(s.state.ok ? [] : [`state database: ${s.state.error ?? 'unreachable'}`]),
      ...s.sources
        .filter((x) => x.state !== 'STREAMING')
        .map((x) => `source ${x.id}: ${x.state}${x.error ? ` (${x.error})` : ''}`),
    ];
    return reply.code(problems.length ? 503 : 200).send({ ready: problems.length === 0, problems });
  });
  app.get('/v1/status', async () => opts.status());
  if (opts.catalog) catalogRoutes(app, opts.catalog);
  if (opts.quality) qualityRoutes(app, opts.quality);
  if (opts.rotateKey) keyRoutes(app, opts.rotateKey);
  if (opts.snapshots) snapshotRoutes(app, opts.snapshots);
  if (opts.schemas) schemaRoutes(app, opts.schemas);
  if (opts.subscriptions) subscriptionRoutes(app, opts.subscriptions);
  if (opts.cycles) cycleRoutes(app, opts.cycles);
  if (opts.dlq) dlqRoutes(app, opts.dlq);
  if (opts.log) logRoutes(app, opts.log);
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', opts.metrics.contentType).send(await opts.metrics.metrics()),
  );
  const idx = opts.listen.lastIndexOf(':');
  const host = opts.listen.slice(0, idx);
  const port = Number(opts.listen.slice(idx + 1));
  try {
    await app.listen({ host, port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SluiceError(
      'UNAVAILABLE',
      `api.listen ${opts.listen}: cannot listen (${code ?? (e as Error).message}); choose another port, or 0 for any free one`,
      { cause: e },
    );
  }
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return { url: `http://${host}:${bound}`, close: () => app.close(), app };
}

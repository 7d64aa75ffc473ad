import type { FastifyInstance } from 'fastify';
import type { SnapshotProgress } from '../../engine/ports/index.ts';
import { fail } from './catalog-routes.ts';

export interface SnapshotApi {
  /** Runs in progress and the last finished ones, per source. */
  list(): Promise<SnapshotProgress[]>;
  /** A new snapshot of a resource for every subscription (the recovery path after a lost slot, or on demand). */
  resnapshot(resource: string): Promise<SnapshotProgress>;
  /** The current state again for one subscription only. */
  backfill(subscription: string): Promise<SnapshotProgress>;
}

/**
 * `GET /v1/snapshots`; `POST /v1/resources/:id/resnapshot` and `POST /v1/subscriptions/:id/backfill` answer 202 with
 * the run once the request is stored (it survives a crash from then on), 404 for an unknown resource or
 * subscription, 503 while its source is not streaming.
 */
export function snapshotRoutes(app: FastifyInstance, api: SnapshotApi): void {
  app.get('/v1/snapshots', async () => ({ snapshots: await api.list() }));
  app.post<{ Params: { id: string } }>('/v1/resources/:id/resnapshot', async (req, reply) => {
    try {
      return reply.code(202).send(await api.resnapshot(req.params.id));
    } catch (e) {
      return fail(reply, e);
    }
  });
  app.post<{ Params: { id: string } }>('/v1/subscriptions/:id/backfill', async (req, reply) => {
    try {
      return reply.code(202).send(await api.backfill(req.params.id));
    } catch (e) {
      return fail(reply, e);
    }
  });
}

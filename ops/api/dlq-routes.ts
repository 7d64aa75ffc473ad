import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { DeadLetterOutcome } from '../../engine/feed/feed-loop.ts';
import type { DeadLetterView } from '../runtime/feeds.ts';
import { fail } from './catalog-routes.ts';

export interface DlqApi {
  list(subscription: string): Promise<DeadLetterView[]>;
  replay(subscription: string): Promise<DeadLetterOutcome>;
  skip(subscription: string, id?: string): Promise<DeadLetterOutcome>;
}

const SkipBody = Type.Union([
  Type.Object({ id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
  Type.Null(),
]);

type Params = { Params: { id: string } };

/**
 * A feed subscription's dead-letter store: `GET /v1/subscriptions/:id/dlq` (its events by seq: id, key, state
 * `failed` or `waiting`, attempts, last error), `POST …/dlq/replay` (send them again, in order per key), `POST
 * …/dlq/skip` `{id?}` (drop the failed ones — or the one named — undelivered, then send what waited behind them).
 * 404 for a subscription that is not a feed; 409 for a replay while it is paused.
 */
export function dlqRoutes(app: FastifyInstance, api: DlqApi): void {
  const guard =
    (f: (req: { params: { id: string }; body: unknown }) => Promise<unknown>) =>
    async (req: { params: { id: string }; body: unknown }, reply: Parameters<typeof fail>[0]) => {
      try {
        return await f(req);
      } catch (e) {
        return fail(reply, e);
      }
    };
  app.get<Params>(
    '/v1/subscriptions/:id/dlq',
    guard(async (req) => ({ subscription: req.params.id, events: await api.list(req.params.id) })),
  );
  app.post<Params>(
    '/v1/subscriptions/:id/dlq/replay',
    guard(async (req) => ({ subscription: req.params.id, ...(await api.replay(req.params.id)) })),
  );
  app.post<Params & { Body: Static<typeof SkipBody> }>(
    '/v1/subscriptions/:id/dlq/skip',
    { schema: { body: SkipBody } },
    guard(async (req) => {
      const body = req.body as Static<typeof SkipBody>;
      return { subscription: req.params.id, ...(await api.skip(req.params.id, body?.id)) };
    }),
  );
}

import type { FastifyInstance } from 'fastify';
import type { DeliveryLog } from '../../engine/delivery-log/delivery-log.ts';
import { SluiceError } from '../../engine/errors.ts';
import { fail } from './catalog-routes.ts';

type Query = { Querystring: { size?: string; from?: string; to?: string } };

const int = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new SluiceError('USAGE', `${name} must be a non-negative integer (got "${v}")`);
  return Number(v);
};

/**
 * The delivery log (RFC 6962): `GET /v1/log` — its checkpoint `{size, root}` (`?size=N`: of its first N leaves);
 * `GET /v1/log/leaves/:index` — the leaf's data and audit path (`?size=N`: in the log of N leaves); `GET
 * /v1/log/consistency?from=M[&to=N]` — the proof that the log of M leaves is a prefix of the log of N.
 */
export function logRoutes(app: FastifyInstance, log: DeliveryLog): void {
  const guard =
    <R>(f: (req: R) => Promise<unknown>) =>
    async (req: R, reply: Parameters<typeof fail>[0]) => {
      try {
        return await f(req);
      } catch (e) {
        return fail(reply, e);
      }
    };
  app.get<Query>(
    '/v1/log',
    guard(async (req: { query: Query['Querystring'] }) => log.checkpoint(int(req.query.size, 'size'))),
  );
  app.get<Query & { Params: { index: string } }>(
    '/v1/log/leaves/:index',
    guard(async (req: { params: { index: string }; query: Query['Querystring'] }) =>
      log.inclusion(int(req.params.index, 'index')!, int(req.query.size, 'size')),
    ),
  );
  app.get<Query>(
    '/v1/log/consistency',
    guard(async (req: { query: Query['Querystring'] }) => {
      const from = int(req.query.from, 'from');
      if (from === undefined) throw new SluiceError('USAGE', 'from is required (the older log size)');
      return log.consistency(from, int(req.query.to, 'to'));
    }),
  );
}

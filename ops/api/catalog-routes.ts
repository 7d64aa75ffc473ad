import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isSluiceError } from '../../engine/errors.ts';
import { Level, Share } from '../../schemas/index.ts';
import type { QualityReport } from '../../engine/quality/index.ts';
import type { RuntimeCatalog } from '../runtime/runtime-catalog.ts';

const ClassifyBody = Type.Object(
  {
    level: Level,
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    share: Share,
    by: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

const HTTP_STATUS: Record<string, number> = {
  NOT_FOUND: 404,
  USAGE: 400,
  CONFIG_INVALID: 400,
  CONFLICT: 409,
  UNAVAILABLE: 503,
};

export interface QualityApi {
  /** The resource's reports: the last scan (if any) and the live stream report. */
  reports(resource: string): Promise<QualityReport[]>;
  /** Scans the whole table now; stores and returns the report. */
  scan(resource: string): Promise<QualityReport>;
}

/** `GET /v1/quality/:resource` (last scan and the stream's report), `POST /v1/quality/:resource/scan`. */
export function qualityRoutes(app: FastifyInstance, quality: QualityApi): void {
  app.get<{ Params: { resource: string } }>('/v1/quality/:resource', async (req, reply) => {
    try {
      return { resource: req.params.resource, reports: await quality.reports(req.params.resource) };
    } catch (e) {
      return fail(reply, e);
    }
  });
  app.post<{ Params: { resource: string } }>('/v1/quality/:resource/scan', async (req, reply) => {
    try {
      return await quality.scan(req.params.resource);
    } catch (e) {
      return fail(reply, e);
    }
  });
}

/** A SluiceError as an HTTP answer (`{error, code}`); anything else is rethrown (500). */
export function fail(reply: FastifyReply, e: unknown) {
  if (!isSluiceError(e)) throw e;
  return reply.code(HTTP_STATUS[e.code] ?? 500).send({ error: e.message, code: e.code });
}

/**
 * The data map: `GET /v1/catalog` (every resource, described live from the providers' databases),
 * `GET /v1/catalog/:resource`, `PUT /v1/catalog/:resource/fields/:column` with `{level, tag?, share, by?}` (a
 * provider's runtime classification, stored in the state DB and shown as an override of the config) and
 * `DELETE /v1/catalog/:resource/fields/:column` (the config's classification applies again).
 */
export function catalogRoutes(app: FastifyInstance, catalog: RuntimeCatalog): void {
  app.get('/v1/catalog', async () => ({ resources: await catalog.catalog() }));
  app.get<{ Params: { resource: string } }>('/v1/catalog/:resource', async (req, reply) => {
    try {
      return (await catalog.catalog(req.params.resource))[0];
    } catch (e) {
      return fail(reply, e);
    }
  });
  app.put<{ Params: { resource: string; column: string }; Body: Static<typeof ClassifyBody> }>(
    '/v1/catalog/:resource/fields/:column',
    { schema: { body: ClassifyBody } },
    async (req, reply) => {
      try {
        return await catalog.classify(req.params.resource, req.params.column, req.body);
      } catch (e) {
        return fail(reply, e);
      }
    },
  );
  app.delete<{ Params: { resource: string; column: string } }>(
    '/v1/catalog/:resource/fields/:column',
    async (req, reply) => {
      try {
        return { removed: await catalog.declassify(req.params.resource, req.params.column) };
      } catch (e) {
        return fail(reply, e);
      }
    },
  );
}

/** `POST /v1/subscriptions/:id/keys/:kind/rotate`: a new version of a subscription's hash key or data key. */
export function keyRoutes(
  app: FastifyInstance,
  rotate: (subscription: string, kind: 'hash' | 'encrypt') => Promise<{ version: number }>,
): void {
  app.post<{ Params: { id: string; kind: string } }>('/v1/subscriptions/:id/keys/:kind/rotate', async (req, reply) => {
    const { id, kind } = req.params;
    if (kind !== 'hash' && kind !== 'encrypt') {
      return reply.code(400).send({ error: `unknown key kind "${kind}" (hash or encrypt)`, code: 'USAGE' });
    }
    try {
      return { subscription: id, kind, ...(await rotate(id, kind)) };
    } catch (e) {
      return fail(reply, e);
    }
  });
}

import type { FastifyInstance } from 'fastify';
import type { ShapeChange } from '../../engine/catalog/index.ts';
import type { ResourceSchema } from '../../engine/ports/index.ts';
import { fail } from './catalog-routes.ts';

/** A resource's recorded schema versions, what changed at each, and what that means for its subscriptions. */
export interface SchemaHistory {
  resource: string;
  /** The version of the shape the resource's stream reported last (null before any). */
  current: number | null;
  /** Oldest first; `changes` against the version before it. */
  versions: (Omit<ResourceSchema, 'resource'> & { changes?: ShapeChange })[];
  /** Subscriptions of the resource and the fields they ask for that the current version no longer has. */
  subscriptions: { id: string; dropped: string[] }[];
}

export interface SchemaApi {
  history(resource: string): Promise<SchemaHistory>;
}

/** `GET /v1/resources/:id/schemas`: the resource's schema versions (404 for an unknown resource). */
export function schemaRoutes(app: FastifyInstance, api: SchemaApi): void {
  app.get<{ Params: { id: string } }>('/v1/resources/:id/schemas', async (req, reply) => {
    try {
      return await api.history(req.params.id);
    } catch (e) {
      return fail(reply, e);
    }
  });
}

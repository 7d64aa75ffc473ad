import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { SubscriptionFields } from '../runtime/runtime-subscriptions.ts';
import { fail } from './catalog-routes.ts';

/** A subscription's fields (config, override), what the grant makes of them now, and a backfill it caused. */
export interface FieldsView extends SubscriptionFields {
  granted: string[];
  denied: { field: string; reason: string; message: string }[];
  /** Set when the change granted fields anew: their current values follow as a backfill. */
  backfill?: string;
}

export interface SubscriptionApi {
  fields(subscription: string): Promise<FieldsView>;
  setFields(subscription: string, fields: string[], by?: string): Promise<FieldsView>;
  resetFields(subscription: string): Promise<FieldsView & { removed: boolean }>;
}

const FieldsBody = Type.Object(
  {
    fields: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    by: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

/**
 * `GET|PUT|DELETE /v1/subscriptions/:id/fields`: the fields a subscription asks for, changed at runtime (checked by
 * `sluice validate`'s rules; 400 naming each problem, 404 for an unknown subscription). A field granted anew is
 * backfilled to that subscription; DELETE returns to the config's fields.
 */
export function subscriptionRoutes(app: FastifyInstance, api: SubscriptionApi): void {
  app.get<{ Params: { id: string } }>('/v1/subscriptions/:id/fields', async (req, reply) => {
    try {
      return await api.fields(req.params.id);
    } catch (e) {
      return fail(reply, e);
    }
  });
  app.put<{ Params: { id: string }; Body: Static<typeof FieldsBody> }>(
    '/v1/subscriptions/:id/fields',
    { schema: { body: FieldsBody } },
    async (req, reply) => {
      try {
        return await api.setFields(req.params.id, req.body.fields, req.body.by);
      } catch (e) {
        return fail(reply, e);
      }
    },
  );
  app.delete<{ Params: { id: string } }>('/v1/subscriptions/:id/fields', async (req, reply) => {
    try {
      return await api.resetFields(req.params.id);
    } catch (e) {
      return fail(reply, e);
    }
  });
}

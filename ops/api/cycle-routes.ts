import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CycleRun } from '../../engine/ports/index.ts';
import type { SubscriptionCycle } from '../runtime/runtime-subscriptions.ts';
import { fail } from './catalog-routes.ts';

/** One subscription's exchange cycle: cadence (config or override), pause, last and next run, lag. */
export interface CycleView extends SubscriptionCycle {
  resource: string;
  /** `paused`; `running` (a run in flight); `failing` (the last run failed); else `idle`. */
  state: 'paused' | 'running' | 'failing' | 'idle';
  lastRun: CycleRun | null;
  /** The next tick (ISO 8601, UTC); null while paused. */
  nextRun: string | null;
  /** Age of the oldest change not yet delivered (0 when caught up); null when the state DB does not answer. */
  lagSeconds: number | null;
  /** Events on the bus not yet delivered. */
  backlogEvents: number | null;
  /** Seconds until bus.retention.max trims the oldest change it has not received. */
  retentionLeftSeconds: number | null;
}

/** What a run started on request delivered. */
export interface CycleRunView {
  subscription: string;
  tick: string;
  rows: number;
  files: { stem: string; rows: number; firstSeq: string; lastSeq: string; manifestFile: string }[];
}

/** What a re-delivery produced. */
export interface RedeliveryView extends CycleRunView {
  fromSeq: string;
  toSeq: string;
  /** The original deliveries the files repeat. */
  redeliveryOf: string[];
}

export interface CycleApi {
  list(): Promise<CycleView[]>;
  get(subscription: string): Promise<CycleView>;
  set(subscription: string, cadence: string, timezone?: string, by?: string): Promise<CycleView>;
  reset(subscription: string): Promise<CycleView & { removed: boolean }>;
  pause(subscription: string, reason?: string, by?: string): Promise<CycleView>;
  resume(subscription: string): Promise<CycleView & { resumed: boolean }>;
  run(subscription: string): Promise<CycleRunView>;
  redeliver(subscription: string, from: string, to?: string): Promise<RedeliveryView>;
}

const By = Type.Optional(Type.String({ minLength: 1, maxLength: 200 }));
const SetBody = Type.Object(
  {
    cadence: Type.String({ minLength: 1, maxLength: 200 }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    by: By,
  },
  { additionalProperties: false },
);
const PauseBody = Type.Union([
  Type.Object(
    { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })), by: By },
    {
      additionalProperties: false,
    },
  ),
  Type.Null(),
]);

const Bound = Type.String({ minLength: 1, maxLength: 40, description: 'a _seq, or an RFC 3339 time' });
const RedeliverBody = Type.Object({ from: Bound, to: Type.Optional(Bound) }, { additionalProperties: false });

type Params = { Params: { id: string } };

/**
 * Exchange cycles, changed while the engine runs: `GET /v1/cycles` (every subscription), `GET|PUT|DELETE
 * /v1/subscriptions/:id/cycle` (the cadence; PUT `{cadence, timezone?, by?}` stores a runtime override that takes
 * effect from the next tick and survives restarts, DELETE returns to the config's), `POST /v1/subscriptions/:id/pause`
 * `{reason?, by?}` and `/resume`, `POST /v1/subscriptions/:id/cycle/run` (one cycle now; 409 while paused). A bad cron
 * expression or time zone is a 400 naming it; an unknown subscription a 404. `POST /v1/subscriptions/:id/redeliver`
 * `{from, to?}` (each a `_seq` or an RFC 3339 time) produces new files for a range already delivered.
 */
export function cycleRoutes(app: FastifyInstance, api: CycleApi): void {
  const guard =
    <T>(f: (req: { params: { id: string }; body: T }) => Promise<unknown>) =>
    async (req: { params: { id: string }; body: T }, reply: Parameters<typeof fail>[0]) => {
      try {
        return await f(req);
      } catch (e) {
        return fail(reply, e);
      }
    };
  app.get('/v1/cycles', async () => ({ cycles: await api.list() }));
  app.get<Params>(
    '/v1/subscriptions/:id/cycle',
    guard((req) => api.get(req.params.id)),
  );
  app.put<Params & { Body: Static<typeof SetBody> }>(
    '/v1/subscriptions/:id/cycle',
    { schema: { body: SetBody } },
    guard<Static<typeof SetBody>>((req) => api.set(req.params.id, req.body.cadence, req.body.timezone, req.body.by)),
  );
  app.delete<Params>(
    '/v1/subscriptions/:id/cycle',
    guard((req) => api.reset(req.params.id)),
  );
  app.post<Params & { Body: Static<typeof PauseBody> }>(
    '/v1/subscriptions/:id/pause',
    { schema: { body: PauseBody } },
    guard<Static<typeof PauseBody>>((req) => api.pause(req.params.id, req.body?.reason, req.body?.by)),
  );
  app.post<Params>(
    '/v1/subscriptions/:id/resume',
    guard((req) => api.resume(req.params.id)),
  );
  app.post<Params>(
    '/v1/subscriptions/:id/cycle/run',
    guard((req) => api.run(req.params.id)),
  );
  app.post<Params & { Body: Static<typeof RedeliverBody> }>(
    '/v1/subscriptions/:id/redeliver',
    { schema: { body: RedeliverBody } },
    guard<Static<typeof RedeliverBody>>((req) => api.redeliver(req.params.id, req.body.from, req.body.to)),
  );
}

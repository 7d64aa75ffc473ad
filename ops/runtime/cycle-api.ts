import type pg from 'pg';
import type { Config } from '../../schemas/index.ts';
import type { CycleApi, CycleView } from '../api/cycle-routes.ts';
import type { CycleRunner } from './cycle-runner.ts';
import type { RuntimeSubscriptions } from './runtime-subscriptions.ts';
import { subscriptionLag } from './subscription-lag.ts';
import type { CycleResult } from '../../engine/delivery/batch-cycle.ts';
import type { RedeliveryBound, RedeliveryRequest } from '../../engine/delivery/redelivery.ts';
import { SluiceError } from '../../engine/errors.ts';

/** `120` → seq 120; `2026-12-04T08:00:00Z` → that instant; anything else is a usage error naming the option. */
export function bound(text: string, which: 'from' | 'to'): RedeliveryBound {
  if (/^\d{1,19}$/.test(text)) return { seq: BigInt(text) };
  const t = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t)) {
    throw new SluiceError(
      'USAGE',
      `--${which} "${text}": give a _seq (e.g. 120) or an RFC 3339 time (e.g. 2026-12-04T08:00:00+08:00)`,
    );
  }
  return { time: new Date(t) };
}

/** The tick a re-delivery's files are labelled with (from their stems), or now when it wrote none. */
const tickOf = (r: CycleResult) => {
  const stem = r.files[0]?.stem;
  if (!stem) return new Date().toISOString();
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(stem)!;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z`;
};

export interface CycleApiDeps {
  runner: CycleRunner;
  overrides: RuntimeSubscriptions;
  /** The config with runtime classifications (the base the overrides apply to). */
  config: () => Config;
  /** The resource of each subscription the engine runs. */
  resourceOf: (subscription: string) => string;
  pool: pg.Pool;
  /** bus.retention.max: what a subscription's lag is measured against. */
  retentionMaxMs: number;
  /** Whether a subscription is a live feed (it has no cycle to run). */
  isFeed: (id: string) => boolean;
  /** Runs a re-delivery in turn with the subscription's cycles. */
  redeliver: (id: string, req: RedeliveryRequest) => Promise<CycleResult & { fromSeq?: string; toSeq?: string }>;
}

/**
 * The engine's side of `sluice cycles`, `cycle set|reset|run`, `pause|resume`: changes go through the runtime
 * overrides (checked like `sluice validate`, stored, then re-scheduled by the engine), views join the cadence, the
 * runner's last and next run and the subscription's lag.
 */
export function cycleApi(d: CycleApiDeps): CycleApi {
  const view = async (id: string): Promise<CycleView> => {
    const c = d.overrides.cycle(d.config(), id); // NOT_FOUND for an unknown subscription
    const resource = d.resourceOf(id);
    const last = d.runner.lastRun(id);
    let lag: Pick<CycleView, 'lagSeconds' | 'backlogEvents'> = { lagSeconds: null, backlogEvents: null };
    try {
      lag = await subscriptionLag(d.pool, resource, id);
    } catch {
      // the state DB does not answer: shown as unknown
    }
    const state = c.paused
      ? 'paused'
      : d.runner.running(id)
        ? 'running'
        : last?.outcome === 'failed'
          ? 'failing'
          : 'idle';
    const retentionLeftSeconds = lag.lagSeconds === null ? null : Math.round(d.retentionMaxMs / 1000 - lag.lagSeconds);
    const nextRun = d.runner.nextRun(id)?.toISOString() ?? null;
    return { ...c, resource, state, lastRun: last, nextRun, ...lag, retentionLeftSeconds };
  };
  return {
    list: () => Promise.all(d.runner.subscriptions().map(view)),
    get: view,
    set: async (id, cadence, timezone, by) => {
      await d.overrides.setCadence(d.config(), id, cadence, timezone, by);
      return view(id);
    },
    reset: async (id) => {
      const removed = await d.overrides.resetCadence(d.config(), id);
      return { ...(await view(id)), removed };
    },
    pause: async (id, reason, by) => {
      await d.overrides.pause(d.config(), id, reason, by);
      return view(id);
    },
    resume: async (id) => {
      const resumed = await d.overrides.resume(d.config(), id);
      return { ...(await view(id)), resumed };
    },
    redeliver: async (id, from, to) => {
      d.overrides.cycle(d.config(), id); // NOT_FOUND for an unknown subscription
      const req = { from: bound(from, 'from'), ...(to !== undefined ? { to: bound(to, 'to') } : {}), at: new Date() };
      const r = await d.redeliver(id, req);
      return {
        subscription: id,
        tick: tickOf(r),
        rows: r.rows,
        fromSeq: r.fromSeq ?? '',
        toSeq: r.toSeq ?? '',
        redeliveryOf: [...new Set(r.files.flatMap((f) => f.redeliveryOf ?? []))],
        files: r.files.map((f) => ({ ...f, firstSeq: f.firstSeq.toString(), lastSeq: f.lastSeq.toString() })),
      };
    },
    run: async (id) => {
      if (d.isFeed(id)) {
        throw new SluiceError('CONFLICT', `subscription "${id}" is a live feed: it sends each change as it comes`, {
          details: { subscription: id },
        });
      }
      const tick = new Date(Math.floor(Date.now() / 1000) * 1000);
      const r = await d.runner.runNow(id, tick);
      return {
        subscription: id,
        tick: tick.toISOString(),
        rows: r.rows,
        files: r.files.map((f) => ({ ...f, firstSeq: f.firstSeq.toString(), lastSeq: f.lastSeq.toString() })),
      };
    },
  };
}

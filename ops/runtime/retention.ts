import type { Bus, Logger, StateStore } from '../../engine/ports/index.ts';

export interface RetentionPolicy {
  /** Changes every subscription of their resource has received stay this long (for re-delivery). */
  keepDeliveredMs: number;
  /** No change stays longer, delivered or not. */
  maxMs: number;
}

export interface RetentionDeps {
  bus: Bus;
  state: StateStore;
  policy: RetentionPolicy;
  /** Every resource with the subscriptions reading it. */
  resources: () => { resource: string; subscriptions: string[] }[];
  /** Age of the oldest change a subscription has not received (0 when caught up). */
  lagSeconds: (subscription: string) => Promise<number>;
  log: Logger;
  onTrimmed?: (resource: string, events: number) => void;
  onRetentionLeft?: (subscription: string, seconds: number) => void;
}

/** Warned when less than this share of `maxMs` is left before a subscription's oldest undelivered change goes. */
const ALERT_SHARE = 0.25;

/**
 * Bus retention (`bus.retention`): the log of a resource is trimmed up to the point every subscription has received
 * once that point is `keepDelivered` old — so `sluice redeliver` can reach back that far — and, whatever was
 * received, past `max`: a paused or stuck subscription does not pin storage forever. It is warned about first (a
 * quarter of `max` left, also in `sluice_subscription_retention_left_seconds`), and when changes it had not received
 * are trimmed anyway its next cycle reports the gap and it gets a backfill of the current state. Nothing an open
 * intent (a cycle or re-delivery in flight, or left by a crash) covers is ever trimmed, so re-created files stay
 * byte-identical.
 */
export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly warned = new Set<string>();

  constructor(private readonly d: RetentionDeps) {}

  /** Checks every tenth of the shorter period (between 200 ms and a minute). */
  start(): void {
    const every = Math.min(60_000, Math.max(200, Math.min(this.d.policy.keepDeliveredMs, this.d.policy.maxMs) / 10));
    this.timer = setInterval(() => {
      this.running ??= this.runOnce()
        .catch((e: unknown) => this.d.log.warn('retention check failed', { error: (e as Error).message }))
        .finally(() => (this.running = null));
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass over every resource: trim, then the alerts. */
  async runOnce(now = new Date()): Promise<void> {
    const { bus, state, policy, log } = this.d;
    for (const { resource, subscriptions } of this.d.resources()) {
      const head = await bus.head(resource);
      if (head === 0n) continue;
      const cursors = new Map<string, bigint>();
      let protect = head;
      for (const id of subscriptions) {
        cursors.set(id, (await state.cursor(id)).seq);
        for (const open of [await state.openIntent(id), await state.openIntent(id, 'redelivery')]) {
          if (open && open.fromSeq < protect) protect = open.fromSeq;
        }
      }
      let received = protect;
      for (const c of cursors.values()) if (c < received) received = c;
      const kept = await bus.trim(resource, {
        upToSeq: received,
        appendedBefore: new Date(now.getTime() - policy.keepDeliveredMs),
      });
      const forced = await bus.trim(resource, {
        upToSeq: protect,
        appendedBefore: new Date(now.getTime() - policy.maxMs),
      });
      const events = kept.events + forced.events;
      if (events > 0) {
        this.d.onTrimmed?.(resource, events);
        log.info('bus trimmed', { resource, events, trimmedThrough: forced.trimmed.toString() });
      }
      for (const [id, cursor] of cursors) {
        if (forced.events > 0 && cursor < forced.trimmed) {
          log.error('bus.retention.max trimmed changes a subscription had not received; its next cycle backfills', {
            subscription: id,
            firstSeq: (cursor + 1n).toString(),
            lastSeq: forced.trimmed.toString(),
          });
        }
      }
      for (const id of subscriptions) {
        const lag = await this.d.lagSeconds(id);
        const left = policy.maxMs / 1000 - lag;
        this.d.onRetentionLeft?.(id, left);
        if (lag > 0 && left < (ALERT_SHARE * policy.maxMs) / 1000) {
          if (!this.warned.has(id)) {
            this.warned.add(id);
            log.warn('subscription approaching bus.retention.max: changes it has not received will be trimmed', {
              subscription: id,
              secondsLeft: Math.max(0, Math.round(left)),
              oldestUndeliveredAgeSeconds: Math.round(lag),
            });
          }
        } else this.warned.delete(id);
      }
    }
  }
}

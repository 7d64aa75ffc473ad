import type { Logger, StateStore } from '../../engine/ports/index.ts';
import type { ScheduledSubscription } from './compile.ts';

/**
 * Subscriptions that need their current state as a backfill of their own (other subscriptions never see it): one
 * new to a resource that already has data, one whose granted fields grew — a field granted later, classified at
 * runtime or at a restart, counts as grown (DESIGN.md) —, one that retention trimmed past. The need is stored in the
 * state DB first, then requested, and requested again in the background until its source takes it (the source may
 * be down, or re-binding).
 */
export class BackfillNeeds {
  private readonly needs = new Map<string, string>();
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly d: {
      state: StateStore;
      subscription: (id: string) => ScheduledSubscription;
      /** Hands a backfill of `sub` to its source (durably); resolves with the run. */
      request: (sub: ScheduledSubscription) => Promise<{ id: string }>;
      log: Logger;
    },
  ) {}

  /** Records the fields granted now (at start, or after a change); a need the state DB reports is taken up. */
  async register(sub: ScheduledSubscription, head: bigint): Promise<void> {
    const start = await this.d.state.registerSubscription({
      subscription: sub.id,
      resource: sub.resource,
      fields: sub.fields.map((f) => f.name),
      head,
    });
    if (start.backfill) this.needs.set(sub.id, start.backfill);
  }

  /** A need found while running: stored, then requested. */
  async require(id: string, why: string): Promise<void> {
    await this.d.state.requireBackfill(id, why);
    this.needs.set(id, why);
    this.kick();
  }

  has(id: string): boolean {
    return this.needs.has(id);
  }

  /** Requests what is needed now, then keeps retrying in the background. */
  kick(): void {
    void this.requestAll().then(() => this.schedule());
  }

  /** Requests every need once (each source takes its own, or it stays for the next try). */
  async requestAll(): Promise<void> {
    for (const [id, why] of this.needs) {
      const sub = this.d.subscription(id);
      try {
        const run = await this.d.request(sub);
        this.needs.delete(id);
        this.d.log.info('backfill requested', { subscription: id, resource: sub.resource, why, run: run.id });
      } catch (e) {
        this.d.log.warn('backfill not requested yet; retrying', { subscription: id, error: (e as Error).message });
      }
    }
  }

  /** Retries every 2 s while anything is needed. */
  schedule(): void {
    if (this.retry || this.needs.size === 0) return;
    this.retry = setInterval(() => {
      if (this.needs.size > 0) return void this.requestAll();
      this.close();
    }, 2000);
  }

  close(): void {
    if (this.retry) clearInterval(this.retry);
    this.retry = null;
  }
}

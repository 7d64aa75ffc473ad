import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from '../../engine/ports/index.ts';

export interface CycleJob {
  id: string;
  cadence: string;
  timezone: string;
  run: (tick: Date) => Promise<void>;
}

/**
 * Runs each subscription's cycle on its cron cadence (node-cron, timezone aware). A tick that arrives while the
 * previous run of the same subscription is still going is skipped — the next run takes everything not yet delivered,
 * so nothing piles up and no two runs of one subscription overlap; subscriptions never wait for each other.
 */
export class CycleScheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly log: Logger) {}

  add(job: CycleJob): void {
    const task = schedule(
      job.cadence,
      (ctx) => {
        if (this.stopped || this.inFlight.has(job.id)) return;
        const tick = new Date(Math.floor(ctx.date.getTime() / 1000) * 1000);
        const p = job
          .run(tick)
          .catch((e: unknown) => this.log.error('cycle failed', { subscription: job.id, error: (e as Error).message }))
          .finally(() => this.inFlight.delete(job.id));
        this.inFlight.set(job.id, p);
      },
      { timezone: job.timezone, name: `sluice-${job.id}`, suppressMissedWarning: true },
    );
    this.tasks.set(job.id, task);
  }

  nextRun(id: string): Date | null {
    return this.tasks.get(id)?.getNextRun() ?? null;
  }

  running(id: string): boolean {
    return this.inFlight.has(id);
  }

  /** Stops scheduling and waits for the runs in flight to finish. */
  async drain(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.tasks.values()].map((t) => t.stop()));
    await Promise.all([...this.tasks.values()].map((t) => t.destroy()));
    await Promise.allSettled([...this.inFlight.values()]);
  }
}

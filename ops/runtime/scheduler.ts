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
 * so nothing piles up and no two runs of one subscription overlap; subscriptions never wait for each other. A tick
 * no later than the last one run is dropped too: node-cron's timer sometimes fires one cron second twice (seen in
 * the demo as two files with the same tick label).
 */
export class CycleScheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly lastTick = new Map<string, number>();
  private stopped = false;

  constructor(private readonly log: Logger) {}

  add(job: CycleJob): void {
    const task = schedule(job.cadence, (ctx) => void this.fire(job, ctx.date), {
      timezone: job.timezone,
      name: `sluice-${job.id}`,
      suppressMissedWarning: true,
    });
    this.tasks.set(job.id, task);
  }

  /** One firing of a job's cadence at `at`; returns the run it started, if any. */
  fire(job: CycleJob, at: Date): Promise<void> | undefined {
    const tick = Math.floor(at.getTime() / 1000) * 1000;
    if (this.stopped || this.inFlight.has(job.id) || tick <= (this.lastTick.get(job.id) ?? -Infinity)) return;
    this.lastTick.set(job.id, tick);
    const p = job
      .run(new Date(tick))
      .catch((e: unknown) => this.log.error('cycle failed', { subscription: job.id, error: (e as Error).message }))
      .finally(() => this.inFlight.delete(job.id));
    this.inFlight.set(job.id, p);
    return p;
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

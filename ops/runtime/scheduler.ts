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
 * previous run of the same subscription is still going is skipped (`onSkip`) — the next run takes everything not yet
 * delivered, so nothing piles up and no two runs of one subscription overlap; subscriptions never wait for each
 * other. A tick no later than the last one run is dropped too: node-cron's timer sometimes fires one cron second
 * twice (seen in the demo as two files with the same tick label). A job is replaced (a new cadence) or removed (a
 * pause) while it runs; a run in flight finishes.
 */
export class CycleScheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly lastTick = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly onSkip: (id: string, tick: Date) => void = () => {},
  ) {}

  /** Schedules a job, replacing the one of the same id (its next tick is the new cadence's). */
  add(job: CycleJob): void {
    if (this.stopped) return;
    this.remove(job.id);
    const task = schedule(job.cadence, (ctx) => void this.fire(job, ctx.date), {
      timezone: job.timezone,
      name: `sluice-${job.id}`,
      suppressMissedWarning: true,
    });
    this.tasks.set(job.id, task);
  }

  /** Stops scheduling a job (a run in flight goes on); false when it was not scheduled. */
  remove(id: string): boolean {
    const task = this.tasks.get(id);
    if (!task) return false;
    this.tasks.delete(id);
    void Promise.resolve(task.stop()).then(() => task.destroy());
    return true;
  }

  /** One firing of a job's cadence at `at`; returns the run it started, if any. */
  fire(job: CycleJob, at: Date): Promise<void> | undefined {
    const tick = Math.floor(at.getTime() / 1000) * 1000;
    if (this.stopped || tick <= (this.lastTick.get(job.id) ?? -Infinity)) return;
    if (this.inFlight.has(job.id)) {
      this.onSkip(job.id, new Date(tick));
      return;
    }
    this.lastTick.set(job.id, tick);
    const p = job
      .run(new Date(tick))
      .catch((e: unknown) => this.log.error('cycle failed', { subscription: job.id, error: (e as Error).message }))
      .finally(() => this.inFlight.delete(job.id));
    this.inFlight.set(job.id, p);
    return p;
  }

  /** The next tick of a scheduled job (null when it is not scheduled, e.g. paused). */
  nextRun(id: string): Date | null {
    return this.tasks.get(id)?.getNextRun() ?? null;
  }

  running(id: string): boolean {
    return this.inFlight.has(id);
  }

  /** Stops scheduling and waits for the runs in flight to finish. */
  async drain(): Promise<void> {
    this.stopped = true;
    const tasks = [...this.tasks.values()];
    this.tasks.clear();
    await Promise.all(tasks.map((t) => t.stop()));
    await Promise.all(tasks.map((t) => t.destroy()));
    await Promise.allSettled([...this.inFlight.values()]);
  }
}

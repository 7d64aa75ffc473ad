import type { CycleResult } from '../../engine/delivery/batch-cycle.ts';
import { SluiceError } from '../../engine/errors.ts';
import type { CycleRun, Logger, StateStore } from '../../engine/ports/index.ts';
import { CycleScheduler, type CycleJob } from './scheduler.ts';

/** How one subscription's cycle is to be scheduled now (config, runtime override, pause applied). */
export interface CyclePlan {
  id: string;
  cadence: string;
  timezone: string;
  paused: boolean;
}

export interface CycleRunnerDeps {
  state: StateStore;
  /** Runs one cycle (one at a time per subscription, whoever asks). */
  run: (id: string, tick: Date) => Promise<CycleResult>;
  log: Logger;
  /** A tick skipped because the subscription's previous run was still going. */
  onSkip?: (id: string) => void;
  /**
   * Resolves once the subscription's source has put into the bus every change committed before the call: a
   * catch-up run waits for it, so the changes made while the engine was down are in it (bounded by
   * `catchUpWaitMs`, then it runs anyway).
   */
  ready?: (id: string, signal: AbortSignal) => Promise<void>;
  catchUpWaitMs?: number;
}

/**
 * The engine's exchange cycles: schedules each subscription on its cadence (the config's, or an operator's override),
 * records how each run ended and the next tick the schedule expects (state DB, so both survive restarts), catches up
 * the ticks missed while the engine was down as **one** run at start, and re-schedules a subscription whose cadence
 * changed or that was paused or resumed — at once, without a restart.
 */
export class CycleRunner {
  private readonly scheduler: CycleScheduler;
  private readonly plans = new Map<string, CyclePlan>();
  private readonly last = new Map<string, CycleRun>();
  private draining = false;
  private readonly stop = new AbortController();

  constructor(private readonly deps: CycleRunnerDeps) {
    this.scheduler = new CycleScheduler(deps.log, (id, tick) => {
      deps.log.info('tick skipped: the previous run of this subscription is still going', {
        subscription: id,
        tick: tick.toISOString(),
      });
      deps.onSkip?.(id);
    });
  }

  /**
   * Schedules every plan; a subscription whose stored next tick has passed (the engine was down then) runs once now.
   * Returns the ids of the subscriptions caught up.
   */
  async start(plans: CyclePlan[], now = new Date()): Promise<string[]> {
    const stored = await this.deps.state.cycleStates();
    for (const c of stored) if (c.last) this.last.set(c.subscription, c.last);
    const due = new Map(stored.map((c) => [c.subscription, c.nextDue]));
    const caughtUp: string[] = [];
    for (const p of plans) {
      await this.apply(p);
      const missed = due.get(p.id);
      if (!p.paused && missed && Date.parse(missed) <= now.getTime()) {
        this.deps.log.info('ticks were missed while the engine was down: one catch-up run now', {
          subscription: p.id,
          missedSince: missed,
        });
        void this.catchUp(p.id, now);
        caughtUp.push(p.id);
      }
    }
    return caughtUp;
  }

  /** The catch-up run of a subscription, once its source has caught up (the tick: the engine's start). */
  private async catchUp(id: string, at: Date): Promise<void> {
    const wait = this.deps.catchUpWaitMs ?? 30_000;
    try {
      await this.deps.ready?.(id, AbortSignal.any([this.stop.signal, AbortSignal.timeout(wait)]));
    } catch (e) {
      if (this.draining) return;
      this.deps.log.warn('catch-up run before the source caught up', {
        subscription: id,
        waitedMs: wait,
        error: (e as Error).message,
      });
    }
    const p = this.plans.get(id);
    // (paused meanwhile: nothing runs; a regular tick that came first has run this content already)
    if (this.draining || !p || p.paused) return;
    await this.scheduler.fire(this.job(p), at);
  }

  /** (Re-)schedules one subscription: a new cadence takes effect from its next tick; a paused one is unscheduled. */
  async apply(p: CyclePlan): Promise<void> {
    this.plans.set(p.id, p);
    if (p.paused) this.scheduler.remove(p.id);
    else this.scheduler.add(this.job(p));
    await this.storeNextDue(p.id);
  }

  /** Runs a subscription's cycle now, in turn with its scheduled runs; refused (CONFLICT) while it is paused. */
  runNow(id: string, tick = new Date()): Promise<CycleResult> {
    const p = this.plans.get(id);
    if (!p) throw new SluiceError('NOT_FOUND', `unknown subscription "${id}"`, { details: { subscription: id } });
    if (p.paused) {
      throw new SluiceError('CONFLICT', `subscription "${id}" is paused; \`sluice resume ${id}\` first`, {
        details: { subscription: id },
      });
    }
    return this.recorded(id, tick);
  }

  /** The subscriptions it schedules, in the order given. */
  subscriptions(): string[] {
    return [...this.plans.keys()];
  }

  lastRun(id: string): CycleRun | null {
    return this.last.get(id) ?? null;
  }

  nextRun(id: string): Date | null {
    return this.scheduler.nextRun(id);
  }

  running(id: string): boolean {
    return this.scheduler.running(id);
  }

  /** Stops scheduling and waits for the runs in flight. */
  drain(): Promise<void> {
    this.draining = true; // the stored next tick stays: after a restart past it, the missed tick is caught up
    this.stop.abort();
    return this.scheduler.drain();
  }

  private job(p: CyclePlan): CycleJob {
    return {
      id: p.id,
      cadence: p.cadence,
      timezone: p.timezone,
      run: async (tick) => void (await this.recorded(p.id, tick)),
    };
  }

  private async recorded(id: string, tick: Date): Promise<CycleResult> {
    const t0 = performance.now();
    const ended = (outcome: CycleRun['outcome'], rows: number, files: number, error?: string): CycleRun => ({
      tick: tick.toISOString(),
      endedAt: new Date().toISOString(),
      outcome,
      rows,
      files,
      durationMs: Math.round(performance.now() - t0),
      ...(error !== undefined ? { error } : {}),
    });
    try {
      const r = await this.deps.run(id, tick);
      await this.record(id, ended(r.files.length > 0 ? 'delivered' : 'empty', r.rows, r.files.length));
      return r;
    } catch (e) {
      await this.record(id, ended('failed', 0, 0, (e as Error).message));
      throw e;
    } finally {
      await this.storeNextDue(id);
    }
  }

  private async record(id: string, run: CycleRun): Promise<void> {
    this.last.set(id, run);
    await this.deps.state
      .recordCycleRun(id, run)
      .catch((e: unknown) =>
        this.deps.log.warn('cycle run not recorded', { subscription: id, error: (e as Error).message }),
      );
  }

  private async storeNextDue(id: string): Promise<void> {
    if (this.draining) return;
    await this.deps.state
      .setNextDue(id, this.scheduler.nextRun(id)?.toISOString() ?? null)
      .catch((e: unknown) =>
        this.deps.log.warn('next tick not recorded', { subscription: id, error: (e as Error).message }),
      );
  }
}

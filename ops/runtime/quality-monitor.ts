import { compileQualityChecks, QualityTally, type QualityReport, type RowChecker } from '../../engine/quality/index.ts';
import type { Logger, ResourceShape, StateStore } from '../../engine/ports/index.ts';
import type { ResourceConfig, Row, SourceEvent } from '../../schemas/index.ts';
import { qualityRules } from '../../engine/quality/index.ts';

interface Watched {
  resource: ResourceConfig;
  check: RowChecker;
  tally: QualityTally;
  every: number;
  seen: number;
  dirty: boolean;
}

/**
 * Quality over a sample of the stream (`resources[].quality.sample`, default every change): each change durable in
 * the bus is checked against its resource's rules; failures count in `sluice_quality_failures_total{resource,check}`
 * and in the resource's `stream` report, flushed to the state DB every `flushMs` and at close.
 */
export class QualityMonitor {
  private readonly watched = new Map<string, Watched>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly state: StateStore,
    private readonly maskKey: (key: Row) => string,
    private readonly onFailure: (resource: string, check: string, n: number) => void,
    private readonly log: Logger,
    flushMs = 10_000,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  /** (Re)compiles a resource's rules from its registered shape (types and lengths from the database). */
  async bind(resource: ResourceConfig, shape: ResourceShape): Promise<void> {
    const rules = qualityRules(resource, shape.columns);
    const nullColumns = rules.columns.filter((c) => c.required || resource.key.includes(c.name)).map((c) => c.name);
    const previous = this.watched.get(resource.id)?.tally.report() ?? (await this.stored(resource.id));
    const sample = resource.quality?.sample ?? 1;
    this.watched.set(resource.id, {
      resource,
      check: compileQualityChecks(rules),
      tally: new QualityTally(resource.id, 'stream', nullColumns, previous),
      every: Math.max(1, Math.round(1 / sample)),
      seen: 0,
      dirty: false,
    });
  }

  private async stored(resource: string): Promise<QualityReport | undefined> {
    return (await this.state.qualityReports(resource)).find((r) => r.source === 'stream');
  }

  observe(events: readonly SourceEvent[]): void {
    for (const e of events) {
      if (e.op === 'd' || e.op === 't') continue;
      const w = this.watched.get(e.resource);
      if (!w || !e.after || w.seen++ % w.every !== 0) continue;
      const failures = w.check(e.after);
      w.tally.add(failures, () => this.maskKey(e.key));
      w.dirty = true;
      for (const f of failures) this.onFailure(e.resource, f.check, 1);
    }
  }

  report(resource: string): QualityReport | undefined {
    return this.watched.get(resource)?.tally.report();
  }

  async flush(): Promise<void> {
    for (const w of this.watched.values()) {
      if (!w.dirty) continue;
      w.dirty = false;
      await this.state
        .saveQualityReport(w.tally.report())
        .catch((e: unknown) => this.log.warn('quality report not saved', { error: (e as Error).message }));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

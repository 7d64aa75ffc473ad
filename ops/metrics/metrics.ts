import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type pg from 'pg';
import type { CycleResult } from '../../engine/delivery/batch-cycle.ts';
import type { SourceStatus } from '../../engine/ports/index.ts';
import { subscriptionLag } from '../runtime/subscription-lag.ts';

export interface MetricsSources {
  pool: pg.Pool;
  subscriptions: { id: string; resource: string }[];
  sources: () => SourceStatus[];
  /** Whether an operator paused the subscription (`sluice pause`). */
  paused?: (subscription: string) => boolean;
}

/**
 * The Prometheus series of DESIGN.md's metric names that the skeleton can already measure, served at /metrics.
 * Counters are fed by engine events (cycle results); backlog and lag are read from the state DB at scrape time.
 */
export class EngineMetrics {
  readonly registry = new Registry();
  private readonly rows = new Counter({
    name: 'sluice_rows_delivered_total',
    help: 'Rows written to delivered files',
    labelNames: ['subscription'],
    registers: [this.registry],
  });
  private readonly cycle = new Histogram({
    name: 'sluice_cycle_duration_seconds',
    help: 'Duration of exchange cycles that delivered at least one file',
    labelNames: ['subscription'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly masked = new Counter({
    name: 'sluice_masked_values_total',
    help: 'Non-null values delivered per masking strategy',
    labelNames: ['strategy'],
    registers: [this.registry],
  });
  private readonly quality = new Counter({
    name: 'sluice_quality_failures_total',
    help: 'Values that failed a quality check',
    labelNames: ['resource', 'check'],
    registers: [this.registry],
  });
  private readonly denials = new Counter({
    name: 'sluice_authz_denials_total',
    help: 'Requested fields withheld by the grant decision, per cycle, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly cycleFailures = new Counter({
    name: 'sluice_cycle_failures_total',
    help: 'Exchange cycles that failed (retried next tick)',
    labelNames: ['subscription'],
    registers: [this.registry],
  });

  private readonly ticksSkipped = new Counter({
    name: 'sluice_cycle_ticks_skipped_total',
    help: "Ticks skipped because the subscription's previous run was still going (the next run takes its changes)",
    labelNames: ['subscription'],
    registers: [this.registry],
  });

  private readonly trimmed = new Counter({
    name: 'sluice_bus_trimmed_events_total',
    help: 'Events deleted from the bus by retention (bus.retention.keepDelivered and max)',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  private readonly retentionLeft = new Gauge({
    name: 'sluice_subscription_retention_left_seconds',
    help: 'Seconds until the oldest change the subscription has not received is trimmed by bus.retention.max (alert when low: a paused or stuck subscription)',
    labelNames: ['subscription'],
    registers: [this.registry],
  });
  private readonly gaps = new Counter({
    name: 'sluice_retention_gaps_total',
    help: 'Times retention trimmed changes a subscription had not received (it got a backfill of the current state)',
    labelNames: ['subscription'],
    registers: [this.registry],
  });

  private readonly schemaVersion = new Gauge({
    name: 'sluice_resource_schema_version',
    help: "The schema version of each resource's latest shape its stream reported (moves when its table's DDL changes shared columns)",
    labelNames: ['resource'],
    registers: [this.registry],
  });

  constructor(src: MetricsSources) {
    const registry = this.registry;
    new Gauge({
      name: 'sluice_subscription_paused',
      help: 'Whether an operator paused the subscription (1: no cycle runs until sluice resume)',
      labelNames: ['subscription'],
      registers: [registry],
      collect() {
        for (const s of src.subscriptions) this.set({ subscription: s.id }, src.paused?.(s.id) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sluice_source_up',
      help: '1 while a source is streaming, 0 otherwise (FAILED, STARTING, STOPPED)',
      labelNames: ['source', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of src.sources()) this.set({ source: s.id, state: s.state }, s.state === 'STREAMING' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sluice_source_lag_bytes',
      help: 'WAL the source slot holds back: current write position minus the confirmed position (sampled every 10 s)',
      labelNames: ['source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of src.sources()) if (s.lagBytes !== undefined) this.set({ source: s.id }, s.lagBytes);
      },
    });
    new Gauge({
      name: 'sluice_source_lag_seconds',
      help: 'How far the bus is behind the source: age of the oldest committed transaction received but not yet durable in the bus; when caught up, the heartbeat round trip, or the age of a heartbeat that has not come back',
      labelNames: ['source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of src.sources()) if (s.lagSeconds !== undefined) this.set({ source: s.id }, s.lagSeconds);
      },
    });
    new Gauge({
      name: 'sluice_source_stalled',
      help: "1 when the confirmed position has not moved for the provider's stallAlertAfter while the server kept writing WAL (alert on it)",
      labelNames: ['source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of src.sources()) this.set({ source: s.id }, s.stalled ? 1 : 0);
      },
    });
    // snapshot progress of the runs in progress and the last finished ones; oldest first, so that of two runs with
    // the same labels the newest is what is set
    const runs = () =>
      src
        .sources()
        .flatMap((s) =>
          (s.snapshots ?? []).map((r) => ({
            labels: { resource: r.resource, subscription: r.subscription ?? '', reason: r.reason, state: r.state },
            run: r,
          })),
        )
        .reverse();
    new Gauge({
      name: 'sluice_snapshot_rows',
      help: 'Rows a snapshot run has delivered as _op = r (state RUNNING, DONE or FAILED; subscription empty for every subscription)',
      labelNames: ['resource', 'subscription', 'reason', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, run } of runs()) this.set(labels, run.rows);
      },
    });
    new Gauge({
      name: 'sluice_snapshot_rows_estimated',
      help: "Estimated rows of the table a snapshot run reads (the planner's estimate when the run started)",
      labelNames: ['resource', 'subscription', 'reason', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, run } of runs()) if (run.estimated !== null) this.set(labels, run.estimated);
      },
    });
    new Gauge({
      name: 'sluice_bus_backlog_events',
      help: 'Events on the bus not yet delivered to the slowest subscription of the resource',
      labelNames: ['resource'],
      registers: [registry],
      async collect() {
        const heads = await src.pool.query<{ resource: string; seq: string }>(
          'select resource, seq from sluice_bus_heads',
        );
        const cursors = await src.pool.query<{ subscription: string; seq: string }>(
          'select subscription, seq from sluice_cursors',
        );
        const cursor = new Map(cursors.rows.map((c) => [c.subscription, BigInt(c.seq)]));
        this.reset();
        for (const h of heads.rows) {
          const subs = src.subscriptions.filter((s) => s.resource === h.resource);
          const slowest = subs.reduce((min, s) => {
            const c = cursor.get(s.id) ?? 0n;
            return c < min ? c : min;
          }, BigInt(h.seq));
          this.set({ resource: h.resource }, Number(BigInt(h.seq) - slowest));
        }
      },
    });
    new Gauge({
      name: 'sluice_subscription_lag_seconds',
      help: 'Age of the oldest change not yet delivered to the subscription (0 when caught up)',
      labelNames: ['subscription'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of src.subscriptions) {
          this.set({ subscription: s.id }, (await subscriptionLag(src.pool, s.resource, s.id)).lagSeconds);
        }
      },
    });
  }

  onCycle(subscription: string, resource: string, result: CycleResult, seconds: number): void {
    if (result.files.length > 0) this.cycle.observe({ subscription }, seconds);
    this.rows.inc({ subscription }, result.rows);
    for (const [strategy, n] of Object.entries(result.masked)) this.masked.inc({ strategy }, n);
    for (const [check, n] of Object.entries(result.quality)) this.quality.inc({ resource, check }, n);
  }

  /** A re-delivery's rows count as delivered; its duration is not a cycle's. */
  onRedelivery(subscription: string, result: CycleResult): void {
    this.rows.inc({ subscription }, result.rows);
    for (const [strategy, n] of Object.entries(result.masked)) this.masked.inc({ strategy }, n);
  }

  onTrimmed(resource: string, events: number): void {
    this.trimmed.inc({ resource }, events);
  }

  onRetentionLeft(subscription: string, seconds: number): void {
    this.retentionLeft.set({ subscription }, seconds);
  }

  onGap(subscription: string): void {
    this.gaps.inc({ subscription });
  }

  onTickSkipped(subscription: string): void {
    this.ticksSkipped.inc({ subscription });
  }

  /** Failures found by the stream's quality checks (scans report, they do not count here). */
  onQualityFailure(resource: string, check: string, n: number): void {
    this.quality.inc({ resource, check }, n);
  }

  onSchema(resource: string, version: number): void {
    this.schemaVersion.set({ resource }, version);
  }

  onDenial(reason: string): void {
    this.denials.inc({ reason });
  }

  onCycleFailure(subscription: string): void {
    this.cycleFailures.inc({ subscription });
  }
}

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The feed series (issue 7): events published, receipt lag, webhook failures, dead letters. */
export class FeedMetrics {
  private readonly events: Counter;
  private readonly lag: Histogram;
  private readonly failures: Counter;
  private readonly dlq: Gauge;

  constructor(registry: Registry) {
    this.events = new Counter({
      name: 'sluice_feed_events_total',
      help: 'Feed events taken by their receiver (JetStream acknowledged, webhook 2xx)',
      labelNames: ['subscription'],
      registers: [registry],
    });
    this.lag = new Histogram({
      name: 'sluice_feed_publish_lag_seconds',
      help: 'From the commit of the oldest change of a feed range to its acknowledgement by the receiver',
      labelNames: ['subscription'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'sluice_webhook_failures_total',
      help: 'Failed attempts to deliver to a feed receiver (webhook non-2xx, timeout or connection error; JetStream publish errors)',
      labelNames: ['subscription'],
      registers: [registry],
    });
    this.dlq = new Gauge({
      name: 'sluice_dlq_events',
      help: "Events in a feed subscription's dead-letter store (failed, and waiting behind a failed one of their key)",
      labelNames: ['subscription'],
      registers: [registry],
    });
  }

  onPublished(subscription: string, events: number, oldestCommitTs: string | null): void {
    this.events.inc({ subscription }, events);
    if (oldestCommitTs)
      this.lag.observe({ subscription }, Math.max(0, (Date.now() - Date.parse(oldestCommitTs)) / 1000));
  }

  onFailure(subscription: string): void {
    this.failures.inc({ subscription });
  }

  onDeadLetters(subscription: string, size: number): void {
    this.dlq.set({ subscription }, size);
  }
}

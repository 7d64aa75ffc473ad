import { FeedLoop, type DeadLetterOutcome, type FeedLoopStatus } from '../../engine/feed/feed-loop.ts';
import { SluiceError } from '../../engine/errors.ts';
import type { Bus, DeadLetter, FeedSink, Logger, StateStore } from '../../engine/ports/index.ts';
import type { SourceEvent } from '../../schemas/index.ts';
import { cloudEventJson } from '../../connectors/sinks/feed/cloudevent.ts';
import { NatsFeedSink } from '../../connectors/sinks/nats/nats-feed-sink.ts';
import { WebhookSink } from '../../connectors/sinks/webhook/webhook-sink.ts';
import type { FeedMetrics } from '../metrics/feed-metrics.ts';
import type { FeedSettings, ScheduledSubscription } from './compile.ts';

export interface FeedRuntimeDeps {
  /** The feed subscriptions (`feed` set); the objects the engine re-grants in place. */
  subscriptions: ScheduledSubscription[];
  bus: Bus;
  state: StateStore;
  log: Logger;
  metrics: FeedMetrics;
  paused: (id: string) => boolean;
  onGap: (id: string, gap: { first: bigint; last: bigint }) => Promise<void>;
  /** Test hook (SLUICE_TEST_CRASH_AT=feed-published). */
  checkpoint?: (point: 'published') => void;
}

/** A dead letter as the API shows it (seq as a string). */
export type DeadLetterView = Omit<DeadLetter, 'seq' | 'body'> & { seq: string; type?: string };

/**
 * The engine's live feeds: one sink and one loop per feed subscription, woken by appends to its resource; pause and
 * resume, the dead-letter store's commands, and their status.
 */
export class FeedRuntime {
  private readonly loops = new Map<string, FeedLoop>();
  private readonly sinks: FeedSink[] = [];
  private readonly abort = new AbortController();
  private readonly runs: Promise<void>[] = [];

  constructor(private readonly deps: FeedRuntimeDeps) {
    for (const sub of deps.subscriptions) {
      const log = deps.log.child({ subscription: sub.id });
      const sink = sinkFor(sub.feed!, log, () => deps.metrics.onFailure(sub.id));
      this.sinks.push(sink);
      this.loops.set(
        sub.id,
        new FeedLoop(sub, {
          bus: deps.bus,
          state: deps.state,
          sink,
          logger: log,
          encode: cloudEventJson,
          onPublished: (id, n, oldest) => deps.metrics.onPublished(id, n, oldest),
          onDeadLetters: (id, n) => deps.metrics.onDeadLetters(id, n),
          onGap: deps.onGap,
          ...(deps.checkpoint ? { checkpoint: deps.checkpoint } : {}),
        }),
      );
    }
  }

  start(): void {
    for (const [id, loop] of this.loops) {
      loop.setPaused(this.deps.paused(id));
      this.runs.push(loop.run(this.abort.signal));
    }
  }

  has(id: string): boolean {
    return this.loops.has(id);
  }

  /** Durable appends: wake the loops of those resources. */
  appended(events: readonly SourceEvent[]): void {
    const resources = new Set(events.map((e) => e.resource));
    for (const loop of this.loops.values()) if (resources.has(loop.sub.resource)) loop.wake();
  }

  /** A backfill or re-grant may have changed what a loop should send: look again now. */
  wake(id: string): void {
    this.loops.get(id)?.refresh();
  }

  setPaused(id: string, paused: boolean): void {
    this.loops.get(id)?.setPaused(paused);
  }

  status(id: string): FeedLoopStatus | undefined {
    return this.loops.get(id)?.status();
  }

  async deadLetters(id: string): Promise<DeadLetterView[]> {
    this.loop(id);
    return (await this.deps.state.deadLetters(id)).map(({ seq, body, ...d }) => ({
      ...d,
      seq: seq.toString(),
      ...typeOf(body),
    }));
  }

  replay(id: string): Promise<DeadLetterOutcome> {
    return this.loop(id).replay(this.abort.signal);
  }

  skip(id: string, eventId?: string): Promise<DeadLetterOutcome> {
    return this.loop(id).skip(eventId, this.abort.signal);
  }

  /** Stops the loops (a range not yet committed is sent again at the next start, under the same ids). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.runs);
    await Promise.allSettled(this.sinks.map((s) => s.close()));
  }

  private loop(id: string): FeedLoop {
    const loop = this.loops.get(id);
    if (!loop) {
      throw new SluiceError('NOT_FOUND', `"${id}" is not a feed subscription of this engine`, {
        details: { subscription: id },
      });
    }
    return loop;
  }
}

function typeOf(body: string): { type?: string } {
  try {
    const t = (JSON.parse(body) as { type?: unknown }).type;
    return typeof t === 'string' ? { type: t } : {};
  } catch {
    return {};
  }
}

function sinkFor(f: FeedSettings, log: Logger, onFailure: () => void): FeedSink {
  if (f.kind === 'nats') {
    return new NatsFeedSink({
      url: f.url,
      subject: f.subject,
      stream: { name: f.stream, subjects: [f.subject], maxAgeMs: f.maxAgeMs },
      logger: log,
      onFailure,
    });
  }
  return new WebhookSink({
    url: f.url,
    secret: f.secret,
    batchSize: f.batchSize,
    timeoutMs: f.timeoutMs,
    maxAttempts: f.maxAttempts,
    backoff: f.backoff,
    onFailure,
  });
}

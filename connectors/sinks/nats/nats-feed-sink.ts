import pRetry from 'p-retry';
import type { FeedMessage, FeedSink, Logger } from '../../../engine/ports/index.ts';
import { NatsFeedPublisher, type FeedStream } from './feed-publisher.ts';

export interface NatsFeedSinkOptions {
  url: string;
  stream: FeedStream;
  /** The subject every event of the subscription is published on. */
  subject: string;
  /** Messages per send (their publishes are pipelined). Default 1000. */
  batchSize?: number;
  logger: Logger;
  onFailure?: (reason: string) => void;
}

/**
 * A feed subscription's JetStream sink: connects (and creates or extends its stream) on first use, publishes each
 * send pipelined with `Nats-Msg-Id` = the event id, and never gives up — JetStream is a durable store, so a send
 * that fails (server down, no ack) is retried with back-off until it is stored or the engine stops; the backlog
 * waits in the bus. A retried publish of a message the server had already stored is dropped by its de-duplication
 * window.
 */
export class NatsFeedSink implements FeedSink {
  readonly batchSize: number;
  private publisher: NatsFeedPublisher | null = null;

  constructor(private readonly opts: NatsFeedSinkOptions) {
    this.batchSize = opts.batchSize ?? 1000;
  }

  async send(messages: FeedMessage[], signal: AbortSignal): Promise<void> {
    const out = messages.map((m) => ({ subject: this.opts.subject, id: m.id, body: m.body }));
    await pRetry(
      async () => {
        this.publisher ??= await NatsFeedPublisher.connect(this.opts.url, this.opts.stream);
        await this.publisher.publish(out, signal);
      },
      {
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: 200,
        maxTimeout: 10_000,
        randomize: true,
        signal,
        onFailedAttempt: async ({ error, attemptNumber }) => {
          if (signal.aborted) return; // the engine is stopping: not a failure
          this.opts.onFailure?.(error.message);
          if (attemptNumber === 1 || attemptNumber % 10 === 0) {
            this.opts.logger.warn('publishing to JetStream failed; retrying', {
              subject: this.opts.subject,
              attempt: attemptNumber,
              error: error.message,
            });
          }
          if (this.publisher?.closed) {
            await this.publisher.close().catch(() => {});
            this.publisher = null;
          }
        },
      },
    );
  }

  async close(): Promise<void> {
    await this.publisher?.close();
    this.publisher = null;
  }
}

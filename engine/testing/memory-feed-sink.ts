import { SluiceError } from '../errors.ts';
import type { FeedMessage, FeedSink } from '../ports/index.ts';

/** How the double answers the next sends: take them, refuse them (given up after attempts), or be unreachable. */
export type MemoryAnswer = 'ok' | 'refuse' | 'unreachable';

/**
 * In-memory {@link FeedSink}: keeps what it took, in order. `answer` decides each send (by default: take it) — a
 * refusal rejects like a webhook whose attempts are exhausted (DELIVERY_FAILED, `details.attempts`), an unreachable
 * receiver with `details.unreachable`. Passes engine/testing/feed-sink-conformance.ts like the real sinks.
 */
export class MemoryFeedSink implements FeedSink {
  readonly taken: FeedMessage[] = [];
  sends = 0;
  answer: (messages: FeedMessage[]) => MemoryAnswer = () => 'ok';

  constructor(readonly batchSize = 100) {}

  async send(messages: FeedMessage[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (messages.length > this.batchSize) throw new Error(`a send of ${messages.length} > batchSize ${this.batchSize}`);
    this.sends++;
    const a = this.answer(messages);
    if (a !== 'ok') {
      throw new SluiceError('DELIVERY_FAILED', `memory receiver: ${a}`, {
        retriable: true,
        details: { attempts: 3, unreachable: a === 'unreachable' },
      });
    }
    this.taken.push(...messages.map((m) => ({ ...m })));
  }

  async close(): Promise<void> {}
}

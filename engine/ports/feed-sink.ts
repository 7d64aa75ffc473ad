/** One event of a feed as a transport carries it: its id, its ordering key, its structured CloudEvents JSON. */
export interface FeedMessage {
  /** The event id (`<subscription>:<seq>`): JetStream's `Nats-Msg-Id`, a receiver's de-duplication key. */
  id: string;
  /** The ordering key (the masked key as canonical JSON): events of one key are delivered in order. */
  key: string;
  body: string;
}

/**
 * Where a feed subscription's events go (DESIGN.md, Feed output): JetStream, or a webhook. One per subscription; the
 * feed loop calls it with one send at a time, so what it holds in memory is bounded by one send.
 */
export interface FeedSink {
  /** Events per `send` at most (a webhook's batch size; a window of pipelined publishes). */
  readonly batchSize: number;
  /**
   * Delivers the messages in order; resolves once the receiver has taken every one (JetStream acknowledged, the
   * webhook answered 2xx). Retries on its own. Rejects with a SluiceError when it gives up (a webhook whose attempts
   * are exhausted): the loop parks those events in the dead-letter store. A sink that never gives up (JetStream, a
   * durable store itself) retries until `signal` aborts.
   */
  send(messages: FeedMessage[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { SluiceError } from '../../../engine/errors.ts';

/** The JetStream stream a feed publishes into: created when missing, its subjects extended when they lack ours. */
export interface FeedStream {
  name: string;
  subjects: string[];
  /** How long the stream keeps a message (`max_age`); 0 or absent: as long as its other limits allow. */
  maxAgeMs?: number;
  /** The de-duplication window for `Nats-Msg-Id` (default 2 min). */
  duplicateWindowMs?: number;
}

/** One message of a feed: its subject, its id (`Nats-Msg-Id`, so a retry is de-duplicated), its JSON body. */
export interface FeedMessage {
  subject: string;
  id: string;
  body: string;
}

/**
 * Publishes feed events to JetStream (DESIGN.md, Feed output): each with `Nats-Msg-Id` = the event id, pipelined —
 * up to `maxInFlight` publishes wait for their acknowledgement at once, never one round trip per event — and
 * resolves once every message of the call is stored by the server, with the stream sequence of each (a duplicate
 * of an earlier publish reports the sequence it has).
 */
export class NatsFeedPublisher {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly maxInFlight: number,
  ) {}

  static async connect(
    url: string,
    stream: FeedStream,
    opts: { maxInFlight?: number } = {},
  ): Promise<NatsFeedPublisher> {
    let nc: NatsConnection;
    try {
      // noAsyncTraces: no Error (stack capture) made ahead of every publish for a trace only a timeout would show
      nc = await connect({
        servers: url,
        name: 'sluice-feed',
        timeout: 5000,
        maxReconnectAttempts: -1,
        noAsyncTraces: true,
      });
    } catch (e) {
      throw new SluiceError('UNAVAILABLE', `NATS at ${url} does not answer: ${(e as Error).message}`, {
        retriable: true,
        cause: e,
      });
    }
    try {
      await ensureStream(nc, stream);
    } catch (e) {
      await nc.close();
      throw e;
    }
    return new NatsFeedPublisher(nc, jetstream(nc), opts.maxInFlight ?? 256);
  }

  /** Publishes the messages in order; resolves with their stream sequences and how many were duplicates. */
  async publish(messages: FeedMessage[], signal?: AbortSignal): Promise<{ seqs: number[]; duplicates: number }> {
    const acks: Promise<PubAck>[] = new Array(messages.length);
    const window: Promise<unknown>[] = [];
    for (let i = 0; i < messages.length; i++) {
      signal?.throwIfAborted();
      const m = messages[i]!;
      const p = this.js.publish(m.subject, m.body, { msgID: m.id });
      p.catch(() => {}); // seen below, in order
      acks[i] = p;
      window.push(p);
      if (window.length >= this.maxInFlight) await window.shift()!.catch(() => {});
    }
    const seqs: number[] = [];
    let duplicates = 0;
    for (let i = 0; i < acks.length; i++) {
      let ack: PubAck;
      try {
        ack = await acks[i]!;
      } catch (e) {
        throw new SluiceError(
          'UNAVAILABLE',
          `publishing "${messages[i]!.id}" to JetStream failed: ${(e as Error).message}`,
          {
            retriable: true,
            cause: e,
            details: { subject: messages[i]!.subject, published: i },
          },
        );
      }
      seqs.push(ack.seq);
      if (ack.duplicate) duplicates++;
    }
    return { seqs, duplicates };
  }

  /** The connection is closed for good (a new publisher is needed). */
  get closed(): boolean {
    return this.nc.isClosed();
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}

async function ensureStream(nc: NatsConnection, s: FeedStream): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: s.name,
    subjects: s.subjects,
    max_age: nanos(s.maxAgeMs ?? 0),
    duplicate_window: nanos(s.duplicateWindowMs ?? 120_000),
  };
  let info;
  try {
    info = await jsm.streams.info(s.name);
  } catch {
    await jsm.streams.add(config);
    return;
  }
  const missing = s.subjects.filter((x) => !info.config.subjects?.includes(x));
  if (missing.length > 0) {
    await jsm.streams.update(s.name, { ...info.config, subjects: [...(info.config.subjects ?? []), ...missing] });
  }
}

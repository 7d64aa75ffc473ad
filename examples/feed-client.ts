/**
 * A subscriber's client for a Sluice feed on NATS JetStream: replays the feed from a stream sequence or a time with an
 * ordinary ordered consumer (nothing is created on the server but that ephemeral consumer), then follows it live.
 * Prints one line per event (JSON: stream sequence, event id, type, key, data). An event can arrive twice — Sluice
 * delivers at least once, and a re-sent event keeps its id — so the client drops ids it has seen; a real one keeps
 * them (or the last seq per key) in its own store beside what it applied.
 *
 *   npx tsx examples/feed-client.ts --url nats://127.0.0.1:4222 --subject sluice.feed.audit-office.audit-relief-live
 *   npx tsx examples/feed-client.ts --url … --subject … --from-seq 1200        # from stream sequence 1200 on
 *   npx tsx examples/feed-client.ts --url … --subject … --from-time 2026-12-04T08:00:00+08:00
 *   npx tsx examples/feed-client.ts --url … --subject … --from-seq 1 --idle 2000   # stop after 2 s without events
 */
import { parseArgs } from 'node:util';
import { DeliverPolicy, jetstream, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'nats://127.0.0.1:4222' },
    subject: { type: 'string' },
    stream: { type: 'string', default: 'SLUICE_FEED' },
    'from-seq': { type: 'string' },
    'from-time': { type: 'string' },
    idle: { type: 'string' },
  },
});
if (!values.subject) {
  console.error('usage: feed-client.ts --subject <sluice.feed.<subscriber>.<subscription>> [--url nats://…]');
  console.error('       [--stream SLUICE_FEED] [--from-seq N | --from-time <RFC 3339>] [--idle <ms>]');
  process.exit(2);
}

// where to start: a stream sequence, a time, or only what arrives from now on
const start: Partial<OrderedConsumerOptions> = values['from-seq']
  ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(values['from-seq']) }
  : values['from-time']
    ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(values['from-time']).toISOString() }
    : { deliver_policy: DeliverPolicy.New };

const nc = await connect({ servers: values.url });
const consumer = await jetstream(nc).consumers.get(values.stream, { filter_subjects: values.subject, ...start });
const messages = await consumer.consume();
const idleMs = values.idle ? Number(values.idle) : 0;
let timer: NodeJS.Timeout | undefined;
const idle = () => {
  clearTimeout(timer);
  if (idleMs > 0) timer = setTimeout(() => void messages.close(), idleMs);
};
idle();
const seen = new Set<string>();
for await (const m of messages) {
  idle();
  const event = m.json<{ id: string; type: string; subject?: string; data: unknown }>();
  if (seen.has(event.id)) continue; // the same event again (same id, same content): applied already
  seen.add(event.id);
  console.log(
    JSON.stringify({ streamSeq: m.seq, id: event.id, type: event.type, key: event.subject, data: event.data }),
  );
}
await nc.close();

import test from 'ava';
import { connect } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { NatsFeedPublisher, type FeedMessage } from '../connectors/sinks/nats/feed-publisher.ts';
import { startNats, type TestNats } from './helpers/nats.ts';

let nats: TestNats;
test.before(async () => {
  nats = await startNats();
});
test.after.always(async () => {
  await nats?.stop();
});

const SUBJECT = 'sluice.feed.audit-office.audit-relief';
const messages = (from: number, n: number): FeedMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    subject: SUBJECT,
    id: `audit-relief:${from + i}`,
    body: JSON.stringify({ specversion: '1.0', id: `audit-relief:${from + i}`, data: { seq: from + i } }),
  }));

test.serial('the stream is created when missing; 5,000 events pipelined arrive once, in order', async (t) => {
  const pub = await NatsFeedPublisher.connect(nats.url, {
    name: 'sluice-feed-audit-office',
    subjects: ['sluice.feed.audit-office.>'],
    maxAgeMs: 3_600_000,
  });
  try {
    const r = await pub.publish(messages(1, 5000));
    t.is(r.duplicates, 0);
    t.deepEqual(r.seqs.slice(0, 3), [1, 2, 3]);
    t.is(r.seqs.at(-1), 5000);
    const nc = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(nc)).streams.info('sluice-feed-audit-office');
    t.is(info.state.messages, 5000);
    t.is(info.config.max_age, 3_600_000 * 1_000_000, 'the retention the config sets');
    await nc.close();
  } finally {
    await pub.close();
  }
});

test.serial('a retried publish (same ids) is de-duplicated by JetStream: nothing stored twice', async (t) => {
  const pub = await NatsFeedPublisher.connect(nats.url, {
    name: 'sluice-feed-audit-office',
    subjects: ['sluice.feed.audit-office.>'],
  });
  try {
    const again = await pub.publish(messages(4991, 20)); // 10 already stored, 10 new
    t.is(again.duplicates, 10);
    t.deepEqual(again.seqs.slice(0, 10), [4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999, 5000]);
    t.is(again.seqs.at(-1), 5010);
  } finally {
    await pub.close();
  }
});

test.serial('a subscriber replays from a stream sequence with an ordinary consumer', async (t) => {
  const nc = await connect({ servers: nats.url });
  try {
    const js = jetstream(nc);
    const consumer = await js.consumers.get('sluice-feed-audit-office', {
      filter_subjects: SUBJECT, // one subject: nats-server 2.9 has no multi-filter consumers
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: 4999,
    });
    const seen: string[] = [];
    const msgs = await consumer.fetch({ max_messages: 5, expires: 2000 });
    for await (const m of msgs) seen.push((m.json() as { id: string }).id);
    t.deepEqual(seen, [
      'audit-relief:4999',
      'audit-relief:5000',
      'audit-relief:5001',
      'audit-relief:5002',
      'audit-relief:5003',
    ]);
  } finally {
    await nc.close();
  }
});

test.serial('an unreachable server is UNAVAILABLE and says where', async (t) => {
  const e = await t.throwsAsync(NatsFeedPublisher.connect('nats://127.0.0.1:1', { name: 'x', subjects: ['x.>'] }));
  t.regex(e!.message, /^NATS at nats:\/\/127\.0\.0\.1:1 does not answer/);
});

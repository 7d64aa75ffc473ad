import test from 'ava';
import { NatsFeedSink } from '../../connectors/sinks/nats/nats-feed-sink.ts';
import { WebhookSink } from '../../connectors/sinks/webhook/webhook-sink.ts';
import { silentLogger } from '../../engine/ports/index.ts';
import { feedSinkConformance } from '../../engine/testing/index.ts';
import { natsEvents } from '../helpers/feed-read.ts';
import { startNats, type TestNats } from '../helpers/nats.ts';
import { waitFor } from '../helpers/postgres.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

const SECRET = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;
let nats: TestNats;
let n = 0;
test.before(async () => {
  nats = await startNats();
});
test.after.always(async () => {
  await nats?.stop();
});

/** Waits a little for `atLeast` items, then returns what is there. */
async function settle(read: () => Promise<string[]>, atLeast: number): Promise<string[]> {
  await waitFor(`${atLeast} received`, async () => (await read()).length >= atLeast, 5000).catch(() => {});
  await new Promise((r) => setTimeout(r, 100)); // and no more than that
  return read();
}

feedSinkConformance(test, 'nats', async () => {
  const stream = `CONF_${++n}`;
  const subject = `sluice.conf.${n}`;
  const sink = new NatsFeedSink({
    url: nats.url,
    subject,
    stream: { name: stream, subjects: [subject] },
    batchSize: 100,
    logger: silentLogger,
  });
  return {
    sink,
    received: (atLeast) =>
      settle(async () => (await natsEvents(nats.url, subject, stream).catch(() => [])).map((e) => e.id), atLeast),
    deduplicates: true,
    cleanup: async () => {},
  };
});

feedSinkConformance(test, 'webhook', async () => {
  const receiver = await startReceiver(SECRET);
  const sink = new WebhookSink({
    url: receiver.url,
    secret: SECRET,
    batchSize: 10,
    timeoutMs: 2000,
    maxAttempts: 3,
    backoff: { initialMs: 10, maxMs: 50 },
  });
  return {
    sink,
    received: (atLeast) => settle(async () => receiver.taken.map((e) => e.id), atLeast),
    deduplicates: false,
    cleanup: () => receiver.close(),
  };
});

test('webhook: a receiver that refuses is retried with back-off, then DELIVERY_FAILED names the attempts', async (t) => {
  const receiver = await startReceiver(SECRET, () => 'fail');
  const failures: string[] = [];
  const sink = new WebhookSink({
    url: `${receiver.url}?token=hidden`,
    secret: SECRET,
    batchSize: 1,
    timeoutMs: 1000,
    maxAttempts: 4,
    backoff: { initialMs: 10, maxMs: 40 },
    onFailure: (r) => failures.push(r),
  });
  try {
    const e = await t.throwsAsync(() =>
      sink.send([{ id: 's:1', key: 'k', body: '{"id":"s:1"}' }], AbortSignal.timeout(10_000)),
    );
    t.regex(e!.message, /did not take 1 event\(s\) after 4 attempts: HTTP 503/);
    t.notRegex(e!.message, /hidden/, 'the query string (it may hold a token) is never shown');
    t.like((e as unknown as { details: object }).details, { attempts: 4, unreachable: false });
    t.deepEqual(failures, ['HTTP 503', 'HTTP 503', 'HTTP 503', 'HTTP 503']);
    t.is(receiver.stats.requests, 4);
    t.is(receiver.stats.badSignatures, 0, 'each attempt signed anew, each valid');
    t.deepEqual([...receiver.stats.contentTypes], ['application/cloudevents+json'], 'batchSize 1: single events');
    t.is(receiver.taken.length, 0, 'nothing was taken');
  } finally {
    await receiver.close();
  }
});

test('webhook: an unreachable receiver is reported as such (the loop then keeps the backlog in the bus)', async (t) => {
  const receiver = await startReceiver(SECRET);
  const url = receiver.url;
  await receiver.close();
  const sink = new WebhookSink({
    url,
    secret: SECRET,
    batchSize: 1,
    timeoutMs: 1000,
    maxAttempts: 2,
    backoff: { initialMs: 10, maxMs: 20 },
  });
  const e = await t.throwsAsync(() => sink.send([{ id: 's:1', key: 'k', body: '{}' }], AbortSignal.timeout(10_000)));
  t.like((e as unknown as { details: object }).details, { unreachable: true });
  t.regex(e!.message, /ECONNREFUSED/);
});

test('webhook: a secret that is not a Standard Webhooks secret is refused up front', (t) => {
  const e = t.throws(
    () =>
      new WebhookSink({
        url: 'http://127.0.0.1:1/x',
        secret: 'whsec_!!!',
        batchSize: 1,
        timeoutMs: 1000,
        maxAttempts: 1,
        backoff: { initialMs: 1, maxMs: 1 },
      }),
  );
  t.regex(e!.message, /not a Standard Webhooks secret/);
});

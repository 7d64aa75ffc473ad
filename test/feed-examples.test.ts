import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NatsFeedPublisher } from '../connectors/sinks/nats/feed-publisher.ts';
import { WebhookSink } from '../connectors/sinks/webhook/webhook-sink.ts';
import { freePort } from '../ops/net/free-port.ts';
import { startNats } from './helpers/nats.ts';
import { waitFor } from './helpers/postgres.ts';

/** The README's example clients, run as a subscriber would run them, against a real nats-server and real requests. */

const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const event = (seq: number) =>
  JSON.stringify({
    specversion: '1.0',
    id: `audit-live:${seq}`,
    type: 'sluice.change.insert',
    source: 'sluice/civil-affairs/relief-recipients',
    subject: JSON.stringify({ id: String(seq) }),
    data: { op: 'c', key: { id: String(seq) }, after: { id: String(seq) } },
  });

/** Runs an example with tsx; resolves with its stdout lines once it exits (or kills it after `ms`). */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}, ms = 30_000) {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  const lines = () => out.split('\n').filter(Boolean);
  return { child, exited, lines, err: () => err };
}

test('examples/feed-client.ts replays a feed from a stream sequence and drops an event it saw already', async (t) => {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const subject = 'sluice.feed.audit-office.audit-live';
  // a short de-duplication window, so that a re-sent event is stored twice as it would be after a long outage
  const publisher = await NatsFeedPublisher.connect(nats.url, {
    name: 'SLUICE_FEED',
    subjects: [subject],
    duplicateWindowMs: 100,
  });
  t.teardown(() => publisher.close());
  await publisher.publish([1, 2, 3, 4].map((s) => ({ subject, id: `audit-live:${s}`, body: event(s) })));
  await new Promise((r) => setTimeout(r, 300));
  await publisher.publish([{ subject, id: 'audit-live:3', body: event(3) }]); // stream seq 5: the same event again

  const c = run(example('feed-client.ts'), [
    '--url',
    nats.url,
    '--subject',
    subject,
    '--from-seq',
    '2',
    '--idle',
    '1500',
  ]);
  t.is(await c.exited, 0, c.err());
  const got = c.lines().map((l) => JSON.parse(l) as { streamSeq: number; id: string; key: string });
  t.deepEqual(
    got.map((e) => [e.streamSeq, e.id]),
    [
      [2, 'audit-live:2'],
      [3, 'audit-live:3'],
      [4, 'audit-live:4'],
    ],
    'from stream sequence 2 on, the duplicate at sequence 5 dropped by its id',
  );
  t.is(got[0]!.key, '{"id":"2"}');

  const usage = run(example('feed-client.ts'), []);
  t.is(await usage.exited, 2);
  t.regex(usage.err(), /usage: feed-client\.ts --subject/);
});

test('examples/webhook-receiver.ts verifies the signature, takes batches and single events, de-duplicates', async (t) => {
  const port = await freePort();
  const r = run(example('webhook-receiver.ts'), ['--port', String(port)], { WEBHOOK_SECRET: SECRET });
  t.teardown(() => r.child.kill('SIGKILL'));
  await waitFor('the receiver to listen', async () => /listening/.test(r.err()), 20_000);
  const sink = (secret: string, batchSize: number) =>
    new WebhookSink({
      url: `http://127.0.0.1:${port}/hook`,
      secret,
      batchSize,
      timeoutMs: 2000,
      maxAttempts: 1,
      backoff: { initialMs: 10, maxMs: 10 },
    });
  const signal = new AbortController().signal;
  const messages = [1, 2, 3].map((s) => ({ id: `audit-live:${s}`, key: `{"id":"${s}"}`, body: event(s) }));
  await sink(SECRET, 3).send(messages, signal); // a batch
  await sink(SECRET, 1).send([messages[1]!], signal); // one of them again, alone: dropped by its id
  const forged = `whsec_${Buffer.alloc(32, 4).toString('base64')}`;
  const refused = await t.throwsAsync(() => sink(forged, 1).send([messages[0]!], signal));
  t.regex(refused!.message, /401/);
  await waitFor('three events applied', async () => r.lines().length >= 3, 5000);
  t.deepEqual(
    r.lines().map((l) => (JSON.parse(l) as { id: string }).id),
    ['audit-live:1', 'audit-live:2', 'audit-live:3'],
  );
});

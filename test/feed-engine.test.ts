import test from 'ava';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import { freePort } from '../ops/net/free-port.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { SubscriptionConfig } from '../schemas/index.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { api, metric, natsEvents } from './helpers/feed-read.ts';
import { startNats, type TestNats } from './helpers/nats.ts';
import { waitFor } from './helpers/postgres.ts';
import { onBus, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';
import { seqOf, startReceiver, type ReceivedEvent, type Receiver } from './helpers/webhook-receiver.ts';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const SUBJECT = 'sluice.feed.audit-office.feed-nats';

const server = sharedPostgres('sluice-feed-');
let nats: TestNats;
let receiver: Receiver;
let provider: pg.Client;
let state: pg.Client;
let engine: Engine;
let work: string;
let outDir: string;
let expected = 0;

test.before(async () => {
  nats = await startNats();
  receiver = await startReceiver(SECRET);
  const f = await reliefFixture(await server.ready(), 'feeds', 0);
  ({ provider, state, work, outDir } = f);
  const batch = f.cfg.subscriptions[0]!;
  const feed = (id: string, delivery: SubscriptionConfig['delivery']): SubscriptionConfig => ({
    ...batch,
    id,
    delivery,
  });
  const deadPort = await freePort(); // nothing listens there
  f.cfg.subscriptions.push(
    feed('feed-nats', { mode: 'feed', nats: { url: nats.url, maxAge: '1h' } }),
    feed('feed-hook', {
      mode: 'feed',
      webhook: {
        url: receiver.url,
        secret: SECRET,
        batchSize: 5,
        timeout: '300ms',
        maxAttempts: 3,
        backoff: { initial: '20ms', max: '100ms' },
      },
    }),
    feed('feed-dead', {
      mode: 'feed',
      maxInFlight: 50,
      webhook: { url: `http://127.0.0.1:${deadPort}/hook`, secret: SECRET, backoff: { initial: '50ms', max: '200ms' } },
    }),
  );
  engine = await startEngine(f.cfg, { logger: silentLogger });
});

server.cleanup(async () => {
  await engine?.drain();
  await receiver?.close();
  await nats?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function change(sql: string, events: number): Promise<void> {
  await provider.query(sql);
  expected += events;
}
const until = (what: string, cond: () => Promise<boolean> | boolean, ms = 20_000) =>
  waitFor(what, async () => cond(), ms);

const ids = (events: ReceivedEvent[]) => events.map((e) => seqOf(e.id));
const key = (id: number) => JSON.stringify({ id: String(id) });
const deadLetters = (sub: string) =>
  api<{ events: { seq: string; id: string; key: string; state: string; attempts: number }[] }>(
    engine.apiUrl,
    'GET',
    `/v1/subscriptions/${sub}/dlq`,
  );

test.serial('one resource feeds NATS and a webhook and batches a file: same input, same output', async (t) => {
  await change(
    `insert into relief_recipients (id, name, id_card, mobile, amount, big, paid_at, notes)
     select g, '欧阳' || g, '11010519491231002X', '1380000' || lpad(g::text, 4, '0'), g + 0.25, 9007199254740993,
            '2026-12-04 08:00:00.123456+00', 'n' || g
       from generate_series(1, 20) g`,
    20,
  );
  await change(`update relief_recipients set amount = 99 where id in (3, 4)`, 2);
  await change(`delete from relief_recipients where id = 5`, 1);
  await onBus(state, expected);
  await until('23 events on NATS', async () => (await natsEvents(nats.url, SUBJECT)).length >= 23);
  const events = await natsEvents(nats.url, SUBJECT);
  t.is(events.length, 23, 'each change once');
  t.deepEqual(
    ids(events),
    [...ids(events)].sort((a, b) => a - b),
    'in seq order',
  );

  // every event is a valid CloudEvents 1.0 JSON event (the specification's own JSON schema)
  const ajv = new Ajv({ strict: false });
  addFormats.default(ajv);
  const schema = JSON.parse(readFileSync(new URL('./fixtures/cloudevents-1.0.schema.json', import.meta.url), 'utf8'));
  const valid = ajv.compile(schema);
  for (const e of events) t.true(valid(e), `${e.id}: ${ajv.errorsText(valid.errors)}`);
  t.like(events[0], {
    specversion: '1.0',
    type: 'sluice.change.insert',
    source: 'sluice/feeds/relief-recipients',
    subject: key(1),
    datacontenttype: 'application/json',
  });
  t.regex(String(events[0]!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'the commit time, µs');
  t.is(events[0]!.data.after!.paid_at, '2026-12-04T08:00:00.123456Z');
  t.is(events.at(-1)!.type, 'sluice.change.delete');
  t.is(events.at(-1)!.data.after, null);
  t.deepEqual(events.at(-1)!.data.key, { id: '5' });

  // the batch subscription's file: the same rows, masked the same way (hash keys differ per subscription)
  const r = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z'));
  const { rows } = await readWithDuckDB(
    join(outDir, 'audit-relief', `${r.files[0]!.stem}.parquet`),
    `select _seq::varchar as seq, _op as op, id::varchar as id, name, id_card, mobile, amount::varchar as amount,
            big::varchar as big from t order by _seq`,
  );
  t.is(rows.length, 23);
  for (const row of rows) {
    const e = events.find((x) => seqOf(x.id) === Number(row.seq))!;
    t.is(e.data.op, String(row.op));
    if (row.op === 'd') continue;
    const after = e.data.after!;
    for (const c of ['id', 'name', 'id_card', 'amount', 'big'])
      t.is(after[c], row[c] as unknown, `${c} of _seq ${row.seq}`);
    t.regex(String(after.mobile), /^[0-9a-f]{64}$/, 'hash as in the file');
    t.regex(String(row.mobile), /^[0-9a-f]{64}$/);
  }
  t.is(events[0]!.data.after!.name, '欧**', 'partial mask for clearance 3');
  t.is(events[0]!.data.after!.big, '9007199254740993', 'int8 as a string, exact');
});

test.serial('the webhook receiver verifies every signature; batches arrive in seq order per key', async (t) => {
  await until('23 events at the webhook', () => receiver.taken.length >= expected);
  t.is(receiver.stats.badSignatures, 0, 'every request carries a valid Standard Webhooks signature');
  t.true(receiver.stats.contentTypes.has('application/cloudevents-batch+json'));
  t.deepEqual(
    ids(receiver.taken),
    [...ids(receiver.taken)].sort((a, b) => a - b),
  );
  t.true(receiver.stats.requests >= 5, 'batches of at most 5 events');
});

test.serial(
  'a failing, then timing-out receiver: the key is parked, later events of it wait, others flow; replay and skip',
  async (t) => {
    const failing = new Set<string>([key(1000)]);
    let answer: 'fail' | 'hang' = 'fail';
    receiver.decide = (events) => (events.some((e) => failing.has(e.subject ?? '')) ? answer : 'ok');
    const failuresBefore = await metric(engine.apiUrl, 'sluice_webhook_failures_total', 'subscription="feed-hook"');
    await change(`insert into relief_recipients (id, name) values (1000, '一号')`, 1);
    await until('the first event of key 1000 parked', async () => (await deadLetters('feed-hook')).events.length === 1);
    t.is(
      (await metric(engine.apiUrl, 'sluice_webhook_failures_total', 'subscription="feed-hook"')) - failuresBefore,
      3,
      'maxAttempts: 3',
    );
    await change(`update relief_recipients set name = '二号' where id = 1000`, 1);
    await change(`update relief_recipients set name = '三号' where id = 1000`, 1);
    await change(`insert into relief_recipients (id, name) select g, '赵' || g from generate_series(1001, 1005) g`, 5);
    await until('the other keys delivered', () => receiver.taken.some((e) => e.subject === key(1005)));
    const parked = (await deadLetters('feed-hook')).events;
    t.deepEqual(
      parked.map((d) => d.state),
      ['failed', 'waiting', 'waiting'],
      'the later events of key 1000 wait behind the failed one',
    );
    t.true(parked.every((d) => d.key === key(1000)));
    t.false(
      receiver.taken.some((e) => e.subject === key(1000)),
      'no event of the parked key overtook it',
    );
    t.is(await metric(engine.apiUrl, 'sluice_dlq_events', 'subscription="feed-hook"'), 3);

    // a replay into a receiver that never answers: every attempt times out, the events stay
    answer = 'hang';
    const hung = await api<{ replayed: number; remaining: number }>(
      engine.apiUrl,
      'POST',
      '/v1/subscriptions/feed-hook/dlq/replay',
      {},
    );
    t.like(hung, { replayed: 0, remaining: 3 });
    t.is((await deadLetters('feed-hook')).events[0]!.attempts, 6, '3 more attempts recorded');

    // the receiver recovers: the replay delivers the key's events in order
    failing.clear();
    const replayed = await api<{ replayed: number; remaining: number }>(
      engine.apiUrl,
      'POST',
      '/v1/subscriptions/feed-hook/dlq/replay',
      {},
    );
    t.like(replayed, { replayed: 3, remaining: 0 });
    const of1000 = receiver.taken.filter((e) => e.subject === key(1000));
    t.deepEqual(
      of1000.map((e) => e.data.after!.name),
      ['一*', '二*', '三*'],
      'per-key order kept across the dead-letter store',
    );
    t.is(await metric(engine.apiUrl, 'sluice_dlq_events', 'subscription="feed-hook"'), 0);

    // skip: a poison event is dropped, the one waiting behind it is delivered
    failing.add(key(1001));
    answer = 'fail';
    await change(`update relief_recipients set name = '毒药' where id = 1001`, 1);
    await until('the poison event parked', async () => (await deadLetters('feed-hook')).events.length === 1);
    await change(`update relief_recipients set name = '好人' where id = 1001`, 1);
    await until('the next one waits', async () => (await deadLetters('feed-hook')).events.length === 2);
    failing.clear();
    const skipped = await api<{ skipped: number; replayed: number; remaining: number }>(
      engine.apiUrl,
      'POST',
      '/v1/subscriptions/feed-hook/dlq/skip',
      {},
    );
    t.like(skipped, { skipped: 1, replayed: 1, remaining: 0 });
    const of1001 = receiver.taken.filter((e) => e.subject === key(1001)).map((e) => e.data.after!.name);
    t.deepEqual(of1001, ['赵****', '好*'], 'the skipped event never arrived; the one behind it did');
  },
);

test.serial(
  'a dead endpoint stalls only its own subscription: its backlog stays in the bus and shows as lag',
  async (t) => {
    const before = receiver.taken.length;
    const t0 = Date.now();
    await change(`insert into relief_recipients (id, name) values (2000, '钱')`, 1);
    await until('the live webhook got it', () => receiver.taken.length > before);
    t.log(`a change reached the webhook in ${Date.now() - t0} ms (polled every 100 ms) while feed-dead fails`);
    await until('NATS got it', async () => (await natsEvents(nats.url, SUBJECT)).some((e) => e.subject === key(2000)));
    const status = await api<{ subscriptions: { id: string; cursorSeq: string; feed?: { published: number } }[] }>(
      engine.apiUrl,
      'GET',
      '/v1/status',
    );
    const dead = status.subscriptions.find((s) => s.id === 'feed-dead')!;
    t.is(dead.feed?.published, 0);
    t.is(dead.cursorSeq, '0', 'its cursor never moved: nothing lost, nothing skipped');
    t.deepEqual((await deadLetters('feed-dead')).events, [], 'a receiver that is down fills no dead-letter store');
    t.true((await metric(engine.apiUrl, 'sluice_subscription_lag_seconds', 'subscription="feed-dead"')) > 0);
    t.true((await metric(engine.apiUrl, 'sluice_webhook_failures_total', 'subscription="feed-dead"')) > 0);
  },
);

test.serial('pause stops a feed (its backlog waits in the bus); resume sends it', async (t) => {
  await api(engine.apiUrl, 'POST', '/v1/subscriptions/feed-nats/pause', { reason: 'misuse review' });
  const before = (await natsEvents(nats.url, SUBJECT)).length;
  await change(`insert into relief_recipients (id, name) values (3000, '孙')`, 1);
  await onBus(state, expected);
  await new Promise((r) => setTimeout(r, 1000));
  t.is((await natsEvents(nats.url, SUBJECT)).length, before, 'nothing published while paused');
  await api(engine.apiUrl, 'POST', '/v1/subscriptions/feed-nats/resume');
  await until('the backlog published', async () => (await natsEvents(nats.url, SUBJECT)).length === before + 1);
  t.pass();
});

test.serial('feed subscriptions refuse what only batches have: a cycle, a cadence, a re-delivery', async (t) => {
  const run = await fetch(`${engine.apiUrl}/v1/subscriptions/feed-nats/cycle/run`, { method: 'POST' });
  t.is(run.status, 409);
  const set = await fetch(`${engine.apiUrl}/v1/subscriptions/feed-nats/cycle`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cadence: '* * * * *' }),
  });
  t.is(set.status, 409);
  t.regex(((await set.json()) as { error: string }).error, /live feed/);
  const redeliver = await fetch(`${engine.apiUrl}/v1/subscriptions/feed-nats/redeliver`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '1' }),
  });
  t.is(redeliver.status, 409);
  const dlq = await fetch(`${engine.apiUrl}/v1/subscriptions/audit-relief/dlq`);
  t.is(dlq.status, 404);
});

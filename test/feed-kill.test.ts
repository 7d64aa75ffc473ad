import test, { type ExecutionContext } from 'ava';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { stringify } from 'yaml';
import type { SubscriptionConfig } from '../schemas/index.ts';
import { engineReady, exitWithin, spawnSluice, type EngineProcess } from './helpers/engine-process.ts';
import { natsEvents } from './helpers/feed-read.ts';
import { startNats, type TestNats } from './helpers/nats.ts';
import { waitFor } from './helpers/postgres.ts';
import { onBus, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';
import { seqOf, startReceiver, type ReceivedEvent, type Receiver } from './helpers/webhook-receiver.ts';

/**
 * kill -9 of the engine while it feeds NATS and a webhook: no event is lost; a duplicate is only ever the same event
 * again (same id, same bytes) — JetStream drops it inside its de-duplication window, a webhook receiver sees it twice
 * and de-duplicates on the id. Per key, events arrive in order (a re-sent range starts again from its first event).
 */

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const SUBJECT = 'sluice.feed.audit-office.feed-nats';
const server = sharedPostgres('sluice-feedkill-');
let nats: TestNats;
let receiver: Receiver;
let provider: pg.Client;
let state: pg.Client;
let work: string;
let dataDir: string;
let configFile: string;
let expected = 0;
let nextId = 1;

test.before(async () => {
  nats = await startNats();
  receiver = await startReceiver(SECRET);
  const f = await reliefFixture(await server.ready(), 'feedkill', 0);
  ({ provider, state, work } = f);
  dataDir = f.cfg.dataDir!;
  const base = f.cfg.subscriptions[0]!;
  const feed = (id: string, delivery: SubscriptionConfig['delivery']): SubscriptionConfig => ({
    ...base,
    id,
    fields: ['id', 'name', 'amount'],
    masks: {},
    delivery,
  });
  f.cfg.subscriptions = [
    feed('feed-nats', { mode: 'feed', maxInFlight: 200, nats: { url: nats.url } }),
    feed('feed-hook', {
      mode: 'feed',
      maxInFlight: 200,
      webhook: { url: receiver.url, secret: SECRET, batchSize: 50, backoff: { initial: '20ms', max: '200ms' } },
    }),
  ];
  configFile = join(work, 'sluice.yaml');
  writeFileSync(configFile, stringify(f.cfg));
});

test.after.always(async () => {
  await receiver?.close();
  await nats?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const waitReady = (p: EngineProcess) => engineReady(p, dataDir);

/** n inserts and, for every third row, an update: per-key order is visible (insert before update). */
async function write(n: number): Promise<void> {
  const first = nextId;
  nextId += n;
  await provider.query(
    `insert into relief_recipients (id, name, amount) select g, '王' || g, g from generate_series($1::int, $2::int) g`,
    [first, first + n - 1],
  );
  await provider.query(`update relief_recipients set amount = amount + 0.5 where id between $1 and $2 and id % 3 = 0`, [
    first,
    first + n - 1,
  ]);
  const updates = Math.floor((first + n - 1) / 3) - Math.floor((first - 1) / 3);
  expected += n + updates;
}

/** Checks what reached the receivers: every seq 1…expected, duplicates identical, per-key order. */
function check(t: ExecutionContext, events: ReceivedEvent[], where: string, unique: boolean) {
  const seen = new Map<number, string>();
  let duplicates = 0;
  for (const e of events) {
    const s = seqOf(e.id);
    const body = JSON.stringify(e);
    if (seen.has(s)) {
      duplicates++;
      t.is(seen.get(s), body, `${where}: a duplicate of ${e.id} is the same event`);
    } else seen.set(s, body);
  }
  t.is(seen.size, expected, `${where}: every event arrived`);
  for (let s = 1; s <= expected; s++) if (!seen.has(s)) t.fail(`${where}: seq ${s} lost`);
  if (unique) t.is(duplicates, 0, `${where}: JetStream stored each id once`);
  // a re-sent range repeats earlier events of a key, but no event arrives for the first time after a later one of it
  const highest = new Map<string, number>();
  const arrived = new Set<number>();
  for (const e of events) {
    const s = seqOf(e.id);
    const k = e.subject ?? '';
    if (!arrived.has(s) && s < (highest.get(k) ?? 0))
      t.fail(`${where}: ${e.id} first arrived after a later event of its key`);
    arrived.add(s);
    highest.set(k, Math.max(s, highest.get(k) ?? 0));
  }
  return duplicates;
}

test.serial('kill -9 right after a range is published (before its commit), then at random points', async (t) => {
  t.timeout(240_000);
  // 1. the engine publishes a range and dies before committing it: the restart publishes it again, same ids
  const crashing = spawnSluice(['run', '-c', configFile], { SLUICE_TEST_CRASH_AT: 'feed-published' });
  await waitReady(crashing);
  await write(150);
  const exit = await exitWithin(crashing, 30_000);
  t.is(exit.signal, 'SIGKILL', 'it died at the crash point');

  // 2. random kill -9 while changes keep coming
  for (let trial = 0; trial < 3; trial++) {
    const p = spawnSluice(['run', '-c', configFile]);
    await waitReady(p);
    const writing = (async () => {
      for (let i = 0; i < 8; i++) {
        await write(40);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 600)));
    p.child.kill('SIGKILL');
    await writing;
    await exitWithin(p, 10_000);
  }

  // 3. a clean run delivers everything
  const p = spawnSluice(['run', '-c', configFile]);
  try {
    await waitReady(p);
    await onBus(state, expected, 60_000);
    await waitFor(
      'every event at the webhook',
      async () => new Set(receiver.taken.map((e) => e.id)).size >= expected,
      60_000,
    );
    await waitFor(
      'every event on NATS',
      async () => new Set((await natsEvents(nats.url, SUBJECT)).map((e) => e.id)).size >= expected,
      60_000,
    );
  } finally {
    p.child.kill('SIGTERM');
    await exitWithin(p, 30_000);
  }
  check(t, await natsEvents(nats.url, SUBJECT), 'NATS', true);
  const dup = check(t, receiver.taken, 'webhook', false);
  t.log(`${expected} changes; the webhook received ${dup} duplicates (same id, same event), NATS none`);
});

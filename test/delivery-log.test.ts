import test from 'ava';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import { canonicalJson } from '../engine/delivery-log/leaf.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../engine/delivery-log/merkle.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { SubscriptionConfig } from '../schemas/index.ts';
import { api } from './helpers/feed-read.ts';
import { waitFor } from './helpers/postgres.ts';
import { onBus, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';

/**
 * The delivery log on a running engine (real Postgres): a batch file's leaf is its manifest as canonical JSON, a feed
 * range has a leaf, an operator's classification has one, and the API's audit paths and consistency proofs verify
 * against its checkpoints.
 */

const SECRET = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
const server = sharedPostgres('sluice-log-');
let engine: Engine;
let receiver: Receiver;
let work: string;
let outDir: string;
let provider: pg.Client;
let state: pg.Client;

test.before(async () => {
  receiver = await startReceiver(SECRET);
  const f = await reliefFixture(await server.ready(), 'dlog', 0);
  ({ provider, state, work, outDir } = f);
  const feed: SubscriptionConfig = {
    ...f.cfg.subscriptions[0]!,
    id: 'audit-live',
    delivery: { mode: 'feed', webhook: { url: receiver.url, secret: SECRET, batchSize: 10 } },
  };
  f.cfg.subscriptions.push(feed);
  engine = await startEngine(f.cfg, { logger: silentLogger });
});

server.cleanup(async () => {
  await engine?.drain();
  await receiver?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Proof {
  index: number;
  size: number;
  leaf: string;
  leafHash: string;
  auditPath: string[];
  root: string;
}
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

test('a batch, a feed range and a classification are leaves; proofs from the API verify', async (t) => {
  await provider.query(
    `insert into relief_recipients (id, name, amount, paid_at) select g, '王' || g, g, now() from generate_series(1, 5) g`,
  );
  await onBus(state, 5);
  const cycle = await engine.runCycle('audit-relief', new Date());
  t.is(cycle.rows, 5);
  await waitFor('the feed range', async () => receiver.taken.length === 5);
  await waitFor('its leaf', async () => (await api<{ size: number }>(engine.apiUrl, 'GET', '/v1/log')).size >= 2);

  const first = await api<{ size: number; root: string }>(engine.apiUrl, 'GET', '/v1/log');
  const leaves = await Promise.all(
    Array.from({ length: first.size }, (_, i) => api<Proof>(engine.apiUrl, 'GET', `/v1/log/leaves/${i}`)),
  );
  // the batch's leaf is its manifest file, canonicalized: anyone holding the file computes the same leaf
  const manifestFile = join(outDir, 'audit-relief', `${cycle.files[0]!.stem}.manifest.json`);
  const fromFile = canonicalJson(JSON.parse(readFileSync(manifestFile, 'utf8')));
  const batch = leaves.find((l) => l.leaf === fromFile);
  t.truthy(batch, 'the manifest is a leaf');
  t.is(batch!.leafHash, Buffer.from(leafHash(new TextEncoder().encode(fromFile))).toString('hex'));
  const feed = leaves
    .map((l) => JSON.parse(l.leaf) as Record<string, unknown>)
    .find((l) => l.type === 'sluice.feed-range');
  t.like(feed, { subscription: 'audit-live', firstSeq: '1', lastSeq: '5', events: 5, resource: 'relief-recipients' });
  for (const p of leaves) {
    t.true(
      verifyInclusion(p.index, p.size, unhex(p.leafHash), p.auditPath.map(unhex), unhex(first.root)),
      `leaf ${p.index}`,
    );
  }

  // an operator's classification is a leaf too; the larger log is consistent with the first checkpoint
  await api(engine.apiUrl, 'PUT', '/v1/catalog/relief-recipients/fields/notes', {
    level: 'general',
    share: 'none',
    by: 'ops',
  });
  const second = await api<{ size: number; root: string }>(engine.apiUrl, 'GET', '/v1/log');
  t.true(second.size > first.size);
  const last = await api<Proof>(engine.apiUrl, 'GET', `/v1/log/leaves/${second.size - 1}`);
  t.like(JSON.parse(last.leaf), {
    type: 'sluice.action',
    action: 'classify',
    subject: 'relief-recipients.notes',
    by: 'ops',
  });
  const c = await api<{ proof: string[] }>(engine.apiUrl, 'GET', `/v1/log/consistency?from=${first.size}`);
  t.true(verifyConsistency(first.size, second.size, c.proof.map(unhex), unhex(first.root), unhex(second.root)));
  const old = await api<{ root: string }>(engine.apiUrl, 'GET', `/v1/log?size=${first.size}`);
  t.is(old.root, first.root, 'an older checkpoint can be asked for');

  const bad = await fetch(`${engine.apiUrl}/v1/log/leaves/${second.size + 5}`);
  t.is(bad.status, 404);
  const garbled = await fetch(`${engine.apiUrl}/v1/log/consistency?from=x`);
  t.is(garbled.status, 400);
  t.regex(await garbled.text(), /from must be a non-negative integer/);
});

import test from 'ava';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import type pg from 'pg';
import { stringify } from 'yaml';
import { deployContracts } from '../contracts/deploy.ts';
import { silentLogger } from '../engine/ports/index.ts';
import { anvilKey, startAnvil, type Anvil } from '../ops/chain/anvil.ts';
import { freePort } from '../ops/net/free-port.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { Config, SubscriptionConfig } from '../schemas/index.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { waitFor } from './helpers/postgres.ts';
import { onBus, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';

/**
 * Authorization on a real EVM (anvil): the operator registers accounts and attests the subscriber, the provider
 * publishes its conditions, the subscriber applies; the engine then delivers only what the chain grants — and a
 * revocation stops the live feed and the next batches within 5 s.
 */

const SECRET = `whsec_${Buffer.alloc(32, 4).toString('base64')}`;
const KEYS = { OPERATOR_KEY: anvilKey(0), PROVIDER_KEY: anvilKey(1), SUBSCRIBER_KEY: anvilKey(2) };
const server = sharedPostgres('sluice-chain-');
let anvil: Anvil;
let engine: Engine;
let receiver: Receiver;
let provider: pg.Client;
let state: pg.Client;
let work: string;
let outDir: string;
let configFile: string;
let rows = 0;

const sluice = async (args: string[]) => {
  const p = spawnSluice(args, KEYS);
  const { code } = await exitWithin(p, 60_000);
  return { code, out: p.output() };
};

let port: number;
let stateFile: string;

test.before(async () => {
  port = await freePort();
  stateFile = join(tmpdir(), `sluice-anvil-grants-${port}.json`);
  anvil = await startAnvil({ port, stateFile });
  receiver = await startReceiver(SECRET);
  const rpc = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const d = await deployContracts(new Wallet(KEYS.OPERATOR_KEY, rpc));
  rpc.destroy();
  const f = await reliefFixture(await server.ready(), 'chain', 0);
  ({ provider, state, work, outDir } = f);
  const cfg: Config = f.cfg;
  cfg.providers[0]!.account = new Wallet(KEYS.PROVIDER_KEY).address;
  cfg.subscribers[0]!.account = new Wallet(KEYS.SUBSCRIBER_KEY).address;
  const live: SubscriptionConfig = {
    ...cfg.subscriptions[0]!,
    id: 'audit-live',
    delivery: { mode: 'feed', webhook: { url: receiver.url, secret: SECRET, batchSize: 10 } },
  };
  cfg.subscriptions.push(live);
  const chain = { rpc: anvil.url, policy: d.policy, anchor: d.anchor, anchorEvery: { leaves: 1000, interval: '1h' } };
  configFile = join(work, 'sluice.yaml');
  writeFileSync(configFile, stringify({ ...cfg, chain: { ...chain, operatorKey: 'env:OPERATOR_KEY' } }));
  // the operator, the provider and the subscriber, each with its own key
  for (const args of [
    ['contracts', 'register', '-c', configFile],
    ['policy', 'publish', '-c', configFile, '--provider', 'chain', '--key', 'env:PROVIDER_KEY'],
    ['apply', 'audit-relief', '-c', configFile, '--key', 'env:SUBSCRIBER_KEY'],
    ['apply', 'audit-live', '-c', configFile, '--key', 'env:SUBSCRIBER_KEY'],
  ]) {
    const r = await sluice(args);
    if (r.code !== 0) throw new Error(`sluice ${args.join(' ')}: exit ${r.code}\n${r.out}`);
  }
  engine = await startEngine({ ...cfg, chain: { ...chain, operatorKey: KEYS.OPERATOR_KEY } }, { logger: silentLogger });
});

server.cleanup(async () => {
  await engine?.drain();
  await receiver?.close();
  await anvil?.stop();
  rmSync(stateFile, { force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

async function insert(n: number): Promise<void> {
  await provider.query(
    `insert into relief_recipients (id, name, mobile, amount, paid_at)
     select g, '王' || g, '13800000000', g, now() from generate_series($1::int, $2::int) g`,
    [rows + 1, rows + n],
  );
  rows += n;
  await onBus(state, rows);
}
const columns = async (stem: string) =>
  Object.keys((await readWithDuckDB(join(outDir, 'audit-relief', `${stem}.parquet`))).types);

test.serial('apply prints the decision; a batch holds the fields granted on chain', async (t) => {
  const again = await sluice(['apply', 'audit-relief', '-c', configFile, '--key', 'env:SUBSCRIBER_KEY']);
  t.is(again.code, 0, again.out);
  t.regex(again.out, /mobile\s+granted\s+hash/);
  t.regex(again.out, /name\s+granted\s+partial/);
  await insert(3);
  const r = await engine.runCycle('audit-relief', new Date());
  t.is(r.rows, 3);
  t.true((await columns(r.files[0]!.stem)).includes('mobile'));
  await waitFor('the feed', async () => receiver.taken.length === 3);
});

test.serial(
  'chain down (onOutage: cached): deliveries go on under the grant last read; back: read again',
  async (t) => {
    await anvil.stop();
    const before = receiver.taken.length;
    await insert(2);
    const r = await engine.runCycle('audit-relief', new Date());
    t.is(r.rows, 2, 'the batch under the cached grant');
    t.true((await columns(r.files[0]!.stem)).includes('mobile'));
    await waitFor('the feed under the cached grant', async () => receiver.taken.length === before + 2);
    anvil = await startAnvil({ port, stateFile });
    await insert(1);
    t.is((await engine.runCycle('audit-relief', new Date())).rows, 1);
  },
);

test.serial(
  'a field revoked on chain leaves the next batch; a whole grant revoked stops the feed within 5 s',
  async (t) => {
    const rev = await sluice([
      'policy',
      'revoke',
      'audit-relief',
      '--field',
      'mobile',
      '-c',
      configFile,
      '--key',
      'env:PROVIDER_KEY',
    ]);
    t.is(rev.code, 0, rev.out);
    await insert(2);
    const r = await engine.runCycle('audit-relief', new Date());
    t.is(r.rows, 2);
    const cols = await columns(r.files[0]!.stem);
    t.false(cols.includes('mobile'), 'revoked: not in the file');
    t.true(cols.includes('name'));
    t.like(
      r.denied.find((d) => d.field === 'mobile'),
      { reason: 'revoked' },
    );

    const received = receiver.taken.length;
    const t0 = Date.now();
    const all = await sluice(['policy', 'revoke', 'audit-live', '-c', configFile, '--key', 'env:PROVIDER_KEY']);
    t.is(all.code, 0, all.out);
    await new Promise((res) => setTimeout(res, Math.max(0, 2000 - (Date.now() - t0))));
    await insert(2); // committed 2 s after the revocation
    await new Promise((res) => setTimeout(res, 3000));
    t.is(receiver.taken.length, received, 'the feed sent nothing after the revocation');
    const view = (await engine.status()).subscriptions.find((s) => s.id === 'audit-live')!;
    t.truthy(view);

    // a batch subscriber whose whole grant is revoked gets nothing more
    await sluice(['policy', 'revoke', 'audit-relief', '-c', configFile, '--key', 'env:PROVIDER_KEY']);
    await insert(1);
    const none = await engine.runCycle('audit-relief', new Date());
    t.is(none.rows, 0);
    t.deepEqual(none.files, []);
  },
);

test.serial('only the provider revokes, only an attested account applies', async (t) => {
  const stranger = await sluice(['policy', 'revoke', 'audit-relief', '-c', configFile, '--key', 'env:SUBSCRIBER_KEY']);
  t.is(stranger.code, 1);
  t.regex(stranger.out, /SharingPolicy refused: NotProvider\(/);
  const p = spawnSluice(['apply', 'audit-relief', '-c', configFile, '--key', 'env:OTHER_KEY'], {
    ...KEYS,
    OTHER_KEY: anvilKey(5),
  });
  await exitWithin(p, 60_000);
  t.regex(p.output(), /NotAttested\(/);
});

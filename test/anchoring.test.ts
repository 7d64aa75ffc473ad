import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import type pg from 'pg';
import { deliveryAnchor, deployContracts } from '../contracts/deploy.ts';
import { canonicalJson } from '../engine/delivery-log/leaf.ts';
import { leafHash, verifyInclusion } from '../engine/delivery-log/merkle.ts';
import { silentLogger } from '../engine/ports/index.ts';
import { anvilKey, startAnvil, type Anvil } from '../ops/chain/anvil.ts';
import type { ProofFile } from '../ops/runtime/anchoring.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import { freePort } from '../ops/net/free-port.ts';
import { metric } from './helpers/feed-read.ts';
import { waitFor } from './helpers/postgres.ts';
import { onBus, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';

/**
 * The delivery log anchored on a real EVM (anvil): each batch file gets a `.proof.json` once its checkpoint is on
 * chain, and the proof verifies against the root anchored in DeliveryAnchor; with the node down, deliveries go on
 * and their leaves queue; when it returns, one checkpoint covers them — no leaf lost, none anchored twice.
 */

const server = sharedPostgres('sluice-anchor-');
let anvil: Anvil;
let port: number;
let stateFile: string;
let engine: Engine;
let provider: pg.Client;
let state: pg.Client;
let work: string;
let outDir: string;
let anchorAddress: string;
let rows = 0;

test.before(async () => {
  port = await freePort();
  stateFile = join(tmpdir(), `sluice-anvil-${port}.json`);
  anvil = await startAnvil({ port, stateFile });
  const rpc = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const d = await deployContracts(new Wallet(anvilKey(0), rpc));
  rpc.destroy();
  anchorAddress = d.anchor;
  const f = await reliefFixture(await server.ready(), 'anchor', 0);
  ({ provider, state, work, outDir } = f);
  f.cfg.chain = {
    rpc: anvil.url,
    operatorKey: anvilKey(0),
    policy: d.policy,
    anchor: d.anchor,
    anchorEvery: { leaves: 1, interval: '1s' },
  };
  engine = await startEngine(f.cfg, { logger: silentLogger });
});

server.cleanup(async () => {
  await engine?.drain();
  await anvil?.stop();
  rmSync(stateFile, { force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Inserts n rows and delivers them as one batch file; returns its stem. */
async function deliver(n: number): Promise<string> {
  await provider.query(
    `insert into relief_recipients (id, name, amount, paid_at) select g, '王' || g, g, now() from generate_series($1::int, $2::int) g`,
    [rows + 1, rows + n],
  );
  rows += n;
  await onBus(state, rows);
  const r = await engine.runCycle('audit-relief', new Date());
  return r.files[0]!.stem;
}
const anchorStatus = async () => (await engine.status()).anchor!;
const dir = () => join(outDir, 'audit-relief');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/^0x/, ''), 'hex'));

/** Checks a delivered file's proof the way a subscriber would: from the manifest, the proof and the chain. */
async function verifyOffline(t: ExecutionContext, stem: string) {
  const proof = JSON.parse(readFileSync(join(dir(), `${stem}.proof.json`), 'utf8')) as ProofFile;
  const leaf = canonicalJson(JSON.parse(readFileSync(join(dir(), `${stem}.manifest.json`), 'utf8')));
  const hash = leafHash(new TextEncoder().encode(leaf));
  t.is(Buffer.from(hash).toString('hex'), proof.leafHash);
  t.true(
    verifyInclusion(
      proof.logIndex,
      proof.checkpoint.size,
      hash,
      proof.auditPath.map(unhex),
      unhex(proof.checkpoint.root),
    ),
  );
  const rpc = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const c = deliveryAnchor(proof.anchor.contract, rpc);
    const [event] = await c.queryFilter(c.filters.Checkpoint!(proof.checkpoint.size));
    t.truthy(event, `checkpoint ${proof.checkpoint.size} on chain`);
    t.is((event as unknown as { args: { root: string } }).args.root, `0x${proof.checkpoint.root}`);
    t.is(event!.transactionHash, proof.anchor.txHash);
  } finally {
    rpc.destroy();
  }
}

test.serial('a delivered file gets a proof once anchored; it verifies against the chain', async (t) => {
  const stem = await deliver(5);
  await waitFor('the proof', async () => existsSync(join(dir(), `${stem}.proof.json`)), 20_000);
  await verifyOffline(t, stem);
  t.like(await anchorStatus(), { pending: 0 });
  t.is(await metric(engine.apiUrl, 'sluice_anchor_lag_records', ''), 0);
});

test.serial('chain down: deliveries go on, leaves queue; back: one checkpoint covers them, none twice', async (t) => {
  const before = (await anchorStatus()).anchoredSize;
  await anvil.stop(); // dumps its state to the file
  const stems = [await deliver(3), await deliver(4)];
  await waitFor('the outage seen', async () => (await anchorStatus()).lastError !== undefined, 30_000);
  const down = await anchorStatus();
  t.true(down.pending >= 2, `${down.pending} leaves wait`);
  t.regex(down.lastError!, /does not answer|chain at/);
  for (const s of stems) t.false(existsSync(join(dir(), `${s}.proof.json`)), 'no proof before its checkpoint');

  anvil = await startAnvil({ port, stateFile }); // the same node back, with its chain
  await waitFor('caught up', async () => (await anchorStatus()).pending === 0, 90_000);
  for (const s of stems) {
    await waitFor(`the proof of ${s}`, async () => existsSync(join(dir(), `${s}.proof.json`)), 20_000);
    await verifyOffline(t, s);
  }
  // every checkpoint on chain once, in growing sizes, and the state DB's record of them the same
  const rpc = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const c = deliveryAnchor(anchorAddress, rpc);
  const sizes = (await c.queryFilter(c.filters.Checkpoint!())).map((e) =>
    Number((e as unknown as { args: { treeSize: bigint } }).args.treeSize),
  );
  rpc.destroy();
  t.deepEqual(
    [...sizes].sort((a, b) => a - b),
    sizes,
    'sizes grow',
  );
  t.is(new Set(sizes).size, sizes.length, 'no checkpoint twice');
  const { rows: recorded } = await state.query<{ size: string }>('select size from sluice_checkpoints order by size');
  t.deepEqual(
    recorded.map((r) => Number(r.size)),
    sizes,
  );
  t.true(sizes.at(-1)! > before);
});

import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import type pg from 'pg';
import { stringify } from 'yaml';
import { deliveryAnchor, deployContracts } from '../contracts/deploy.ts';
import { canonicalJson } from '../engine/delivery-log/leaf.ts';
import { leafHash, verifyInclusion } from '../engine/delivery-log/merkle.ts';
import { silentLogger } from '../engine/ports/index.ts';
import { anvilKey, startAnvil, type Anvil } from '../ops/chain/anvil.ts';
import { grantOnChain } from '../ops/demo/demo-chain.ts';
import type { ProofFile } from '../ops/runtime/anchoring.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import { freePort } from '../ops/net/free-port.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
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
  // with a chain the grant is decided on it: the operator, the provider and the subscriber do their parts
  const [provider1, subscriber2] = [1, 2].map((i) => new Wallet(anvilKey(i)).address) as [string, string];
  f.cfg.providers[0]!.account = provider1;
  f.cfg.subscribers[0]!.account = subscriber2;
  await grantOnChain(f.cfg, {
    anvil,
    policy: d.policy,
    anchor: d.anchor,
    provider: provider1,
    subscriber: subscriber2,
  });
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

test.serial('sluice verify: proven with only the files and the chain; every tampering and gap named', async (t) => {
  const stem = await deliver(2);
  const proofFile = join(dir(), `${stem}.proof.json`);
  await waitFor('the proof', async () => existsSync(proofFile), 30_000);
  const parquet = join(dir(), `${stem}.parquet`);
  const chainArgs = ['--rpc', anvil.url, '--anchor', anchorAddress];
  const run = async (args: string[]) => {
    const p = spawnSluice(['verify', ...args]);
    const { code } = await exitWithin(p, 60_000);
    return { code, out: p.output() };
  };
  const ok = await run([parquet, ...chainArgs]);
  t.is(ok.code, 0, ok.out);
  t.regex(ok.out, /delivered to audit-office, subscription audit-relief/);
  t.regex(ok.out, /anchored {5}in 0x[0-9a-fA-F]{40} on chain 31337, block \d+/);
  t.is((await run([join(dir(), `${stem}.manifest.json`), ...chainArgs])).code, 0, 'the manifest verifies too');
  const configFile = join(work, 'verify.yaml');
  writeFileSync(
    configFile,
    stringify({
      chain: { rpc: anvil.url, operatorKey: 'env:OPERATOR_KEY', policy: anchorAddress, anchor: anchorAddress },
    }),
  );
  t.is((await run([parquet, '-c', configFile])).code, 0, 'the chain taken from a config');
  const json = await run([parquet, ...chainArgs, '--json']);
  t.like(JSON.parse(json.out.slice(0, json.out.lastIndexOf('}') + 1)), { verified: true, subscriber: 'audit-office' });

  // a one-byte change of the Parquet file
  const bytes = readFileSync(parquet);
  const altered = Buffer.from(bytes);
  const at = Math.floor(altered.length / 2);
  altered[at] = altered[at]! ^ 1;
  writeFileSync(parquet, altered);
  const bad = await run([parquet, ...chainArgs]);
  t.is(bad.code, 1);
  t.regex(bad.out, /NOT VERIFIED: .*\.parquet was altered: its sha256 is/);
  writeFileSync(parquet, bytes);
  // a manifest changed (and re-hashed files would not help: the leaf changes)
  const manifestFile = join(dir(), `${stem}.manifest.json`);
  const manifest = readFileSync(manifestFile, 'utf8');
  writeFileSync(manifestFile, manifest.replace('"audit-office"', '"someone-else"'));
  t.regex((await run([parquet, ...chainArgs])).out, /the manifest was altered/);
  writeFileSync(manifestFile, manifest);
  // a file from another delivery log: checked against another log's anchor contract
  const rpc = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const other = await deployContracts(new Wallet(anvilKey(0), rpc));
  rpc.destroy();
  const foreign = await run([parquet, '--rpc', anvil.url, '--anchor', other.anchor]);
  t.is(foreign.code, 1);
  t.regex(foreign.out, /from another delivery log/);
  // a proof whose checkpoint is not anchored (as if its contract never got it)
  const proof = JSON.parse(readFileSync(proofFile, 'utf8')) as ProofFile;
  writeFileSync(proofFile, JSON.stringify({ ...proof, anchor: { ...proof.anchor, contract: other.anchor } }));
  const unanchored = await run([parquet, '--rpc', anvil.url, '--anchor', other.anchor]);
  t.is(unanchored.code, 1);
  t.regex(unanchored.out, new RegExp(`checkpoint ${proof.checkpoint.size} is not anchored in contract`));
  writeFileSync(proofFile, JSON.stringify({ ...proof, auditPath: proof.auditPath.slice(1) }));
  t.regex((await run([parquet, ...chainArgs])).out, /the leaf is not in the tree/);
  // before its checkpoint is anchored: no proof yet
  rmSync(proofFile);
  const early = await run([parquet, ...chainArgs]);
  t.is(early.code, 1);
  t.regex(early.out, /not anchored yet/);
  writeFileSync(proofFile, JSON.stringify(proof));
  // usage and an unreachable chain
  t.is((await run([parquet])).code, 2);
  const down = await run([parquet, '--rpc', 'http://127.0.0.1:1', '--anchor', anchorAddress]);
  t.is(down.code, 3);
  t.regex(down.out, /does not answer/);
});

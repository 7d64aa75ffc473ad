import test from 'ava';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exitWithin, SLUICE_BIN, spawnSluice, type EngineProcess } from './helpers/engine-process.ts';
import { waitFor } from './helpers/postgres.ts';

const run = promisify(execFile);
let root: string;

test.before(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
  chmodSync(root, 0o755);
});
test.after.always(() => rmSync(root, { recursive: true, force: true }));

const demoArgs = (dataDir: string) => ['demo', '--data-dir', dataDir, '--cadence', '*/2 * * * * *', '--rate', '20'];

function postmasterPid(dataDir: string): number | null {
  const f = join(dataDir, 'pg', 'data', 'postmaster.pid');
  return existsSync(f) ? Number(readFileSync(f, 'utf8').split('\n')[0]) : null;
}

/** Alive and not a zombie (an orphaned postmaster that exited may wait a moment for init to reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

const deliveries = (p: EngineProcess) => p.output().match(/^delivered \d+ changes?/gm)?.length ?? 0;

test.serial('sluice demo delivers a batch, prints how to read it, and stops cleanly on SIGINT', async (t) => {
  t.timeout(120_000);
  const dataDir = join(root, 'a');
  const p = spawnSluice(demoArgs(dataDir));
  await waitFor('a delivered batch', async () => deliveries(p) > 0 || p.child.exitCode !== null, 60_000);
  t.true(deliveries(p) > 0, p.output());
  const inspect = /npx sluice inspect (\S+\.parquet)/.exec(p.output());
  t.truthy(inspect, 'the demo prints the inspect command');
  p.child.kill('SIGINT');
  const exit = await exitWithin(p, 40_000);
  t.is(exit.code, 0, p.output());
  t.regex(p.output(), /stopped cleanly/);
  const pm = postmasterPid(dataDir);
  t.true(pm === null || !alive(pm), 'the embedded PostgreSQL is stopped');
  // the effective config is written for reuse, and is valid
  const cfg = join(dataDir, 'demo.yaml');
  const v = await run(process.execPath, [SLUICE_BIN, 'validate', '-c', cfg]);
  t.regex(v.stdout, /valid/);
  // the printed inspect command works
  const file = join(process.cwd(), inspect![1]!);
  const shown = await run(process.execPath, [SLUICE_BIN, 'inspect', existsSync(file) ? file : inspect![1]!], {
    cwd: process.cwd(),
  });
  t.regex(shown.stdout, /rows/i);
});

test.serial('after kill -9, a second sluice demo stops the orphaned postmaster and resumes', async (t) => {
  t.timeout(150_000);
  const dataDir = join(root, 'b');
  const first = spawnSluice(demoArgs(dataDir));
  await waitFor('a first delivery', async () => deliveries(first) > 0 || first.child.exitCode !== null, 60_000);
  first.child.kill('SIGKILL');
  await exitWithin(first, 10_000);
  const orphan = postmasterPid(dataDir);
  t.truthy(orphan);
  t.true(alive(orphan!), 'kill -9 leaves the embedded postmaster running');

  const second = spawnSluice(demoArgs(dataDir), { SLUICE_LOG_LEVEL: 'warn' });
  await waitFor(
    'a delivery after the restart',
    async () => deliveries(second) > 0 || second.child.exitCode !== null,
    60_000,
  );
  t.regex(second.output(), /resuming: \d+ relief recipients/);
  t.regex(second.output(), /left running by a previous run/);
  t.false(alive(orphan!), 'the orphan was stopped');
  second.child.kill('SIGINT');
  const exit = await exitWithin(second, 40_000);
  t.is(exit.code, 0, second.output());
  const pm = postmasterPid(dataDir);
  t.true(pm === null || !alive(pm));
});

test.serial(
  'sluice demo --chain: the grant decided on chain, each batch anchored with a proof sluice verify accepts',
  async (t) => {
    t.timeout(150_000);
    const dataDir = join(root, 'chain');
    const p = spawnSluice([...demoArgs(dataDir), '--chain']);
    await waitFor('a delivered batch', async () => deliveries(p) > 0 || p.child.exitCode !== null, 60_000);
    t.regex(p.output(), /audit-relief: granted on chain id \(clear\), name \(partial\)/);
    const verify = /npx sluice verify (\S+\.parquet) -c (\S+)/.exec(p.output());
    t.truthy(verify, p.output());
    const proof = verify![1]!.replace(/\.parquet$/, '.proof.json');
    await waitFor('its proof', async () => existsSync(proof), 30_000);
    const v = await run(process.execPath, [SLUICE_BIN, 'verify', verify![1]!, '-c', verify![2]!]);
    t.regex(v.stdout, /verified: .*\.parquet[\s\S]*anchored {5}in 0x[0-9a-fA-F]{40} on chain 31337/);
    p.child.kill('SIGINT');
    const exit = await exitWithin(p, 40_000);
    t.is(exit.code, 0, p.output());
    t.true(existsSync(join(dataDir, 'anvil-state.json')), 'the chain is kept for the next demo');
  },
);

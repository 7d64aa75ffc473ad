import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { stringify } from 'yaml';
import { RELIEF_DDL, reliefConfig } from './helpers/config.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { engineReady, exitWithin, spawnSluice, type EngineProcess } from './helpers/engine-process.ts';
import { startPostgres, waitFor, type TestPostgres } from './helpers/postgres.ts';

// kill -9 of the engine around a delivery, then restart: every change is delivered exactly once (by _seq), and a
// file that existed before the crash is re-created byte-identical. A few trials here; `npm run soak` runs many.
// logical_decoding_work_mem is at its 64 kB minimum, so the random trials' larger transactions are streamed
// (protocol 2) and the engine also dies while they sit in its spool or are half-appended.

let server: TestPostgres;
let provider: pg.Client;
let state: pg.Client;
let work: string;
let configFile: string;
let outDir: string;
let nextId = 1;
/** Changes committed at the provider (inserts, updates, deletes): what must be delivered. */
let changes = 0;

test.before(async () => {
  server = await startPostgres('sluice-test-', { logical_decoding_work_mem: '64kB' });
  ({ client: provider } = await server.database('provider'));
  await provider.query(RELIEF_DDL);
  ({ client: state } = await server.database('state'));
  work = mkdtempSync(join(tmpdir(), 'sluice-once-'));
  outDir = join(work, 'out');
  configFile = join(work, 'sluice.yaml');
  const cfg = reliefConfig({
    dataDir: join(work, 'data'),
    providerUrl: server.url('provider'),
    stateUrl: server.url('state'),
    outDir,
    cadence: '* * * * * *',
  });
  writeFileSync(configFile, stringify(cfg));
  // A first start creates the publication and the slot (changes before that are the snapshot issue's job).
  const first = spawnSluice(['run', '-c', configFile]);
  await waitReady(first);
  first.child.kill('SIGTERM');
  const { code } = await exitWithin(first, 30_000);
  if (code !== 0) throw new Error(`first start exited ${code}: ${first.output()}`);
});

test.after.always(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function insertRows(n: number): Promise<void> {
  const values = Array.from({ length: n }, () => {
    const id = nextId++;
    return `(${id}, '王${id}', '11010519491231002X', '13800000000', ${id}.25, ${2n ** 53n + BigInt(id)}, now())`;
  });
  await provider.query(
    `insert into relief_recipients (id, name, id_card, mobile, amount, big, paid_at) values ${values.join(',')}`,
  );
  changes += n;
}

/** One step of a mixed workload: small inserts, streamed transactions with a rolled-back savepoint, updates, deletes. */
async function mixedStep(): Promise<void> {
  const r = Math.random();
  if (r < 0.5) return insertRows(3);
  if (r < 0.62) {
    // ~120 kB: streamed in blocks; the savepoint's rows must never be delivered
    const first = nextId;
    nextId += 800;
    await provider.query('begin');
    await provider.query(
      `insert into relief_recipients (id, name, amount, notes, paid_at)
       select g, '流' || g, g + 0.5, repeat('n', 100), now() from generate_series($1::int, $2::int) g`,
      [first, first + 399],
    );
    await provider.query('savepoint s');
    await provider.query(
      `insert into relief_recipients (id, name, amount) select -g, 'rolled back', 0 from generate_series(1, 200) g`,
    );
    await provider.query('rollback to savepoint s');
    await provider.query(
      `insert into relief_recipients (id, name, amount, notes, paid_at)
       select g, '流' || g, g + 0.5, repeat('n', 100), now() from generate_series($1::int, $2::int) g`,
      [first + 400, first + 799],
    );
    await provider.query('commit');
    changes += 800;
    return;
  }
  if (r < 0.85) {
    const u = await provider.query(
      `update relief_recipients set amount = amount + 1
        where id in (select id from relief_recipients order by random() limit 5)`,
    );
    changes += u.rowCount ?? 0;
    return;
  }
  const d = await provider.query(
    `delete from relief_recipients where id in (select id from relief_recipients order by random() limit 2)`,
  );
  changes += d.rowCount ?? 0;
}

async function caughtUp(expected: number): Promise<boolean> {
  const { rows } = await state.query<{ head: string | null; cursor: string | null }>(
    `select (select seq from sluice_bus_heads where resource = 'relief-recipients') as head,
            (select seq from sluice_cursors where subscription = 'audit-relief') as cursor`,
  );
  return rows[0]?.head === String(expected) && rows[0]?.cursor === String(expected);
}

function fileHashes(): Map<string, string> {
  const dir = join(outDir, 'audit-relief');
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    if (f.startsWith('.')) continue;
    out.set(
      f,
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    );
  }
  return out;
}

const waitReady = (p: EngineProcess) => engineReady(p, join(work, 'data'));

async function runUntilCaughtUp(expected: number): Promise<void> {
  const p = spawnSluice(['run', '-c', configFile]);
  try {
    await waitReady(p);
    await waitFor(`cursor at ${expected}`, () => caughtUp(expected), 40_000);
  } finally {
    p.child.kill('SIGTERM');
  }
  const { code } = await exitWithin(p, 30_000);
  if (code !== 0) throw new Error(`sluice run exited ${code}:\n${p.output()}`);
}

async function assertExactlyOnce(t: ExecutionContext, expected: number) {
  const dir = join(outDir, 'audit-relief');
  const { rows } = await readWithDuckDB(
    join(dir, '*.parquet'),
    'select _seq::varchar as s, count(*)::int as n from t group by 1',
  );
  const seen = new Map(rows.map((r) => [String(r.s), Number(r.n)]));
  const missing: number[] = [];
  const dup: number[] = [];
  for (let s = 1; s <= expected; s++) {
    const n = seen.get(String(s)) ?? 0;
    if (n === 0) missing.push(s);
    if (n > 1) dup.push(s);
  }
  t.deepEqual(missing, [], 'no change is lost');
  t.deepEqual(dup, [], 'no change is delivered twice');
  t.is(seen.size, expected, 'nothing beyond the source changes is delivered');
  // reconcile by key: replaying the delivered changes in _seq order gives the provider's table
  const { rows: delivered } = await readWithDuckDB(
    join(dir, '*.parquet'),
    'select id::varchar as id, amount::varchar as amount, _op from t order by _seq',
  );
  const replayed = new Map<string, string | null>();
  for (const r of delivered) {
    if (r._op === 'd') replayed.delete(String(r.id));
    else replayed.set(String(r.id), r.amount === null ? null : String(r.amount));
  }
  const { rows: source } = await provider.query<{ id: string; amount: string | null }>(
    'select id::text, amount::text from relief_recipients order by relief_recipients.id',
  );
  t.deepEqual(
    [...replayed].sort(([a], [b]) => Number(a) - Number(b)),
    source.map((r) => [r.id, r.amount]),
    'the delivered changes replay to the provider table, key by key',
  );
  // every manifest matches its file
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.manifest.json'))) {
    const m = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const sha = createHash('sha256')
      .update(readFileSync(join(dir, m.parts[0].file)))
      .digest('hex');
    t.is(m.parts[0].sha256, sha, `${f} matches its part`);
  }
}

for (const point of ['intent-committed', 'files-written', 'delivery-committed'] as const) {
  test.serial(`kill -9 at "${point}", restart: exactly once, and re-created files are byte-identical`, async (t) => {
    t.timeout(120_000);
    const before = changes;
    const filesBefore = fileHashes();
    await insertRows(25);
    const crashing = spawnSluice(['run', '-c', configFile], { SLUICE_TEST_CRASH_AT: point });
    const exit = await exitWithin(crashing, 60_000);
    t.is(exit.signal, 'SIGKILL', `the engine killed itself at ${point}:\n${crashing.output()}`);
    const afterCrash = fileHashes();
    await runUntilCaughtUp(before + 25);
    const afterRestart = fileHashes();
    for (const [name, sha] of afterCrash) {
      t.is(afterRestart.get(name), sha, `${name} is identical after the restart`);
    }
    const newAtCrash = [...afterCrash.keys()].filter((f) => !filesBefore.has(f) && f.endsWith('.parquet'));
    // the crash point decides whether the new file existed when the process died — and so what was re-created
    t.is(newAtCrash.length, point === 'intent-committed' ? 0 : 1, `new files at the crash: ${newAtCrash.join(', ')}`);
    t.true(
      [...afterRestart.keys()].some((f) => !filesBefore.has(f) && f.endsWith('.parquet')),
      'the batch is delivered',
    );
    await assertExactlyOnce(t, before + 25);
  });
}

test.serial(
  'kill -9 at random moments while changes stream in (streamed transactions too): exactly once, reconciled by key',
  async (t) => {
    const trials = Number(process.env.SLUICE_KILL_TRIALS ?? 3);
    t.timeout(90_000 + trials * 15_000);
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        await mixedStep();
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    for (let i = 0; i < trials; i++) {
      const p = spawnSluice(['run', '-c', configFile]);
      await new Promise((r) => setTimeout(r, 1500 + Math.random() * 2500));
      p.child.kill('SIGKILL');
      await exitWithin(p, 10_000);
    }
    stop = true;
    await writer;
    await runUntilCaughtUp(changes);
    await assertExactlyOnce(t, changes);
    const files = [...fileHashes().keys()].filter((f) => f.endsWith('.parquet')).length;
    t.log(`${trials} kill -9 trials; ${changes} changes in ${files} files; every _seq exactly once; replayed = source`);
  },
);

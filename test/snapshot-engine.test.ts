import test from 'ava';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { stringify } from 'yaml';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine } from '../ops/runtime/engine.ts';
import type { BatchDeliveryConfig, Config } from '../schemas/index.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { engineReady, exitWithin, spawnSluice, type EngineProcess } from './helpers/engine-process.ts';
import { waitFor } from './helpers/postgres.ts';
import { reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';

// Snapshots through the whole engine: the initial snapshot of a table that already holds rows survives kill -9 and
// resumes from its last stored chunk; a subscription added later gets a backfill of its own while the existing
// subscription's files stay as they were; `sluice resnapshot` and `sluice snapshots` from the command line.

const server = sharedPostgres('sluice-snap-engine-');

/** r events of the resource on the bus, and how many distinct keys they name. */
async function readsOnBus(state: pg.Client): Promise<{ rows: number; keys: number }> {
  const result = await state
    .query<{ n: string; k: string }>(
      `select count(*)::text as n, count(distinct event -> 'key' ->> 'id')::text as k
         from sluice_bus_events where event ->> 'op' = 'r'`,
    )
    .catch((e: { code?: string }) => {
      if (e.code === '42P01') return { rows: [{ n: '0', k: '0' }] }; // not migrated yet
      throw e;
    });
  const rows = result.rows;
  return { rows: Number(rows[0]!.n), keys: Number(rows[0]!.k) };
}

const waitReady = (p: EngineProcess, dataDir: string): Promise<string> => engineReady(p, dataDir);

/** Small chunks. */
function withChunks(cfg: Config, chunkRows: number): Config {
  cfg.providers[0]!.connector.snapshot = { chunkRows };
  return cfg;
}

test('kill -9 during an initial snapshot: the restarted engine resumes after the last stored chunk', async (t) => {
  t.timeout(180_000);
  const rows = 40_000;
  const f = await reliefFixture(server(), 'killsnap', rows, '* * * * * *');
  const dataDir = join(f.work, 'data');
  const configFile = join(f.work, 'sluice.yaml');
  const cfg = withChunks(f.cfg, 500);
  writeFileSync(configFile, stringify(cfg));
  try {
    const first = spawnSluice(['run', '-c', configFile]);
    // cheap to ask (one row per append, a chunk is one append), so the kill lands early
    const heads = async () => {
      const r = await f.state
        .query<{ n: string }>('select coalesce(max(last_seq), 0)::text as n from sluice_bus_batches')
        .catch(() => ({ rows: [{ n: '0' }] }));
      return Number(r.rows[0]!.n);
    };
    await waitFor('a few chunks on the bus', async () => (await heads()) >= 2000, 60_000, 5).catch((e: Error) => {
      throw new Error(`${e.message}; engine output:\n${first.output()}`);
    });
    first.child.kill('SIGKILL');
    await exitWithin(first, 10_000);
    const before = await readsOnBus(f.state);
    t.true(before.rows < rows, `killed mid-snapshot (${before.rows} of ${rows} rows stored)`);
    t.is(before.keys, before.rows);

    const second = spawnSluice(['run', '-c', configFile]);
    try {
      const api = await waitReady(second, dataDir);
      await waitFor('the snapshot to finish', async () => (await heads()) >= rows, 90_000);
      const after = await readsOnBus(f.state);
      t.deepEqual(after, { rows, keys: rows }, 'every row once across the kill: no chunk lost, none read twice');
      const { snapshots } = (await (await fetch(`${api}/v1/snapshots`)).json()) as {
        snapshots: { state: string; rows: number; reason: string; resource: string }[];
      };
      t.like(snapshots[0], { state: 'DONE', rows, reason: 'initial', resource: 'relief-recipients' });
      // and the subscriber gets them, masked, as _op = r rows
      const dir = join(f.outDir, 'audit-relief');
      await waitFor(
        'the rows in Parquet files',
        async () => {
          const { rows: c } = await f.state.query<{ seq: string }>('select seq::text from sluice_cursors');
          return Number(c[0]?.seq ?? 0) >= (await heads());
        },
        60_000,
      );
      const { rows: check } = await readWithDuckDB(
        join(dir, '*.parquet'),
        `select count(*)::int as n, count(distinct id)::int as ids,
                count(*) filter (where mobile = '13800000000')::int as clear_mobiles
           from t where _op = 'r'`,
      );
      t.like(check[0], { n: rows, ids: rows, clear_mobiles: 0 }, 'each row once, mobile masked');
    } finally {
      second.child.kill('SIGTERM');
      await exitWithin(second, 30_000);
    }
  } finally {
    rmSync(f.work, { recursive: true, force: true });
  }
});

const hashes = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((n) => [
        n,
        createHash('sha256')
          .update(readFileSync(join(dir, n)))
          .digest('hex'),
      ]),
  );

test('a subscription added later gets a backfill of its own; the existing one sees nothing of it', async (t) => {
  t.timeout(120_000);
  const f = await reliefFixture(server(), 'backfill', 3000);
  const cfg = withChunks(f.cfg, 1000);
  try {
    let engine = await startEngine(cfg, { logger: silentLogger });
    await waitFor('the initial snapshot', async () => (await readsOnBus(f.state)).rows === 3000, 60_000);
    await f.provider.query(`update relief_recipients set amount = 1 where id = 1`);
    await waitFor('the update on the bus', async () => {
      const { rows } = await f.state.query(`select 1 from sluice_bus_events where event ->> 'op' = 'u'`);
      return rows.length === 1;
    });
    const one = await engine.runCycle('audit-relief', new Date('2026-12-04T08:00:00Z'));
    t.is(one.rows, 3001);
    await engine.drain();
    const existing = join(f.outDir, 'audit-relief');
    const filesBefore = hashes(existing);

    // a second subscription on the same resource: fewer fields, a filter
    cfg.subscriptions.push({
      ...cfg.subscriptions[0]!,
      id: 'audit-late',
      fields: ['id', 'amount'],
      masks: {},
      filter: 'id <= 1000',
      delivery: { ...(cfg.subscriptions[0]!.delivery as BatchDeliveryConfig), dir: join(f.outDir, 'late') },
    });
    engine = await startEngine(cfg, { logger: silentLogger });
    try {
      await waitFor(
        'the backfill',
        async () => {
          const { rows } = await f.state.query<{ n: string }>(
            `select count(*)::text as n from sluice_bus_events where event ->> 'op' = 'r'`,
          );
          return Number(rows[0]!.n) === 6000;
        },
        60_000,
      );
      await f.provider.query(`update relief_recipients set amount = 2 where id = 2`);
      await waitFor('the second update', async () => {
        const { rows } = await f.state.query(`select 1 from sluice_bus_events where event ->> 'op' = 'u'`);
        return rows.length === 2;
      });
      const late = await engine.runCycle('audit-late', new Date('2026-12-04T09:00:00Z'));
      const a = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z'));
      // the existing subscription: only the new change, in a new file; its earlier files untouched
      t.is(a.rows, 1, 'the backfill is not delivered to the subscription that did not ask for it');
      const after = hashes(existing);
      for (const [name, sha] of Object.entries(filesBefore)) t.is(after[name], sha, `${name} unchanged`);
      t.is(Object.keys(after).length, Object.keys(filesBefore).length + 2, 'one more file and its manifest');
      // the new one: the current state under its fields and filter, then the change
      const { rows } = await readWithDuckDB(
        join(f.outDir, 'late', 'audit-late', `${late.files[0]!.stem}.parquet`),
        `select _op, count(*)::int as n, max(id)::int as max_id, max(amount)::varchar as max_amount from t group by _op order by _op`,
      );
      t.deepEqual(rows, [
        { _op: 'r', n: 1000, max_id: 1000, max_amount: '1000.2500' },
        { _op: 'u', n: 1, max_id: 2, max_amount: '2.0000' },
      ]);
      const { types } = await readWithDuckDB(join(f.outDir, 'late', 'audit-late', `${late.files[0]!.stem}.parquet`));
      t.deepEqual(Object.keys(types), ['id', 'amount', '_op', '_seq', '_commit_ts']);
    } finally {
      await engine.drain();
    }
  } finally {
    rmSync(f.work, { recursive: true, force: true });
  }
});

test('a table added to a running provider: the publication is extended and only that table is read', async (t) => {
  t.timeout(120_000);
  const f = await reliefFixture(server(), 'addtable', 1500);
  const cfg = withChunks(f.cfg, 1000);
  try {
    let engine = await startEngine(cfg, { logger: silentLogger });
    await waitFor('the first table', async () => (await readsOnBus(f.state)).rows === 1500, 60_000);
    await engine.drain();
    await f.provider.query('create table licences (no text primary key, holder text, valid_until date)');
    await f.provider.query(
      `insert into licences select 'L' || g, '李' || g, date '2030-01-01' + g from generate_series(1, 700) g`,
    );
    cfg.resources.push({
      id: 'licences',
      provider: 'addtable',
      table: 'public.licences',
      key: ['no'],
      fields: {
        no: { level: 'general', share: 'unconditional' },
        holder: { level: 'general', share: 'unconditional' },
        valid_until: { level: 'general', share: 'unconditional' },
      },
    });
    engine = await startEngine(cfg, { logger: silentLogger });
    try {
      await waitFor(
        'the added table',
        async () => {
          const { rows } = await f.state.query<{ n: string }>(
            `select count(*)::text as n from sluice_bus_events where resource = 'licences' and event ->> 'op' = 'r'`,
          );
          return Number(rows[0]!.n) === 700;
        },
        60_000,
      );
      await f.provider.query(`update licences set holder = 'x' where no = 'L1'`);
      await waitFor('its change', async () => {
        const { rows } = await f.state.query(
          `select 1 from sluice_bus_events where resource = 'licences' and event ->> 'op' = 'u'`,
        );
        return rows.length === 1;
      });
      const { rows: relief } = await f.state.query<{ n: string }>(
        `select count(*)::text as n from sluice_bus_events where resource = 'relief-recipients' and event ->> 'op' = 'r'`,
      );
      t.is(relief[0]!.n, '1500', 'the table attached before is not read again');
      const { rows: pub } = await f.provider.query<{ t: string }>(
        `select tablename as t from pg_publication_tables where pubname = 'sluice_addtable' order by 1`,
      );
      t.deepEqual(
        pub.map((r) => r.t),
        ['licences', 'relief_recipients'],
      );
      const { snapshots } = (await (await fetch(`${engine.apiUrl}/v1/snapshots`)).json()) as {
        snapshots: { resource: string; state: string; rows: number }[];
      };
      t.like(
        snapshots.find((s) => s.resource === 'licences'),
        { state: 'DONE', rows: 700 },
      );
    } finally {
      await engine.drain();
    }
  } finally {
    rmSync(f.work, { recursive: true, force: true });
  }
});

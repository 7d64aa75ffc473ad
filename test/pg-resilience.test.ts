import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { isSluiceError, type SluiceError } from '../engine/errors.ts';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine } from '../ops/runtime/engine.ts';
import type { Config } from '../schemas/index.ts';
import { startPostgres, waitFor } from './helpers/postgres.ts';
import { tableConfig } from './helpers/table-config.ts';

// The engine with real servers around the source: the provider restarting mid-stream, its slot dropped or moved
// behind the engine's back, and several providers with several tables each. The state database is a server of its
// own, as in production, so that restarting the provider does not touch it.

async function count(url: string, sql: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: string }>(sql);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}

const busCount = (stateUrl: string, resource = 'things') =>
  count(stateUrl, `select count(*)::text as n from sluice_bus_events where resource = '${resource}'`);

async function setup(prefix: string, settings: Record<string, string> = {}) {
  const provider = await startPostgres(`${prefix}-prov-`, settings);
  const state = await startPostgres(`${prefix}-state-`);
  const { client, url } = await provider.database('provider');
  await client.query('create table things (id int primary key, v text)');
  const stateUrl = (await state.database('state')).url;
  const work = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const cfg = tableConfig({
    dataDir: join(work, 'data'),
    providerUrl: url,
    stateUrl,
    outDir: join(work, 'out'),
    table: 'public.things',
    key: ['id'],
    fields: ['id', 'v'],
  });
  return {
    provider,
    client,
    stateUrl,
    cfg,
    async cleanup() {
      await client.end().catch(() => {});
      await provider.stop();
      await state.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

test('the provider restarting mid-stream: the source reconnects with back-off and every change arrives once', async (t) => {
  t.timeout(120_000);
  const env = await setup('sluice-restart');
  const engine = await startEngine(env.cfg, { logger: silentLogger });
  try {
    await env.client.query(`insert into things select g, 'before' from generate_series(1, 100) g`);
    await waitFor('100 changes on the bus', async () => (await busCount(env.stateUrl)) === 100);
    await env.client.end();
    await env.provider.cluster.stop();
    await env.provider.cluster.start();
    const after = new pg.Client({ connectionString: env.provider.url('provider') });
    await after.connect();
    try {
      await after.query(`insert into things select g, 'after' from generate_series(101, 200) g`);
      await after.query(`update things set v = 'updated' where id <= 10`);
      await waitFor('210 changes on the bus', async () => (await busCount(env.stateUrl)) >= 210, 60_000);
      await new Promise((r) => setTimeout(r, 500));
      t.is(await busCount(env.stateUrl), 210, 'nothing twice');
      t.is(
        await count(
          env.stateUrl,
          `select count(distinct (event->'key'->>'id', event->>'op', event->'after'->>'v'))::text as n from sluice_bus_events`,
        ),
        210,
      );
      const status = await engine.status();
      t.is(status.sources[0]?.state, 'STREAMING');
    } finally {
      await after.end();
    }
  } finally {
    await engine.drain();
    await env.cleanup();
  }
});

test('a slot dropped behind the running engine: the source stops with SLOT_INVALID and recovery steps; no slot is re-created', async (t) => {
  t.timeout(120_000);
  const env = await setup('sluice-dropped');
  const engine = await startEngine(env.cfg, { logger: silentLogger });
  try {
    await env.client.query(`insert into things values (1, 'a')`);
    await waitFor('the change on the bus', async () => (await busCount(env.stateUrl)) === 1);
    // The walsender may still hold the slot for a moment after it is told to go, or the engine may have reconnected
    // already (55006 "slot is active"): terminate and drop until the drop succeeds.
    await waitFor('the slot dropped behind the engine', async () => {
      await env.client.query(
        `select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = 'sluice_prov' and active_pid is not null`,
      );
      try {
        await env.client.query(`select pg_drop_replication_slot('sluice_prov')`);
        return true;
      } catch (e) {
        if ((e as { code?: string }).code === '55006') return false;
        throw e;
      }
    });
    await env.client.query(`insert into things values (2, 'lost unless re-snapshotted')`);
    const failed = await waitFor(
      'the source to report the missing slot',
      async () => {
        const s = (await engine.status()).sources[0];
        return s?.state === 'FAILED' && /is missing/.test(s.error ?? '') && s;
      },
      30_000,
    );
    t.regex(failed.error!, /replication slot sluice_prov is missing, but changes from it are in the bus/);
    const slots = () =>
      count(
        env.provider.url('provider'),
        `select count(*)::text as n from pg_replication_slots where slot_name = 'sluice_prov'`,
      );
    t.is(await slots(), 0, 'no slot was silently re-created');
    t.is(await busCount(env.stateUrl), 1);

    // the recovery: a re-snapshot creates the slot anew and reads the table again, the lost insert with it
    const res = await fetch(`${engine.apiUrl}/v1/resources/things/resnapshot`, { method: 'POST' });
    t.is(res.status, 202);
    t.like(await res.json(), { resource: 'things', reason: 'resnapshot', state: 'RUNNING' });
    t.is(await slots(), 1);
    const reads = `select count(*)::text as n from sluice_bus_events where event ->> 'op' = 'r'`;
    await waitFor('the re-snapshot', async () => (await count(env.stateUrl, reads)) === 2, 30_000);
    t.is(
      await count(
        env.stateUrl,
        `select count(*)::text as n from sluice_bus_events where event -> 'after' ->> 'v' = 'lost unless re-snapshotted'`,
      ),
      1,
    );
    await env.client.query(`insert into things values (3, 'streamed again')`);
    await waitFor('streaming again', async () => (await busCount(env.stateUrl)) === 4);
    t.is((await engine.status()).sources[0]?.state, 'STREAMING');
  } finally {
    await engine.drain();
    await env.cleanup();
  }
});

test('a slot moved past what the bus holds (pg_replication_slot_advance) is refused at start, naming both positions', async (t) => {
  t.timeout(120_000);
  const env = await setup('sluice-advanced');
  try {
    const first = await startEngine(env.cfg, { logger: silentLogger });
    await env.client.query(`insert into things values (1, 'a')`);
    await waitFor('the change on the bus', async () => (await busCount(env.stateUrl)) === 1);
    await first.drain();
    await env.client.query(`insert into things values (2, 'skipped by the advance')`);
    // the walsender of the drained engine may take a moment to let go of the slot
    await waitFor('the slot to be released', async () => {
      const { rows } = await env.client.query(
        `select 1 from pg_replication_slots where slot_name = 'sluice_prov' and active_pid is null`,
      );
      return rows.length === 1;
    });
    await env.client.query(`select pg_replication_slot_advance('sluice_prov', pg_current_wal_lsn())`);
    const err = await t.throwsAsync(startEngine(env.cfg, { logger: silentLogger }));
    t.true(isSluiceError(err, 'SLOT_INVALID'), String(err));
    t.regex(
      err!.message,
      /is confirmed up to [0-9A-F]+\/[0-9A-F]+, beyond what the bus holds \([0-9A-F]+\/[0-9A-F]+\)/,
    );
    t.regex(String((err as SluiceError).details.recovery), /re-snapshot/);
  } finally {
    await env.cleanup();
  }
});

test('a slot the server invalidated (max_slot_wal_keep_size) is refused at start with SLOT_INVALID and why', async (t) => {
  t.timeout(120_000);
  const env = await setup('sluice-invalid', {
    max_slot_wal_keep_size: '1MB',
    wal_keep_size: '0',
    max_wal_size: '32MB',
  });
  try {
    const first = await startEngine(env.cfg, { logger: silentLogger });
    await env.client.query(`insert into things values (1, 'a')`);
    await waitFor('the change on the bus', async () => (await busCount(env.stateUrl)) === 1);
    await first.drain();
    // while the engine is down, the provider writes far more WAL than the slot may keep
    await env.client.query('create table filler (v text)');
    await waitFor(
      'the server to invalidate the slot',
      async () => {
        await env.client.query(`insert into filler select repeat('x', 1000) from generate_series(1, 5000)`);
        await env.client.query('select pg_switch_wal()');
        await env.client.query('checkpoint');
        const { rows } = await env.client.query<{ s: string }>(
          `select wal_status as s from pg_replication_slots where slot_name = 'sluice_prov'`,
        );
        return rows[0]?.s === 'lost';
      },
      60_000,
    );
    const err = await t.throwsAsync(startEngine(env.cfg, { logger: silentLogger }));
    t.true(isSluiceError(err, 'SLOT_INVALID'), String(err));
    t.regex(err!.message, /replication slot sluice_prov was invalidated by the server/);
    t.regex(String((err as SluiceError).details.recovery), /max_slot_wal_keep_size/);
    t.regex(String((err as SluiceError).details.recovery), /sluice run --recover-slot prov/);

    // started with the recovery: the slot is created anew, the table read again, and the new position stored — a
    // plain restart afterwards resumes from it
    await env.client.query(`insert into things values (2, 'written while the slot was lost')`);
    const recovered = await startEngine(env.cfg, { logger: silentLogger, recoverSlot: ['prov'] });
    try {
      const reads = `select count(*)::text as n from sluice_bus_events where event ->> 'op' = 'r'`;
      await waitFor('the re-snapshot', async () => (await count(env.stateUrl, reads)) === 2, 30_000);
    } finally {
      await recovered.drain();
    }
    const again = await startEngine(env.cfg, { logger: silentLogger });
    try {
      await env.client.query(`insert into things values (3, 'c')`);
      await waitFor('streaming after a plain restart', async () => (await busCount(env.stateUrl)) === 4);
    } finally {
      await again.drain();
    }
    await t.throwsAsync(startEngine(env.cfg, { logger: silentLogger, recoverSlot: ['nope'] }), {
      message: /--recover-slot: no provider "nope" in the config \(providers: prov\)/,
    });
  } finally {
    await env.cleanup();
  }
});

test('several providers, several tables each: each provider has its own slot and replication connection', async (t) => {
  t.timeout(120_000);
  const server = await startPostgres('sluice-multi-');
  const state = await startPostgres('sluice-multi-state-');
  const work = mkdtempSync(join(tmpdir(), 'sluice-multi-'));
  try {
    const a = await server.database('prov_a');
    const b = await server.database('prov_b');
    for (const c of [a.client, b.client]) {
      await c.query('create table t1 (id int primary key, v text); create table t2 (k text primary key, n bigint)');
    }
    const base = tableConfig({
      dataDir: join(work, 'data'),
      providerUrl: a.url,
      stateUrl: (await state.database('state')).url,
      outDir: join(work, 'out'),
      table: 'public.t1',
      key: ['id'],
      fields: ['id', 'v'],
      resource: 'a-t1',
    });
    const general = { level: 'general' as const, share: 'unconditional' as const };
    const cfg: Config = {
      ...base,
      providers: [
        { id: 'pa', connector: { kind: 'postgres', url: a.url } },
        { id: 'pb', connector: { kind: 'postgres', url: b.url } },
      ],
      resources: [
        { ...base.resources[0]!, provider: 'pa' },
        { id: 'a-t2', provider: 'pa', table: 'public.t2', key: ['k'], fields: { k: general, n: general } },
        { id: 'b-t1', provider: 'pb', table: 'public.t1', key: ['id'], fields: { id: general, v: general } },
        { id: 'b-t2', provider: 'pb', table: 'public.t2', key: ['k'], fields: { k: general, n: general } },
      ],
    };
    const engine = await startEngine(cfg, { logger: silentLogger });
    try {
      await a.client.query(`insert into t1 values (1, 'a'); insert into t2 values ('x', 9007199254740993)`);
      await b.client.query(`begin; insert into t1 values (1, 'b'), (2, 'b'); insert into t2 values ('y', 1); commit`);
      const stateUrl = base.state!.url!;
      const heads = async () =>
        Object.fromEntries(
          await Promise.all(['a-t1', 'a-t2', 'b-t1', 'b-t2'].map(async (r) => [r, await busCount(stateUrl, r)])),
        );
      await waitFor('every resource on the bus', async () => {
        const h = await heads();
        return h['a-t1'] === 1 && h['a-t2'] === 1 && h['b-t1'] === 2 && h['b-t2'] === 1;
      });
      const sc = new pg.Client({ connectionString: stateUrl });
      await sc.connect();
      const stored = await sc.query<{ n: string }>(
        `select event->'after'->>'n' as n from sluice_bus_events where resource = 'a-t2'`,
      );
      await sc.end();
      t.is(stored.rows[0]?.n, '9007199254740993', 'int8 stays exact text on the bus');
      const walsenders = await a.client.query<{ slot: string; pid: number }>(
        `select slot_name as slot, active_pid as pid from pg_replication_slots where slot_name like 'sluice_p%' order by 1`,
      );
      t.deepEqual(
        walsenders.rows.map((r) => r.slot),
        ['sluice_pa', 'sluice_pb'],
      );
      t.true(walsenders.rows.every((r) => r.pid !== null));
      t.not(walsenders.rows[0]!.pid, walsenders.rows[1]!.pid, 'one replication connection each');
      const status = await engine.status();
      t.deepEqual(status.sources.map((s) => [s.id, s.state]).sort(), [
        ['pa', 'STREAMING'],
        ['pb', 'STREAMING'],
      ]);
    } finally {
      await engine.drain();
    }
  } finally {
    await server.stop();
    await state.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

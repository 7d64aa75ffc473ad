import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine } from '../ops/runtime/engine.ts';
import { RELIEF_DDL, reliefConfig } from './helpers/config.ts';
import { startPostgres, waitFor } from './helpers/postgres.ts';

/** Waits until the slot's confirmed position passes the provider's current WAL position (as of now). */
async function slotPassesCurrentWal(provider: pg.Client, timeoutMs: number): Promise<void> {
  const { rows } = await provider.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  const target = rows[0]!.lsn;
  await waitFor(
    `the slot to pass ${target}`,
    async () => {
      const r = await provider.query<{ ok: boolean }>(
        `select confirmed_flush_lsn >= $1::pg_lsn as ok from pg_replication_slots where slot_name = 'sluice_civil_affairs'`,
        [target],
      );
      return r.rows[0]?.ok;
    },
    timeoutMs,
  );
}

// An idle slot must not pin WAL forever: when everything received is durable, keepalives move it forward.
test('with nothing for Sluice in the WAL, the slot still advances past other activity', async (t) => {
  t.timeout(90_000);
  // keepalives every second while idle
  const server = await startPostgres('sluice-slot-adv-', { wal_sender_timeout: '2s' });
  const work = mkdtempSync(join(tmpdir(), 'sluice-slot-adv-'));
  const { client: provider } = await server.database('provider');
  await provider.query(RELIEF_DDL);
  await provider.query('create table unrelated (id int primary key, v text)');
  const { url: stateUrl, client: state } = await server.database('state');
  const engine = await startEngine(
    reliefConfig({
      dataDir: join(work, 'data'),
      providerUrl: server.url('provider'),
      stateUrl,
      outDir: join(work, 'out'),
    }),
    { logger: silentLogger },
  );
  try {
    await provider.query(`insert into relief_recipients (id, name) values (1, '张三')`);
    await waitFor(
      'the change on the bus',
      async () => (await state.query('select 1 from sluice_bus_events')).rowCount === 1,
    );
    await provider.query(`insert into unrelated select g, 'x' from generate_series(1, 1000) g`);
    await slotPassesCurrentWal(provider, 30_000);
    // and nothing was lost or invented on the way
    const { rows: bus } = await state.query<{ n: string }>('select count(*)::text as n from sluice_bus_events');
    t.is(bus[0]!.n, '1');
  } finally {
    await engine.drain();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

// With the default wal_sender_timeout (60 s) keepalives come every 30 s at best; the heartbeat message (1 s here)
// is what moves an idle slot — and it never moves into an open transaction.
test('heartbeats advance an idle slot without waiting for keepalives', async (t) => {
  t.timeout(90_000);
  const server = await startPostgres('sluice-heartbeat-');
  const work = mkdtempSync(join(tmpdir(), 'sluice-heartbeat-'));
  const { client: provider } = await server.database('provider');
  await provider.query(RELIEF_DDL);
  await provider.query('create table unrelated (id int primary key, v text)');
  const { url: stateUrl } = await server.database('state');
  const cfg = reliefConfig({
    dataDir: join(work, 'data'),
    providerUrl: server.url('provider'),
    stateUrl,
    outDir: join(work, 'out'),
  });
  cfg.providers[0]!.connector.heartbeat = '1s';
  const engine = await startEngine(cfg, { logger: silentLogger });
  try {
    await provider.query(`insert into unrelated select g, 'x' from generate_series(1, 1000) g`);
    await slotPassesCurrentWal(provider, 20_000);
    const status = (await engine.status()).sources[0]!;
    t.true(status.lagSeconds !== undefined && status.lagSeconds < 5, `lag ${status.lagSeconds}`);
  } finally {
    await engine.drain();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

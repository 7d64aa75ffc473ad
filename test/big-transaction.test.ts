import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { engineReady, exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { startPostgres, waitFor } from './helpers/postgres.ts';
import { tableConfig } from './helpers/table-config.ts';

// A 1,000,000-row transaction through the real engine process: the server streams it (protocol 2, streaming on —
// it neither spills to disk nor waits for the commit to start sending), the engine spools it outside memory, delivers
// nothing before the commit, stores every row once after it — with the engine's peak RSS bounded.

const ROWS = Number(process.env.SLUICE_BIG_TX_ROWS ?? 1_000_000);
/**
 * Held in memory, a million decoded events would take well over 1 GB; streamed and spooled, the engine (~170 MB
 * when ready) peaks at 240–380 MB here, and at the same for 2M rows (SLUICE_BIG_TX_ROWS=2000000): the bound does
 * not grow with the transaction. V8 grows its heap lazily when the machine is busy, so the peak varies with the load.
 */
const RSS_LIMIT_MB = 512;

test('a 1,000,000-row transaction: streamed, spooled, nothing before commit, every row once, peak RSS bounded', async (t) => {
  t.timeout(300_000);
  const provider = await startPostgres('sluice-big-prov-');
  const state = await startPostgres('sluice-big-state-');
  const work = mkdtempSync(join(tmpdir(), 'sluice-big-'));
  const dataDir = join(work, 'data');
  const { client, url } = await provider.database('provider');
  const { client: stateClient, url: stateUrl } = await state.database('state');
  await client.query('create table big (id int primary key, v text)');
  const configFile = join(work, 'sluice.yaml');
  writeFileSync(
    configFile,
    stringify(
      tableConfig({
        dataDir,
        providerUrl: url,
        stateUrl,
        outDir: join(work, 'out'),
        table: 'public.big',
        key: ['id'],
        fields: ['id', 'v'],
      }),
    ),
  );
  const engine = spawnSluice(['run', '-c', configFile]);
  const head = async () => {
    const { rows } = await stateClient
      .query<{ seq: string }>(`select seq from sluice_bus_heads where resource = 'things'`)
      .catch(() => ({ rows: [] as { seq: string }[] }));
    return Number(rows[0]?.seq ?? 0);
  };
  try {
    await engineReady(engine, dataDir);
    const rssMb = (field: 'VmRSS' | 'VmHWM') =>
      Number(
        new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${engine.child.pid}/status`, 'utf8'))?.[1],
      ) / 1024;
    const idleMb = rssMb('VmRSS');
    const writer = new pg.Client({ connectionString: url });
    writer.on('error', () => {}); // a failed wait below stops the server under it: report that, not this
    await writer.connect();
    const t0 = Date.now();
    await writer.query('begin');
    await writer.query(`insert into big select g, 'row ' || g from generate_series(1, ${ROWS}) g`);
    const insertSeconds = (Date.now() - t0) / 1000;
    const spool = join(dataDir, 'spool', 'prov');
    await waitFor(
      'the open transaction to be streamed into the spool',
      async () => existsSync(spool) && readdirSync(spool).length > 0,
      60_000,
    );
    t.is(await head(), 0, 'nothing is delivered before the commit');
    const committedAt = Date.now();
    await writer.query('commit');
    await writer.end();
    await waitFor(`${ROWS} events in the bus`, async () => (await head()) >= ROWS, 240_000);
    const drainSeconds = (Date.now() - committedAt) / 1000;
    t.is(await head(), ROWS, 'every row once');
    const peakMb = rssMb('VmHWM');
    t.true(peakMb > 0 && peakMb < RSS_LIMIT_MB, `engine peak RSS ${peakMb.toFixed(0)} MB (limit ${RSS_LIMIT_MB} MB)`);
    const { rows } = await client.query<{ spill: string; stream: string }>(
      `select spill_txns::text as spill, stream_txns::text as stream from pg_stat_replication_slots where slot_name = 'sluice_prov'`,
    );
    t.is(rows[0]?.spill, '0', 'the server did not spill the transaction to disk');
    t.true(Number(rows[0]?.stream) >= 1, 'the server streamed it');
    await waitFor('the spool to be emptied', async () => readdirSync(spool).length === 0, 10_000);
    t.log(
      `${ROWS} rows: insert ${insertSeconds.toFixed(1)} s; commit → all durable in the bus ${drainSeconds.toFixed(1)} s; engine RSS ${idleMb.toFixed(0)} MB when ready, peak ${peakMb.toFixed(0)} MB`,
    );
  } finally {
    engine.child.kill('SIGTERM');
    await exitWithin(engine, 30_000).catch(() => {});
    await provider.stop();
    await state.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

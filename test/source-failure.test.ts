import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSluiceError, type SluiceError } from '../engine/errors.ts';
import { silentLogger } from '../engine/ports/index.ts';
import { freePort } from '../ops/net/free-port.ts';
import { startEngine } from '../ops/runtime/engine.ts';
import { RELIEF_DDL, reliefConfig } from './helpers/config.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { startPostgres, waitFor } from './helpers/postgres.ts';

test('an unreachable provider is marked FAILED and retried; the engine keeps running and says why it is not ready', async (t) => {
  t.timeout(60_000);
  const server = await startPostgres();
  const work = mkdtempSync(join(tmpdir(), 'sluice-fail-'));
  const closed = await freePort();
  const engine = await startEngine(
    reliefConfig({
      dataDir: join(work, 'data'),
      providerUrl: `postgres://nobody:pw@127.0.0.1:${closed}/nowhere`,
      stateUrl: (await server.database('state')).url,
      outDir: join(work, 'out'),
    }),
    { logger: silentLogger },
  );
  try {
    const status = await waitFor('the source to fail', async () => {
      const s = await engine.status();
      return s.sources[0]?.state === 'FAILED' ? s : null;
    });
    t.regex(status.sources[0]!.error ?? '', /unreachable|ECONNREFUSED/);
    t.is((await fetch(`${engine.apiUrl}/healthz`)).status, 200);
    const ready = await fetch(`${engine.apiUrl}/readyz`);
    t.is(ready.status, 503);
    t.regex(JSON.stringify(await ready.json()), /source civil-affairs: FAILED/);
    t.regex(
      await (await fetch(`${engine.apiUrl}/metrics`)).text(),
      /^sluice_source_up\{source="civil-affairs",state="FAILED"\} 0$/m,
    );
    // an operator's check: exit 1, the source FAILED, and why
    const lag = spawnSluice(['lag'], { SLUICE_API: engine.apiUrl });
    t.is((await exitWithin(lag, 20_000)).code, 1, lag.output());
    t.regex(lag.output(), /^civil-affairs\s+FAILED\s/m);
    t.regex(lag.output(), /^civil-affairs: .*(unreachable|ECONNREFUSED)/m);
  } finally {
    await engine.drain();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

test('a slot that disappeared after changes were delivered stops the start with recovery steps; none is silently re-created', async (t) => {
  t.timeout(90_000);
  const server = await startPostgres();
  const work = mkdtempSync(join(tmpdir(), 'sluice-slot-'));
  const { client: provider } = await server.database('provider');
  await provider.query(RELIEF_DDL);
  const { url: stateUrl, client: state } = await server.database('state');
  const cfg = reliefConfig({
    dataDir: join(work, 'data'),
    providerUrl: server.url('provider'),
    stateUrl,
    outDir: join(work, 'out'),
  });
  try {
    const first = await startEngine(cfg, { logger: silentLogger });
    await provider.query(`insert into relief_recipients (id, name) values (1, '张三')`);
    await waitFor(
      'the change on the bus',
      async () => (await state.query('select 1 from sluice_bus_events')).rowCount === 1,
    );
    await first.drain();
    await provider.query(`select pg_drop_replication_slot('sluice_civil_affairs')`);
    await provider.query(`insert into relief_recipients (id, name) values (2, '李四')`); // would be lost

    const err = await t.throwsAsync(startEngine(cfg, { logger: silentLogger }));
    t.true(isSluiceError(err, 'SLOT_INVALID'));
    t.regex(
      err!.message,
      /^providers\[0\]\.connector\.url: provider "civil-affairs": replication slot sluice_civil_affairs is missing/,
    );
    t.regex(String((err as SluiceError).details.recovery), /pg_create_logical_replication_slot/);
    const { rowCount } = await provider.query(
      `select 1 from pg_replication_slots where slot_name = 'sluice_civil_affairs'`,
    );
    t.is(rowCount, 0, 'no slot was silently re-created');
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

test('a configured column missing from the provider table stops the start, naming the config path', async (t) => {
  t.timeout(60_000);
  const server = await startPostgres();
  const work = mkdtempSync(join(tmpdir(), 'sluice-col-'));
  try {
    const { client: provider } = await server.database('provider');
    await provider.query(RELIEF_DDL.replace('notes text,', ''));
    const cfg = reliefConfig({
      dataDir: join(work, 'data'),
      providerUrl: server.url('provider'),
      stateUrl: (await server.database('state')).url,
      outDir: join(work, 'out'),
    });
    const err = await t.throwsAsync(startEngine(cfg, { logger: silentLogger }));
    t.is(
      err!.message,
      'resources[0].fields.notes: resource "relief-recipients": column "notes" does not exist in public.relief_recipients',
    );
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

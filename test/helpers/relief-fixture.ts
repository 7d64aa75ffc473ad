import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../schemas/index.ts';
import { RELIEF_DDL, reliefConfig } from './config.ts';
import type pg from 'pg';
import { startPostgres, waitFor, type TestPostgres } from './postgres.ts';

/**
 * One embedded PostgreSQL for the tests of a file: started before them, stopped after. `ready()` waits for it — for
 * another `before` hook (ava runs a file's hooks concurrently); `cleanup(fn)` runs `fn` before the server stops (an
 * engine to drain), since another `after` hook would run beside the stop.
 */
export function sharedPostgres(
  prefix: string,
): (() => TestPostgres) & { ready: () => Promise<TestPostgres>; cleanup: (fn: () => unknown) => void } {
  let server: TestPostgres | undefined;
  let starting: Promise<TestPostgres> | undefined;
  const cleanups: (() => unknown)[] = [];
  const ready = () => (starting ??= startPostgres(prefix).then((s) => (server = s)));
  test.before(async () => {
    await ready();
  });
  test.after.always(async () => {
    for (const fn of cleanups.reverse()) await fn();
    await server?.stop();
  });
  return Object.assign(() => server!, { ready, cleanup: (fn: () => unknown) => void cleanups.push(fn) });
}

/**
 * A provider database `<name>_provider` whose relief_recipients table holds `rows` rows (ids 1…rows), a state
 * database `<name>_state`, a work folder, and the relief config on them — with provider id `name`, since slots are
 * per server and the tests of a file share one.
 */
export async function reliefFixture(server: TestPostgres, name: string, rows: number, cadence?: string) {
  const { client: provider, url: providerUrl } = await server.database(`${name}_provider`);
  await provider.query(RELIEF_DDL);
  await provider.query(
    `insert into relief_recipients (id, name, id_card, mobile, amount, paid_at, notes)
     select g, '王' || g, '11010519491231002X', '13800000000', g + 0.25, now(), 'n' || g
       from generate_series(1, ${rows}) g`,
  );
  const { client: state, url: stateUrl } = await server.database(`${name}_state`);
  const work = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  const outDir = join(work, 'out');
  const cfg: Config = reliefConfig({
    dataDir: join(work, 'data'),
    providerUrl,
    stateUrl,
    outDir,
    ...(cadence ? { cadence } : {}),
  });
  cfg.providers[0]!.id = name;
  for (const r of cfg.resources) r.provider = name;
  return { provider, providerUrl, state, stateUrl, work, outDir, cfg };
}

/** The bus head of a resource in the state DB (0 before its first change). */
export async function busHead(state: pg.Client, resource = 'relief-recipients'): Promise<number> {
  const { rows } = await state.query<{ seq: string }>('select seq from sluice_bus_heads where resource = $1', [
    resource,
  ]);
  return Number(rows[0]?.seq ?? 0);
}

/** Waits until the bus holds at least `n` changes of the relief table. */
export const onBus = (state: pg.Client, n: number, timeoutMs?: number) =>
  waitFor(`${n} changes on the bus`, async () => (await busHead(state)) >= n, timeoutMs);

/** Inserts rows 1…n with ~96 characters of incompressible text in `notes` (about 2.5 MB of Parquet per 20k rows). */
export async function insertNotes(provider: pg.Client, n: number): Promise<void> {
  await provider.query(
    `insert into relief_recipients (id, notes)
     select g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) from generate_series(1, ${n}) g`,
  );
}

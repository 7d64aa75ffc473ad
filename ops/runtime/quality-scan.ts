import pg from 'pg';
import type { DescribedTable } from '../../engine/catalog/index.ts';
import { compileQualityChecks, QualityTally, type QualityReport } from '../../engine/quality/index.ts';
import type { ResourceConfig, Row } from '../../schemas/index.ts';
import { parseTable, quoteTable } from '../../connectors/sources/postgres/introspect.ts';
import { pgArrayToJson } from '../../connectors/sources/postgres/pg-array.ts';
import { CANONICAL_TEXT_OPTIONS } from '../../connectors/sources/postgres/type-map.ts';
import { qualityRules } from '../../engine/quality/index.ts';

const raw = (v: string) => v;

/**
 * Checks every row of a resource's table (a consistent snapshot: one REPEATABLE READ transaction, read through a
 * cursor in chunks) — only the key and the shareable classified columns are read, as only they may enter the
 * platform. Duplicate keys are counted by the database. Keys of failing rows are reported through `maskKey`.
 */
export async function scanQuality(opts: {
  url: string;
  resource: ResourceConfig;
  described: DescribedTable;
  maskKey: (key: Row) => string;
  chunk?: number;
  signal?: AbortSignal;
}): Promise<QualityReport> {
  const { resource, described } = opts;
  const rules = qualityRules(resource, described.columns);
  const check = compileQualityChecks(rules);
  const inTable = new Set(described.columns.map((c) => c.name));
  const columns = rules.columns.map((c) => c.name).filter((c) => inTable.has(c));
  const lists = new Set(described.columns.filter((c) => c.type.kind === 'list').map((c) => c.name));
  const nullColumns = rules.columns.filter((c) => c.required || resource.key.includes(c.name)).map((c) => c.name);
  const tally = new QualityTally(resource.id, 'scan', nullColumns);
  const table = quoteTable(parseTable(resource.table));
  const q = (c: string) => `"${c}"`;
  const client = new pg.Client({
    connectionString: opts.url,
    options: CANONICAL_TEXT_OPTIONS,
    application_name: 'sluice-quality',
    types: { getTypeParser: () => raw },
  } as pg.ClientConfig);
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('begin transaction isolation level repeatable read read only');
    const keyList = resource.key.map(q).join(', ');
    const { rows: dup } = await client.query<Row & { n: string }>(
      `select ${keyList}, count(*)::text as n from ${table} group by ${keyList} having count(*) > 1 order by count(*) desc`,
    );
    for (const d of dup) {
      const key = Object.fromEntries(resource.key.map((k) => [k, d[k] ?? null]));
      tally.count('duplicate-key', resource.key.join(','), Number(d.n) - 1, () => opts.maskKey(key));
    }
    await client.query(`declare sluice_quality no scroll cursor for select ${columns.map(q).join(', ')} from ${table}`);
    const chunk = opts.chunk ?? 5000;
    for (;;) {
      opts.signal?.throwIfAborted();
      const { rows } = await client.query<Row>(`fetch ${chunk} from sluice_quality`);
      for (const row of rows) {
        for (const c of lists) {
          const v = row[c];
          if (typeof v === 'string') {
            try {
              row[c] = pgArrayToJson(v);
            } catch {
              // not a one-dimensional array literal: the type check reports it
            }
          }
        }
        tally.add(check(row), () => opts.maskKey(Object.fromEntries(resource.key.map((k) => [k, row[k] ?? null]))));
      }
      if (rows.length < chunk) break;
    }
    await client.query('commit');
  } finally {
    await client.end().catch(() => {});
  }
  return tally.report();
}

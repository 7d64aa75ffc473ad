import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import type { Config } from '../schemas/index.ts';
import { startEngine } from '../ops/runtime/engine.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { DEBIAN_PG15_BIN, startPostgres, waitFor } from './helpers/postgres.ts';
import { tableConfig } from './helpers/table-config.ts';

/**
 * Replica identity DEFAULT vs FULL on a real server, end to end into Parquet: what an update that leaves a large
 * (TOASTed) value unchanged and a delete look like to a subscriber under each (README, "Reading a delivered batch").
 *
 *   DEFAULT: the unchanged value is not sent — NULL in the file and named in `_unchanged`; a delete carries the key.
 *   FULL:    the old row is complete, so the unchanged value is filled in (no `_unchanged` column at all) and a
 *            delete carries the whole old row.
 */

const FIELDS = ['id', 'label', 'doc'];
const TABLE = (name: string) => `create table ${name} (id bigint primary key, label text, doc text)`;
// 20 kB of incompressible text is stored out of line (TOAST): an update of another column does not resend it
const BIG = `(select string_agg(md5(g::text), '') from generate_series(1, 640) g)`;
const WORKLOAD = (table: string) => [
  `insert into ${table} values (1, 'a', ${BIG}), (2, 'b', ${BIG})`,
  `update ${table} set label = 'a2' where id = 1`,
  `delete from ${table} where id = 2`,
];

/** Two resources on one provider: `plain` (REPLICA IDENTITY DEFAULT) and `full` (FULL), one subscription each. */
function twoTables(base: Config): Config {
  const [resource] = base.resources;
  const [subscription] = base.subscriptions;
  return {
    ...base,
    resources: [
      { ...resource!, id: 'plain', table: 'public.plain' },
      { ...resource!, id: 'full', table: 'public.full_rows' },
    ],
    subscriptions: [
      { ...subscription!, id: 'plain-all', resource: 'plain' },
      { ...subscription!, id: 'full-all', resource: 'full' },
    ],
  };
}

async function busHead(stateUrl: string, resource: string): Promise<number> {
  const c = new pg.Client({ connectionString: stateUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ seq: string }>('select seq from sluice_bus_heads where resource = $1', [resource]);
    return Number(rows[0]?.seq ?? 0);
  } finally {
    await c.end();
  }
}

const SELECT = (unchanged: string) =>
  `select _op, id::varchar as id, label, length(doc)::int as doc_len, md5(doc) as doc_md5, ${unchanged} as unchanged
   from t order by _seq`;

for (const [label, binDir] of [
  ['PostgreSQL 18 (embedded)', undefined],
  ['PostgreSQL 15 (Debian)', DEBIAN_PG15_BIN],
] as const) {
  test(`${label}: an unchanged TOAST value is filled under REPLICA IDENTITY FULL and listed in _unchanged under DEFAULT; a delete carries the key or the whole old row`, async (t) => {
    const server = await startPostgres('sluice-ri-', {}, binDir);
    const work = mkdtempSync(join(tmpdir(), 'sluice-ri-run-'));
    const outDir = join(work, 'out');
    try {
      const { client, url } = await server.database('provider');
      await client.query(`${TABLE('plain')}; ${TABLE('full_rows')}; alter table full_rows replica identity full`);
      const stateUrl = (await server.database('state')).url;
      const config = twoTables(
        tableConfig({
          dataDir: join(work, 'data'),
          providerUrl: url,
          stateUrl,
          outDir,
          table: 'public.plain',
          key: ['id'],
          fields: FIELDS,
        }),
      );
      const engine = await startEngine(config, { logger: silentLogger });
      try {
        for (const table of ['plain', 'full_rows']) for (const sql of WORKLOAD(table)) await client.query(sql);
        const { rows: src } = await client.query<{ md5: string }>(`select md5(${BIG}) as md5`);
        const bigMd5 = src[0]!.md5;
        await waitFor('4 changes of each table on the bus', async () => {
          return (await busHead(stateUrl, 'plain')) >= 4 && (await busHead(stateUrl, 'full')) >= 4;
        });

        const read = async (subscription: string) => {
          const result = await engine.runCycle(subscription, new Date('2026-12-03T08:00:00Z'));
          t.is(result.files.length, 1, subscription);
          const stem = result.files[0]!.stem;
          const file = join(outDir, subscription, `${stem}.parquet`);
          const manifest = JSON.parse(readFileSync(join(outDir, subscription, `${stem}.manifest.json`), 'utf8')) as {
            columns: { name: string }[];
          };
          const hasUnchanged = manifest.columns.some((c) => c.name === '_unchanged');
          const query = SELECT(hasUnchanged ? '_unchanged::varchar' : 'null');
          return { hasUnchanged, rows: (await readWithDuckDB(file, query)).rows };
        };

        const plain = await read('plain-all');
        t.true(plain.hasUnchanged, 'DEFAULT: the file declares _unchanged');
        t.deepEqual(plain.rows, [
          { _op: 'c', id: '1', label: 'a', doc_len: 20480, doc_md5: bigMd5, unchanged: null },
          { _op: 'c', id: '2', label: 'b', doc_len: 20480, doc_md5: bigMd5, unchanged: null },
          // not sent by the server: NULL, and named as not sent — never mistaken for SQL NULL
          { _op: 'u', id: '1', label: 'a2', doc_len: null, doc_md5: null, unchanged: '[doc]' },
          // a delete with the default identity names its row by key only
          { _op: 'd', id: '2', label: null, doc_len: null, doc_md5: null, unchanged: null },
        ]);

        const full = await read('full-all');
        t.false(full.hasUnchanged, 'FULL: every value is known, so no _unchanged column');
        t.deepEqual(full.rows, [
          { _op: 'c', id: '1', label: 'a', doc_len: 20480, doc_md5: bigMd5, unchanged: null },
          { _op: 'c', id: '2', label: 'b', doc_len: 20480, doc_md5: bigMd5, unchanged: null },
          // filled from the old row the server sends under FULL
          { _op: 'u', id: '1', label: 'a2', doc_len: 20480, doc_md5: bigMd5, unchanged: null },
          // the whole old row
          { _op: 'd', id: '2', label: 'b', doc_len: 20480, doc_md5: bigMd5, unchanged: null },
        ]);
      } finally {
        await engine.drain();
      }
    } finally {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
}

import pg from 'pg';
import { SluiceError } from '../../../engine/errors.ts';
import type { Row } from '../../../schemas/index.ts';
import { quoteTable, type TableRef } from './introspect.ts';
import { PgSnapshot } from './snapshot-window.ts';
import { CANONICAL_TEXT_OPTIONS } from './type-map.ts';

/** Every value as the server's text output, as pgoutput sends it (no pg type parsing). */
const TEXT_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

export interface ChunkQuery {
  table: TableRef;
  /** Key columns with their SQL types (the keyset's order and the casts of its parameters). */
  key: { name: string; type: string }[];
  /** Columns read (key columns included), in table order. */
  columns: string[];
  after: (string | null)[] | null;
  limit: number;
}

export interface Chunk {
  snapshot: PgSnapshot;
  /** The read's time, RFC 3339 UTC with µs: `_commit_ts` of the chunk's rows. */
  readAt: string;
  rows: Row[];
  /** Key of the last row read (null when the chunk is empty). */
  last: (string | null)[] | null;
}

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** A connection for chunk reads: canonical text settings (the stream's), values as text. */
export async function connectReader(url: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    options: CANONICAL_TEXT_OPTIONS,
    connectionTimeoutMillis: 10_000,
    types: TEXT_TYPES,
    application_name: 'sluice-snapshot',
  });
  client.on('error', () => {}); // a dropped connection fails the query in flight, which the runner handles
  await client.connect();
  return client;
}

/**
 * One keyset chunk in a REPEATABLE READ transaction whose first statement records its snapshot, so that the rows and
 * the snapshot describe the same moment (snapshot-window.ts).
 */
export async function readChunk(client: pg.Client, q: ChunkQuery): Promise<Chunk> {
  const keyList = q.key.map((k) => ident(k.name)).join(', ');
  const where = q.after ? `where (${keyList}) > (${q.key.map((k, i) => `$${i + 1}::${k.type}`).join(', ')})` : '';
  const sql = `select ${q.columns.map(ident).join(', ')} from ${quoteTable(q.table)} ${where} order by ${keyList} limit ${q.limit}`;
  await client.query('begin isolation level repeatable read read only');
  try {
    const head = await client.query<{ snap: string; at: string }>(
      `select pg_current_snapshot()::text as snap,
              to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`,
    );
    const result = await client.query<(string | null)[]>({ text: sql, values: q.after ?? [], rowMode: 'array' });
    await client.query('commit');
    const names = result.fields.map((f) => f.name);
    const rows: Row[] = new Array(result.rows.length);
    for (let i = 0; i < result.rows.length; i++) {
      const values = result.rows[i]!;
      const row: Row = {};
      for (let c = 0; c < names.length; c++) row[names[c]!] = values[c] ?? null;
      rows[i] = row;
    }
    const lastRow = rows.at(-1);
    return {
      snapshot: new PgSnapshot(head.rows[0]!.snap),
      readAt: head.rows[0]!.at,
      rows,
      last: lastRow ? q.key.map((k) => lastRow[k.name] ?? null) : null,
    };
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  }
}

/** Rows of the table, estimated: the planner's count, or an exact count for a table never analysed. */
export async function estimateRows(client: pg.Client, table: TableRef): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `select c.reltuples::bigint::text as n from pg_class c join pg_namespace s on s.oid = c.relnamespace
      where s.nspname = $1 and c.relname = $2`,
    [table.schema, table.name],
  );
  const n = Number(rows[0]?.n ?? -1);
  if (n >= 0) return n;
  const counted = await client.query<{ n: string }>(`select count(*)::text as n from ${quoteTable(table)}`);
  return Number(counted.rows[0]!.n);
}

/**
 * A keyset read needs a key that names one row: the key columns must be exactly the columns of a unique index
 * (or the primary key) and not null. Throws SNAPSHOT_FAILED naming the resource and the fix otherwise.
 */
export async function checkSnapshotKey(
  client: pg.Client,
  resource: string,
  table: TableRef,
  key: readonly string[],
): Promise<void> {
  const { rows } = await client.query<{ unique: string; nullable: string | null }>(
    `with t as (select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where n.nspname = $1 and c.relname = $2)
     select exists (
              select 1 from pg_index i, t
               where i.indrelid = t.oid and i.indisunique and i.indisvalid and i.indpred is null and i.indexprs is null
                 and (select array_agg(a.attname::text order by a.attname::text) from pg_attribute a
                       where a.attrelid = i.indrelid and a.attnum = any(i.indkey))
                     = (select array_agg(k order by k) from unnest($3::text[]) k))::text as unique,
            (select string_agg(a.attname::text, ', ') from pg_attribute a, t
              where a.attrelid = t.oid and a.attname = any($3::text[]) and not a.attnotnull) as nullable`,
    [table.schema, table.name, key],
  );
  const { unique, nullable } = rows[0]!;
  const where = `${table.schema}.${table.name}`;
  // values arrive as text on this connection (TEXT_TYPES)
  if (unique !== 'true' || nullable) {
    const why =
      unique !== 'true'
        ? `no primary key or unique index is exactly (${key.join(', ')})`
        : `key column(s) ${nullable} may be NULL`;
    throw new SluiceError(
      'SOURCE_FAILED',
      `resource "${resource}": cannot snapshot ${where}: ${why}, so a chunked read in key order could skip or repeat rows`,
      {
        details: {
          resource,
          table: where,
          recovery: `add a primary key (or a unique index with NOT NULL columns) on (${key.join(', ')}), or declare such a key as the resource key`,
        },
      },
    );
  }
}

import type pg from 'pg';
import { SluiceError } from '../../../engine/errors.ts';
import type { PgColumn } from './type-map.ts';

export interface TableRef {
  schema: string;
  name: string;
}

/** `public.t` or `t` (meaning public.t). Identifiers are plain (validated), so quoting cannot be escaped. */
export function parseTable(table: string): TableRef {
  const parts = table.split('.');
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: 'public', name: parts[0]! };
}

export const quoteTable = (t: TableRef) => `"${t.schema}"."${t.name}"`;

/** The table's live columns, in table order; throws a clear error when the table does not exist. */
export async function introspectTable(client: pg.ClientBase, t: TableRef): Promise<PgColumn[]> {
  const { rows } = await client.query<PgColumn>(
    `select a.attname as name,
            format_type(coalesce(nullif(ty.typbasetype, 0), a.atttypid),
                        case when ty.typtype = 'd' then ty.typtypmod else a.atttypmod end) as type,
            coalesce(bt.typtype, ty.typtype) as typtype,
            coalesce(bt.typcategory, ty.typcategory) as category,
            a.attnotnull as "notNull",
            format_type(coalesce(nullif(et.typbasetype, 0), et.oid),
                        case when et.typtype = 'd' then et.typtypmod
                             when ty.typtype = 'd' then ty.typtypmod else a.atttypmod end) as "elementType",
            coalesce(ebt.typtype, et.typtype) as "elementTyptype",
            et.typdelim as "elementDelim"
       from pg_attribute a
       join pg_class c on c.oid = a.attrelid
       join pg_namespace n on n.oid = c.relnamespace
       join pg_type ty on ty.oid = a.atttypid
       left join pg_type bt on ty.typtype = 'd' and bt.oid = ty.typbasetype
       -- arrays (also behind a domain): the element type, itself resolved through a domain
       left join pg_type et on coalesce(bt.typcategory, ty.typcategory) = 'A'
                           and et.oid = coalesce(bt.typelem, ty.typelem) and et.oid <> 0
       left join pg_type ebt on et.typtype = 'd' and ebt.oid = et.typbasetype
      where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [t.schema, t.name],
  );
  if (rows.length === 0) {
    throw new SluiceError('SOURCE_FAILED', `table ${t.schema}.${t.name} does not exist in the provider database`, {
      details: { table: `${t.schema}.${t.name}` },
    });
  }
  return rows;
}

/** What a table's deletes and key-changing updates carry: its replica identity and that identity's columns. */
export async function replicaIdentity(
  client: pg.ClientBase,
  t: TableRef,
): Promise<{ mode: 'default' | 'full' | 'nothing' | 'index'; columns: string[] }> {
  const { rows } = await client.query<{ mode: string; columns: string[] | null }>(
    `select c.relreplident as mode,
            (select array_agg(a.attname order by a.attnum)
               from pg_index i
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
              where i.indrelid = c.oid
                and ((c.relreplident = 'd' and i.indisprimary) or (c.relreplident = 'i' and i.indisreplident))) as columns
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2`,
    [t.schema, t.name],
  );
  const row = rows[0];
  const mode = ({ d: 'default', f: 'full', n: 'nothing', i: 'index' } as const)[row?.mode as 'd' | 'f' | 'n' | 'i'];
  return { mode: mode ?? 'default', columns: row?.columns ?? [] };
}

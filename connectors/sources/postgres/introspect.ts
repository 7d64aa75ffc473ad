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

/**
 * What the type map needs of a type `x.oid` used with modifier `x.typmod` (a domain as its base type, an array with
 * its element): shared by the table introspection and the types of a relation the stream announces.
 */
const TYPE_INFO = `format_type(coalesce(nullif(ty.typbasetype, 0), ty.oid),
                               case when ty.typtype = 'd' then ty.typtypmod else x.typmod end) as type,
            coalesce(bt.typtype, ty.typtype) as typtype,
            coalesce(bt.typcategory, ty.typcategory) as category,
            format_type(coalesce(nullif(et.typbasetype, 0), et.oid),
                        case when et.typtype = 'd' then et.typtypmod
                             when ty.typtype = 'd' then ty.typtypmod else x.typmod end) as "elementType",
            coalesce(ebt.typtype, et.typtype) as "elementTyptype",
            et.typdelim as "elementDelim"`;
const TYPE_JOINS = `left join pg_type ty on ty.oid = x.oid
       left join pg_type bt on ty.typtype = 'd' and bt.oid = ty.typbasetype
       -- arrays (also behind a domain): the element type, itself resolved through a domain
       left join pg_type et on coalesce(bt.typcategory, ty.typcategory) = 'A'
                           and et.oid = coalesce(bt.typelem, ty.typelem) and et.oid <> 0
       left join pg_type ebt on et.typtype = 'd' and ebt.oid = et.typbasetype`;

/** The table's live columns, in table order; throws a clear error when the table does not exist. */
export async function introspectTable(client: pg.ClientBase, t: TableRef): Promise<PgColumn[]> {
  const { rows } = await client.query<PgColumn>(
    `with x as (
       select a.attnum, a.attname as name, a.atttypid as oid, a.atttypmod as typmod, a.attnotnull as "notNull"
         from pg_attribute a
         join pg_class c on c.oid = a.attrelid
         join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped)
     select x.name, x.oid as "typeOid", x.typmod, x."notNull", ${TYPE_INFO}
       from x ${TYPE_JOINS}
      order by x.attnum`,
    [t.schema, t.name],
  );
  if (rows.length === 0) {
    throw new SluiceError('SOURCE_FAILED', `table ${t.schema}.${t.name} does not exist in the provider database`, {
      details: { table: `${t.schema}.${t.name}` },
    });
  }
  return rows.map((r) => ({ ...r, typeOid: Number(r.typeOid) })); // an oid may arrive as text
}

/**
 * The columns of a relation as the stream announced them (name, type oid and modifier, as of that point of the WAL),
 * described like introspected ones. A type dropped since is described as `oid <n>` (delivered as text); nullability
 * is not announced, so every such column counts as nullable.
 */
export async function describeRelationColumns(
  client: pg.ClientBase | pg.Pool,
  columns: { name: string; typeOid: number; typmod: number }[],
): Promise<PgColumn[]> {
  const { rows } = await client.query<Omit<PgColumn, 'name' | 'typeOid' | 'typmod' | 'notNull'> & { n: string }>(
    `with x as (select * from unnest($1::oid[], $2::int4[]) with ordinality as u(oid, typmod, n))
     select x.n, ${TYPE_INFO} from x ${TYPE_JOINS} order by x.n`,
    [columns.map((c) => c.typeOid), columns.map((c) => c.typmod)],
  );
  return columns.map((c, i) => {
    const r = rows[i]!;
    return {
      ...r,
      type: r.type ?? `oid ${c.typeOid}`,
      typtype: r.typtype ?? 'b',
      category: r.category ?? '',
      name: c.name,
      typeOid: c.typeOid,
      typmod: c.typmod,
      notNull: false,
    };
  });
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

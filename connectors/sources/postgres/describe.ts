import type pg from 'pg';
import type { DescribedColumn, DescribedTable } from '../../../engine/catalog/index.ts';
import { introspectTable, replicaIdentity, type TableRef } from './introspect.ts';
import { columnTypeFor } from './type-map.ts';

/**
 * A table as the catalog shows it: every live column (classified or not) with its type, length or precision from
 * the database, nullability, primary-key membership and comment, plus the table's comment and estimated row count.
 */
export async function describeTable(client: pg.ClientBase, t: TableRef): Promise<DescribedTable> {
  const columns = await introspectTable(client, t);
  const { rows } = await client.query<{
    name: string;
    length: number | null;
    precision: number | null;
    scale: number | null;
    comment: string | null;
    pk: boolean;
  }>(
    `select a.attname as name,
            information_schema._pg_char_max_length(information_schema._pg_truetypid(a.*, ty.*),
                                                   information_schema._pg_truetypmod(a.*, ty.*)) as length,
            information_schema._pg_numeric_precision(information_schema._pg_truetypid(a.*, ty.*),
                                                     information_schema._pg_truetypmod(a.*, ty.*)) as precision,
            information_schema._pg_numeric_scale(information_schema._pg_truetypid(a.*, ty.*),
                                                 information_schema._pg_truetypmod(a.*, ty.*)) as scale,
            col_description(c.oid, a.attnum) as comment,
            coalesce(a.attnum = any(i.indkey), false) as pk
       from pg_attribute a
       join pg_class c on c.oid = a.attrelid
       join pg_namespace n on n.oid = c.relnamespace
       join pg_type ty on ty.oid = a.atttypid
       left join pg_index i on i.indrelid = c.oid and i.indisprimary
      where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [t.schema, t.name],
  );
  const { rows: table } = await client.query<{ comment: string | null; estimate: string }>(
    `select obj_description(c.oid, 'pg_class') as comment, greatest(c.reltuples, 0)::bigint::text as estimate
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
    [t.schema, t.name],
  );
  const extra = new Map(rows.map((r) => [r.name, r]));
  const identity = await replicaIdentity(client, t);
  return {
    table: `${t.schema}.${t.name}`,
    ...(table[0]?.comment ? { comment: table[0].comment } : {}),
    estimatedRows: Number(table[0]?.estimate ?? 0),
    replicaIdentity: identity.mode,
    columns: columns.map((c): DescribedColumn => {
      const x = extra.get(c.name);
      return {
        name: c.name,
        sourceType: c.type,
        type: columnTypeFor(c),
        nullable: !c.notNull,
        primaryKey: x?.pk ?? false,
        ...(x?.length != null ? { length: x.length } : {}),
        ...(x?.precision != null && c.category === 'N' ? { precision: x.precision } : {}),
        ...(x?.scale != null && c.category === 'N' ? { scale: x.scale } : {}),
        ...(x?.comment ? { comment: x.comment } : {}),
      };
    }),
  };
}

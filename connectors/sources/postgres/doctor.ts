import type pg from 'pg';
import { filterFieldRefs, parseFilter } from '../../../engine/rules/filter/index.ts';
import type { Config } from '../../../schemas/index.ts';
import { judgeProvider, type DoctorCheck, type ProviderFacts, type TableFacts } from './doctor-rules.ts';
import { parseTable, replicaIdentity } from './introspect.ts';

/** Reads what `sluice doctor` judges from a provider database, through an ordinary connection. */
export async function providerFacts(client: pg.ClientBase, cfg: Config, provider: string): Promise<ProviderFacts> {
  const slot = `sluice_${provider.replaceAll('-', '_')}`;
  const { rows } = await client.query<{
    version: string;
    wal_level: string;
    slots: string;
    senders: string;
    keep: string;
    role: string;
    superuser: boolean;
    replication: boolean;
    can_create: boolean;
  }>(
    `select current_setting('server_version_num') as version, current_setting('wal_level') as wal_level,
            current_setting('max_replication_slots') as slots, current_setting('max_wal_senders') as senders,
            coalesce((select setting from pg_settings where name = 'max_slot_wal_keep_size'), '-1') as keep,
            current_user as role, r.rolsuper as superuser, r.rolreplication as replication,
            has_database_privilege(current_database(), 'CREATE') as can_create
       from pg_roles r where r.rolname = current_user`,
  );
  const s = rows[0]!;
  const { rows: slotRows } = await client.query<{ ours: boolean; n: string }>(
    `select (slot_name = $1) as ours, count(*)::text as n from pg_replication_slots group by 1`,
    [slot],
  );
  const { rows: senderRows } = await client.query<{ n: string }>(`select count(*)::text as n from pg_stat_replication`);
  const { rows: pub } = await client.query('select 1 from pg_publication where pubname = $1', [slot]);
  const tables: TableFacts[] = [];
  for (const r of cfg.resources) {
    if (r.provider !== provider) continue;
    const t = parseTable(r.table);
    const name = `${t.schema}.${t.name}`;
    const key = r.key;
    const { rows: info } = await client.query<{
      owner: string;
      owned: boolean;
      can_select: boolean;
      in_pub: boolean;
      pk: string[] | null;
      columns: string[];
    }>(
      `select pg_get_userbyid(c.relowner) as owner, pg_has_role(current_user, c.relowner, 'USAGE') as owned,
              has_table_privilege(c.oid, 'SELECT') as can_select,
              exists (select 1 from pg_publication_tables p where p.pubname = $3 and p.schemaname = $1 and p.tablename = $2) as in_pub,
              (select array_agg(a.attname order by a.attnum) from pg_index x
                 join pg_attribute a on a.attrelid = x.indrelid and a.attnum = any(x.indkey)
                where x.indrelid = c.oid and x.indisprimary) as pk,
              array(select attname from pg_attribute where attrelid = c.oid and attnum > 0 and not attisdropped) as columns
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2`,
      [t.schema, t.name, slot],
    );
    const x = info[0];
    if (!x) {
      tables.push({ resource: r.id, table: name, exists: false, key });
      continue;
    }
    const identity = await replicaIdentity(client, t);
    const wanted = [...new Set([...key, ...Object.keys(r.fields)])];
    const filteredOnNonKey = cfg.subscriptions.some((sub) => {
      if (sub.resource !== r.id || !sub.filter) return false;
      const parsed = parseFilter(sub.filter);
      return parsed.ok && filterFieldRefs(parsed.ast).some((ref) => !key.includes(ref.name));
    });
    tables.push({
      resource: r.id,
      table: name,
      exists: true,
      owner: x.owner,
      ownedByUs: x.owned,
      canSelect: x.can_select,
      inPublication: x.in_pub,
      replicaIdentity: identity.mode,
      primaryKey: x.pk ?? [],
      identityColumns: identity.mode === 'full' ? x.columns : identity.columns,
      key,
      missingColumns: wanted.filter((c) => !x.columns.includes(c)),
      filteredOnNonKey,
    });
  }
  return {
    provider,
    serverVersion: Number(s.version),
    walLevel: s.wal_level,
    maxReplicationSlots: Number(s.slots),
    otherSlots: Number(slotRows.find((r) => !r.ours)?.n ?? 0),
    ourSlotExists: slotRows.some((r) => r.ours),
    maxWalSenders: Number(s.senders),
    activeWalSenders: Number(senderRows[0]?.n ?? 0),
    maxSlotWalKeepSizeMb: Number(s.keep),
    role: s.role,
    superuser: s.superuser,
    replication: s.replication,
    canCreateInDatabase: s.can_create,
    publicationExists: pub.length > 0,
    tables,
  };
}

/** Facts and verdicts of one provider. */
export async function diagnoseProvider(client: pg.ClientBase, cfg: Config, provider: string): Promise<DoctorCheck[]> {
  return judgeProvider(await providerFacts(client, cfg, provider));
}

/**
 * `sluice doctor`'s verdicts on a provider database, from facts gathered by doctor.ts: pure, so every rule is tested
 * on its own. Each check says in plain words what is wrong and what a DBA runs to fix it.
 */

/** What doctor.ts reads from the provider. */
export interface ProviderFacts {
  provider: string;
  serverVersion: number;
  walLevel: string;
  maxReplicationSlots: number;
  /** Slots other than ours (they take from max_replication_slots). */
  otherSlots: number;
  ourSlotExists: boolean;
  maxWalSenders: number;
  activeWalSenders: number;
  /** -1 = unlimited (MB otherwise). */
  maxSlotWalKeepSizeMb: number;
  role: string;
  superuser: boolean;
  replication: boolean;
  canCreateInDatabase: boolean;
  publicationExists: boolean;
  tables: TableFacts[];
}

export interface TableFacts {
  /** The resource id. */
  resource: string;
  table: string;
  exists: boolean;
  owner?: string;
  /** The connecting role owns the table (directly or through a role it is a member of). */
  ownedByUs?: boolean;
  canSelect?: boolean;
  inPublication?: boolean;
  replicaIdentity?: 'default' | 'full' | 'nothing' | 'index';
  primaryKey?: string[];
  /** The columns the replica identity names (the primary key's for default). */
  identityColumns?: string[];
  /** The resource's configured key. */
  key: string[];
  /** Configured columns (key and fields) that the table lacks. */
  missingColumns?: string[];
  /** Whether a subscription filters this resource on non-key columns (needs FULL). */
  filteredOnNonKey?: boolean;
}

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  id: string;
  /** What is checked, e.g. `wal_level`, `table public.people: replica identity`. */
  subject: string;
  status: CheckStatus;
  /** Plain words: what was found and why it matters. */
  detail: string;
  /** What to run or change (fail and warn). */
  fix?: string;
}

const q = (id: string) => `"${id.replaceAll('"', '""')}"`;

/** Every check of one provider, in the order a DBA would fix them. */
export function judgeProvider(f: ProviderFacts): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  const add = (c: DoctorCheck) => out.push(c);
  const slot = `sluice_${f.provider.replaceAll('-', '_')}`;

  add(
    f.serverVersion >= 140000
      ? { id: 'version', subject: 'server version', status: 'ok', detail: `PostgreSQL ${pgVersion(f.serverVersion)}` }
      : {
          id: 'version',
          subject: 'server version',
          status: 'fail',
          detail: `PostgreSQL ${pgVersion(f.serverVersion)} cannot stream large transactions (pgoutput protocol 2 needs 14 or later)`,
          fix: 'upgrade the server to PostgreSQL 14 or later',
        },
  );
  add(
    f.walLevel === 'logical'
      ? { id: 'wal_level', subject: 'wal_level', status: 'ok', detail: 'logical' }
      : {
          id: 'wal_level',
          subject: 'wal_level',
          status: 'fail',
          detail: `wal_level is "${f.walLevel}": the server writes no logical decoding information, so no change can be read`,
          fix: 'ALTER SYSTEM SET wal_level = logical; then restart the server',
        },
  );
  const slotsFree = f.maxReplicationSlots - f.otherSlots - (f.ourSlotExists ? 1 : 0);
  add(
    f.ourSlotExists || slotsFree >= 1
      ? {
          id: 'slots',
          subject: 'max_replication_slots',
          status: slotsFree >= 1 || f.ourSlotExists ? 'ok' : 'warn',
          detail: f.ourSlotExists
            ? `slot ${slot} exists; ${f.otherSlots} other slot(s) of ${f.maxReplicationSlots}`
            : `${slotsFree} of ${f.maxReplicationSlots} free; Sluice needs one (${slot})`,
        }
      : {
          id: 'slots',
          subject: 'max_replication_slots',
          status: 'fail',
          detail: `all ${f.maxReplicationSlots} replication slots are taken (${f.otherSlots} in use): Sluice cannot create ${slot}`,
          fix: `ALTER SYSTEM SET max_replication_slots = ${f.otherSlots + 2}; then restart the server (or drop an unused slot)`,
        },
  );
  const sendersFree = f.maxWalSenders - f.activeWalSenders;
  add(
    sendersFree >= 1
      ? {
          id: 'senders',
          subject: 'max_wal_senders',
          status: 'ok',
          detail: `${sendersFree} of ${f.maxWalSenders} free; Sluice uses one per provider`,
        }
      : {
          id: 'senders',
          subject: 'max_wal_senders',
          status: 'fail',
          detail: `all ${f.maxWalSenders} WAL senders are busy: Sluice's replication connection would be refused`,
          fix: `ALTER SYSTEM SET max_wal_senders = ${f.maxWalSenders + 2}; then restart the server`,
        },
  );
  add(
    f.maxSlotWalKeepSizeMb < 0
      ? {
          id: 'wal_keep',
          subject: 'max_slot_wal_keep_size',
          status: 'warn',
          detail:
            'unlimited: a slot that stops advancing (Sluice stopped, or stalled) keeps WAL until the disk fills. Sluice alerts on a stall (sluice_source_stalled), but only a limit protects the server',
          fix: "ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; SELECT pg_reload_conf(); — past it the server invalidates the slot and Sluice stops with SLOT_INVALID (recovery: a re-snapshot)",
        }
      : {
          id: 'wal_keep',
          subject: 'max_slot_wal_keep_size',
          status: 'ok',
          detail: `${f.maxSlotWalKeepSizeMb} MB: a slot further behind is invalidated by the server (Sluice then stops with SLOT_INVALID; recovery is a re-snapshot)`,
        },
  );
  add(
    f.replication || f.superuser
      ? {
          id: 'replication',
          subject: `role ${f.role}: REPLICATION`,
          status: 'ok',
          detail: f.superuser ? 'superuser' : 'has REPLICATION',
        }
      : {
          id: 'replication',
          subject: `role ${f.role}: REPLICATION`,
          status: 'fail',
          detail: `role ${f.role} may not open a replication connection or create a slot`,
          fix: `ALTER ROLE ${q(f.role)} WITH REPLICATION;`,
        },
  );
  if (!f.publicationExists) {
    add(
      f.canCreateInDatabase || f.superuser
        ? {
            id: 'publication',
            subject: `publication ${slot}`,
            status: 'ok',
            detail: 'will be created by Sluice (the role may create in this database)',
          }
        : {
            id: 'publication',
            subject: `publication ${slot}`,
            status: 'fail',
            detail: `publication ${slot} does not exist and role ${f.role} may not create one in this database`,
            fix: `GRANT CREATE ON DATABASE <this database> TO ${q(f.role)}; (or create the publication as the tables' owner: CREATE PUBLICATION ${slot} FOR TABLE …)`,
          },
    );
  }
  for (const t of f.tables) judgeTable(t, f, slot, add);
  return out;
}

function judgeTable(t: TableFacts, f: ProviderFacts, slot: string, add: (c: DoctorCheck) => void): void {
  const s = (what: string) => `${t.resource} (${t.table}): ${what}`;
  if (!t.exists) {
    add({
      id: 'table',
      subject: s('table'),
      status: 'fail',
      detail: `table ${t.table} does not exist (or the role cannot see it)`,
      fix: `check resources[].table, or GRANT USAGE ON SCHEMA … TO ${q(f.role)}`,
    });
    return;
  }
  if (t.missingColumns && t.missingColumns.length > 0) {
    add({
      id: 'columns',
      subject: s('columns'),
      status: 'fail',
      detail: `configured column(s) ${t.missingColumns.map((c) => `"${c}"`).join(', ')} do not exist in ${t.table}`,
      fix: 'correct resources[].key / fields, or add the columns',
    });
  }
  add(
    t.canSelect || f.superuser
      ? { id: 'select', subject: s('SELECT'), status: 'ok', detail: 'readable (snapshots and quality scans)' }
      : {
          id: 'select',
          subject: s('SELECT'),
          status: 'fail',
          detail: `role ${f.role} cannot read ${t.table}: snapshots, backfills and quality scans need SELECT`,
          fix: `GRANT SELECT ON ${t.table} TO ${q(f.role)};`,
        },
  );
  if (!t.inPublication) {
    add(
      t.ownedByUs || f.superuser
        ? {
            id: 'publish',
            subject: s('publication'),
            status: 'ok',
            detail: `owned by ${f.role}: Sluice adds it to ${slot}`,
          }
        : {
            id: 'publish',
            subject: s('publication'),
            status: 'fail',
            detail: `${t.table} is owned by ${t.owner} and not in ${slot}: only its owner can add it to a publication`,
            fix: `as ${t.owner}: CREATE PUBLICATION ${slot} FOR TABLE ${t.table}; (or ALTER PUBLICATION ${slot} ADD TABLE ${t.table}), or make ${f.role} a member of ${t.owner}`,
          },
    );
  }
  const pk = t.primaryKey ?? [];
  const identity = t.replicaIdentity ?? 'default';
  const keyCovered = t.key.every((k) => (t.identityColumns ?? []).includes(k));
  if (identity === 'nothing' || (identity === 'default' && pk.length === 0)) {
    add({
      id: 'identity',
      subject: s('replica identity'),
      status: 'fail',
      detail:
        identity === 'nothing'
          ? 'REPLICA IDENTITY NOTHING: updates and deletes carry no key, so a delete could not name its row'
          : 'no primary key and REPLICA IDENTITY DEFAULT: updates and deletes carry no key, so a delete could not name its row',
      fix: `ALTER TABLE ${t.table} ADD PRIMARY KEY (${t.key.join(', ')}); or ALTER TABLE ${t.table} REPLICA IDENTITY FULL;`,
    });
  } else if (identity === 'full') {
    add({
      id: 'identity',
      subject: s('replica identity'),
      status: 'ok',
      detail:
        'FULL: updates and deletes carry the whole old row (filters on any column; unchanged large values filled in)',
    });
  } else if (!keyCovered) {
    add({
      id: 'identity',
      subject: s('replica identity'),
      status: 'fail',
      detail: `the configured key (${t.key.join(', ')}) is not the table's replica identity (${(t.identityColumns ?? []).join(', ') || 'none'}): deletes would carry other columns`,
      fix: `set resources[].key to [${(t.identityColumns ?? []).join(', ')}], or ALTER TABLE ${t.table} REPLICA IDENTITY FULL;`,
    });
  } else if (t.filteredOnNonKey) {
    add({
      id: 'identity',
      subject: s('replica identity'),
      status: 'fail',
      detail:
        'REPLICA IDENTITY DEFAULT, but a subscription filters on non-key columns: an update moving a row out of the filter could not be seen without the old row',
      fix: `ALTER TABLE ${t.table} REPLICA IDENTITY FULL;`,
    });
  } else {
    add({
      id: 'identity',
      subject: s('replica identity'),
      status: 'warn',
      detail:
        'DEFAULT (the primary key): deletes carry the key only, unchanged large (TOAST) values are listed in _unchanged rather than sent, and filters may use key columns only; FULL would lift all three at the cost of more WAL on updates and deletes',
      fix: `ALTER TABLE ${t.table} REPLICA IDENTITY FULL; (optional)`,
    });
  }
  if (pk.length === 0 && identity === 'full') {
    add({
      id: 'pk',
      subject: s('primary key'),
      status: 'warn',
      detail:
        'no primary key: Sluice relies on the configured key being unique; duplicates show in sluice quality --scan',
      fix: `ALTER TABLE ${t.table} ADD PRIMARY KEY (${t.key.join(', ')});`,
    });
  }
}

function pgVersion(n: number): string {
  return `${Math.floor(n / 10000)}.${n % 10000}`;
}

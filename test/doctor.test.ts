import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { DoctorCheck } from '../connectors/sources/postgres/doctor-rules.ts';
import type { Config } from '../schemas/index.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { startPostgres, type TestPostgres } from './helpers/postgres.ts';

let good: TestPostgres;
let bad: TestPostgres;
let work: string;

const TABLES = `
  create table people (id bigint primary key, name text, region text);
  create table nopk (id bigint, v text);
  create table nothing_t (id bigint primary key, v text);
  alter table nothing_t replica identity nothing;
  create table fullt (id bigint, v text);
  alter table fullt replica identity full;
  create role weak login password 'weak';
  grant select on people to weak;`;

function config(url: string): Config {
  const field = { level: 'general', share: 'unconditional' } as const;
  return {
    dataDir: join(work, 'data'),
    state: { url: 'postgres://unused@127.0.0.1:1/x' },
    providers: [{ id: 'prov', connector: { kind: 'postgres', url } }],
    resources: [
      { id: 'people', provider: 'prov', table: 'people', key: ['id'], fields: { id: field, region: field } },
      { id: 'nopk', provider: 'prov', table: 'nopk', key: ['id'], fields: { id: field, v: field } },
      { id: 'nothing', provider: 'prov', table: 'nothing_t', key: ['id'], fields: { id: field } },
      { id: 'full', provider: 'prov', table: 'fullt', key: ['id'], fields: { id: field, v: field, gone: field } },
      { id: 'missing', provider: 'prov', table: 'no_such_table', key: ['id'], fields: { id: field } },
    ],
    subscribers: [{ id: 'audit', clearance: 4 }],
    subscriptions: [
      {
        id: 'east',
        subscriber: 'audit',
        resource: 'people',
        fields: ['id', 'region'],
        filter: "region = '110105'",
        purpose: 'audit',
        businessSystem: 'audit',
        delivery: { mode: 'batch', cadence: '0 0 1 1 *', dir: join(work, 'out') },
      },
    ],
  };
}

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sluice-doctor-'));
  good = await startPostgres('sluice-doctor-good-');
  await (await good.database('provider')).client.query(TABLES);
  bad = await startPostgres('sluice-doctor-bad-', {
    wal_level: 'replica',
    max_replication_slots: '1',
    max_wal_senders: '1',
  });
  const c = (await bad.database('provider')).client;
  await c.query(TABLES);
  await c.query(`select pg_create_physical_replication_slot('someone_elses')`);
});

test.after.always(async () => {
  await good?.stop();
  await bad?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function doctor(url: string, name: string) {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, stringify(config(url)));
  const p = spawnSluice(['doctor', '-c', file, '--json']);
  const { code } = await exitWithin(p, 30_000);
  const json = JSON.parse(p.output().slice(p.output().indexOf('{'))) as { providers: { checks: DoctorCheck[] }[] };
  const checks = json.providers[0]!.checks;
  const of = (subject: RegExp) => checks.filter((c) => subject.test(c.subject));
  return { code, checks, of };
}

test.serial(
  'a role without REPLICATION, publication rights or table ownership: each failure explained with its fix',
  async (t) => {
    const weak = good.url('provider').replace(/\/\/[^@]+@/, '//weak:weak@');
    const { code, of } = await doctor(weak, 'weak');
    t.is(code, 1);
    t.like(of(/REPLICATION/)[0], { status: 'fail', fix: 'ALTER ROLE "weak" WITH REPLICATION;' });
    t.like(of(/^publication sluice_prov/)[0], { status: 'fail' });
    t.regex(of(/^publication sluice_prov/)[0]!.fix!, /GRANT CREATE ON DATABASE/);
    t.like(of(/people \(public\.people\): SELECT/)[0], { status: 'ok' });
    t.like(of(/nopk \(public\.nopk\): SELECT/)[0], { status: 'fail', fix: 'GRANT SELECT ON public.nopk TO "weak";' });
    const publish = of(/people \(public\.people\): publication/)[0]!;
    t.is(publish.status, 'fail');
    t.regex(publish.detail, /owned by postgres and not in sluice_prov: only its owner can add it/);
  },
);

test.serial(
  'each table-level misconfiguration: replica identity, primary key, missing table and columns, filters needing FULL',
  async (t) => {
    const { code, of } = await doctor(good.url('provider'), 'tables');
    t.is(code, 1);
    const identity = (r: string) => of(new RegExp(`^${r} .*replica identity`))[0]!;
    t.like(identity('people'), { status: 'fail', fix: 'ALTER TABLE public.people REPLICA IDENTITY FULL;' });
    t.regex(identity('people').detail, /a subscription filters on non-key columns/);
    t.like(identity('nopk'), { status: 'fail' });
    t.regex(identity('nopk').detail, /no primary key and REPLICA IDENTITY DEFAULT/);
    t.regex(identity('nothing').detail, /REPLICA IDENTITY NOTHING/);
    t.like(identity('full'), { status: 'ok' });
    t.like(of(/^full .*primary key/)[0], { status: 'warn' });
    t.like(of(/^full .*columns/)[0], { status: 'fail' });
    t.regex(of(/^full .*columns/)[0]!.detail, /"gone" do not exist/);
    t.like(of(/^missing .*table/)[0], { status: 'fail' });
    t.like(of(/max_slot_wal_keep_size/)[0], { status: 'warn' }); // unlimited by default
    t.like(of(/REPLICATION/)[0], { status: 'ok' }); // superuser
    t.like(of(/^wal_level/)[0], { status: 'ok', detail: 'logical' });
  },
);

test.serial(
  'server settings: wal_level, no free replication slot; a healthy setup passes with warnings only',
  async (t) => {
    const { code, of } = await doctor(bad.url('provider'), 'server');
    t.is(code, 1);
    t.like(of(/^wal_level/)[0], {
      status: 'fail',
      fix: 'ALTER SYSTEM SET wal_level = logical; then restart the server',
    });
    t.like(of(/^max_replication_slots/)[0], { status: 'fail' });
    t.regex(of(/^max_replication_slots/)[0]!.detail, /all 1 replication slots are taken/);

    // the good server with the table problems fixed: exit 0 (warnings only)
    const fix = (await good.database('provider')).client;
    await fix.query(`alter table people replica identity full; alter table nopk add primary key (id);
    alter table nothing_t replica identity default`);
    await fix.query(`alter system set max_slot_wal_keep_size = '1GB'`);
    await fix.query(`select pg_reload_conf()`);
    const cfg = config(good.url('provider'));
    cfg.resources = cfg.resources.filter((r) => r.id !== 'missing');
    cfg.resources.find((r) => r.id === 'full')!.fields = { id: { level: 'general', share: 'unconditional' } };
    const file = join(work, 'fixed.yaml');
    writeFileSync(file, stringify(cfg));
    const p = spawnSluice(['doctor', '-c', file]);
    const { code: fixed } = await exitWithin(p, 30_000);
    t.is(fixed, 0, p.output());
    t.regex(
      p.output(),
      /WARN {2}nopk \(public\.nopk\): replica identity: DEFAULT \(the primary key\): deletes carry the key only/,
    );
    t.regex(p.output(), /ok {4}max_slot_wal_keep_size: 1024 MB/);

    const gone = join(work, 'gone.yaml');
    writeFileSync(gone, stringify(config('postgres://x@127.0.0.1:1/none')));
    const u = spawnSluice(['doctor', '-c', gone]);
    t.is((await exitWithin(u, 30_000)).code, 3);
    t.regex(u.output(), /FAIL {2}cannot connect/);
  },
);

import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { stringify } from 'yaml';
import type { CatalogResource } from '../engine/catalog/index.ts';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { Config } from '../schemas/index.ts';
import { RELIEF_DDL, reliefConfig } from './helpers/config.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { startPostgres, waitFor, type TestPostgres } from './helpers/postgres.ts';

let pgServer: TestPostgres;
let provider: pg.Client;
let state: pg.Client;
let engine: Engine | undefined;
let work: string;
let configFile: string;
let config: Config;

test.before(async () => {
  pgServer = await startPostgres();
  ({ client: provider } = await pgServer.database('provider'));
  await provider.query(RELIEF_DDL);
  await provider.query(`alter table relief_recipients add column region varchar(6)`);
  await provider.query(`comment on column relief_recipients.region is 'administrative division code'`);
  let stateUrl: string;
  ({ client: state, url: stateUrl } = await pgServer.database('state'));
  work = mkdtempSync(join(tmpdir(), 'sluice-catalog-'));
  config = reliefConfig({
    dataDir: join(work, 'data'),
    providerUrl: pgServer.url('provider'),
    stateUrl,
    outDir: join(work, 'out'),
  });
  await provider.query(`create table qa_people (id bigint, id_card char(18), region varchar(6), name text);
    alter table qa_people replica identity full`);
  config.resources.push({
    id: 'qa-people',
    provider: 'civil-affairs',
    table: 'qa_people',
    key: ['id'],
    fields: {
      id: { level: 'general', share: 'unconditional' },
      id_card: { level: 'important', tag: 'cn_id_card', share: 'conditional' },
      region: { level: 'general', share: 'unconditional', codeTable: { '110101': '东城区', '110102': '西城区' } },
      name: { level: 'important', tag: 'person_name', share: 'conditional', required: true },
    },
  });
  config.resources[0]!.abstract = 'Recipients of the minimum living allowance';
  config.resources[0]!.updateCycle = 'real-time';
  configFile = join(work, 'sluice.yaml');
  writeFileSync(configFile, stringify(config));
  engine = await startEngine(config, { logger: silentLogger });
});

test.after.always(async () => {
  await engine?.drain();
  await pgServer?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function sluice(args: string[]) {
  const p = spawnSluice([...args, '-c', configFile]);
  const { code } = await exitWithin(p, 30_000);
  return { code, out: p.output() };
}

async function catalog(): Promise<CatalogResource> {
  const { code, out } = await sluice(['catalog', 'relief-recipients', '--json']);
  if (code !== 0) throw new Error(out);
  return (JSON.parse(out) as { resources: CatalogResource[] }).resources[0]!;
}

/** The columns of the after image of the last event on the bus for relief-recipients. */
async function lastBusColumns(): Promise<string[]> {
  const { rows } = await state.query<{ cols: string[] }>(
    `select array(select jsonb_object_keys(event -> 'after') order by 1) as cols from sluice_bus_events
      where resource = 'relief-recipients' order by seq desc limit 1`,
  );
  return rows[0]?.cols ?? [];
}

test.serial(
  'sluice catalog: every column of the table with its database type and length; unlisted ones unclassified',
  async (t) => {
    const r = await catalog();
    t.is(r.abstract, 'Recipients of the minimum living allowance');
    t.is(r.updateCycle, 'real-time');
    t.is(r.table, 'public.relief_recipients');
    const byName = new Map(r.fields.map((f) => [f.name, f]));
    t.deepEqual(
      r.fields.map((f) => f.name),
      ['id', 'name', 'id_card', 'mobile', 'amount', 'big', 'paid_at', 'notes', 'diagnosis', 'secret_note', 'region'],
    );
    t.like(byName.get('id'), {
      status: 'classified',
      key: true,
      sourceType: 'bigint',
      nullable: false,
      classifiedBy: 'config',
    });
    t.like(byName.get('id_card'), {
      sourceType: 'character(18)',
      length: 18,
      classification: { level: 'important', tag: 'cn_id_card', share: 'conditional' },
    });
    t.like(byName.get('amount'), { sourceType: 'numeric(20,4)', precision: 20, scale: 4, type: 'decimal(20,4)' });
    t.like(byName.get('region'), {
      status: 'unclassified',
      sourceType: 'character varying(6)',
      length: 6,
      comment: 'administrative division code',
    });
    t.is(byName.get('region')!.classification, undefined);
    t.like(byName.get('diagnosis'), { classification: { level: 'core', share: 'none' } });

    const table = await sluice(['catalog']);
    t.is(table.code, 0, table.out);
    t.regex(table.out, /^relief-recipients\n {2}provider: civil-affairs; table public\.relief_recipients; key id$/m);
    t.regex(table.out, /region +character varying\(6\) +yes +UNCLASSIFIED +never/);
  },
);

test.serial(
  'sluice classify: a runtime classification enters the platform at once and is shown as an override',
  async (t) => {
    await provider.query(
      `insert into relief_recipients (id, name, mobile, region, secret_note) values (100, '李四', '13900001111', '110105', 's')`,
    );
    await waitFor('the insert on the bus', async () => (await lastBusColumns()).includes('name'));
    t.false((await lastBusColumns()).includes('region'), 'an unclassified column never enters the bus');

    const classified = await sluice([
      'classify',
      'relief-recipients.region',
      '--level',
      'general',
      '--share',
      'unconditional',
      '--by',
      'civil-affairs-dba',
    ]);
    t.is(classified.code, 0, classified.out);
    t.regex(classified.out, /relief-recipients\.region: general unconditional \(runtime\)/);
    const region = (await catalog()).fields.find((f) => f.name === 'region')!;
    t.like(region, { status: 'classified', classifiedBy: 'runtime', runtime: { by: 'civil-affairs-dba' } });

    // the source re-binds: the next change carries the column
    await waitFor('a change with region on the bus', async () => {
      await provider.query(`update relief_recipients set amount = coalesce(amount, 0) + 1 where id = 100`);
      return (await lastBusColumns()).includes('region');
    });

    // an override of the config: mobile is made not shareable, so it leaves the platform
    const none = await sluice([
      'classify',
      'relief-recipients.mobile',
      '--level',
      'important',
      '--tag',
      'cn_mobile',
      '--share',
      'none',
    ]);
    t.is(none.code, 0, none.out);
    t.regex(none.out, /overrides config: important cn_mobile conditional/);
    await waitFor('changes without mobile on the bus', async () => {
      await provider.query(`update relief_recipients set amount = amount + 1 where id = 100`);
      return !(await lastBusColumns()).includes('mobile');
    });
    const cleared = await sluice(['classify', 'relief-recipients.mobile', '--clear']);
    t.is(cleared.code, 0, cleared.out);
    t.regex(cleared.out, /runtime classification removed/);
    t.like(
      (await catalog()).fields.find((f) => f.name === 'mobile'),
      { classifiedBy: 'config', classification: { share: 'conditional' } },
    );
    await waitFor('mobile back on the bus', async () => {
      await provider.query(`update relief_recipients set amount = amount + 1 where id = 100`);
      return (await lastBusColumns()).includes('mobile');
    });
  },
);

test.serial('sluice classify refuses what cannot be classified, with the reason', async (t) => {
  const missing = await sluice([
    'classify',
    'relief-recipients.nope',
    '--level',
    'general',
    '--share',
    'unconditional',
  ]);
  t.is(missing.code, 1);
  t.regex(missing.out, /table public\.relief_recipients has no column "nope"/);
  const resource = await sluice(['classify', 'relief.region', '--level', 'general', '--share', 'unconditional']);
  t.is(resource.code, 1);
  t.regex(resource.out, /unknown resource "relief" \(resources: relief-recipients, qa-people\)/);
  const key = await sluice(['classify', 'relief-recipients.id', '--level', 'general', '--share', 'none']);
  t.is(key.code, 2);
  t.regex(key.out, /is a key column/);
  const level = await sluice(['classify', 'relief-recipients.region', '--level', 'secret', '--share', 'none']);
  t.is(level.code, 2);
  t.regex(level.out, /Allowed choices are core, important, general/);
  const shape = await sluice(['classify', 'region', '--level', 'general', '--share', 'none']);
  t.is(shape.code, 2);
  t.regex(shape.out, /is not <resource>\.<column>/);
});

// Seeded defects: two wrong check digits, one region outside the code table, one missing required name, key 5 twice.
const QA_ROWS = `insert into qa_people (id, id_card, region, name) values
  (1, '11010519491231002X', '110101', '张三'),
  (2, '110105194912310021', '110101', '李四'),
  (3, '11010519491231002X', '999999', '王五'),
  (4, '440524188001010014', '110102', null),
  (5, '440524188001010015', '110102', '赵六'),
  (5, '11010519491231002X', '110101', '钱七')`;

test.serial('sluice quality: a seeded table with known defects, over the stream sample and by a scan', async (t) => {
  await provider.query(QA_ROWS);
  const expected = [
    { check: 'check-digit', column: 'id_card', failures: 2 },
    { check: 'code-table', column: 'region', failures: 1 },
    { check: 'null', column: 'name', failures: 1 },
  ];
  let stream:
    | {
        reports: {
          source: string;
          rowsChecked: number;
          counts: { check: string; column: string; failures: number; sampleKeys: string[] }[];
        }[];
      }
    | undefined;
  await waitFor('six changes checked on the stream', async () => {
    const { out, code } = await sluice(['quality', 'qa-people', '--json']);
    stream = JSON.parse(out) as typeof stream;
    return code === 1 && (stream!.reports.find((r) => r.source === 'stream')?.rowsChecked ?? 0) >= 6;
  });
  const live = stream!.reports.find((r) => r.source === 'stream')!;
  t.deepEqual(
    live.counts.map(({ check, column, failures }) => ({ check, column, failures })),
    expected,
  );
  for (const c of live.counts) for (const k of c.sampleKeys) t.regex(k, /^[0-9a-f]{16}$/, 'keys are hashed, never raw');

  const scan = await sluice(['quality', 'qa-people', '--scan']);
  t.is(scan.code, 1, scan.out);
  t.regex(scan.out, /scan of the table: 6 rows checked, 4 failed/);
  t.regex(scan.out, /duplicate-key +id +1/);
  t.regex(scan.out, /check-digit +id_card +2/);
  t.regex(scan.out, /null rate: id 0\.00%, name 16\.67%/);
  t.notRegex(scan.out, /110105194912310021|李四/, 'no raw values in the report');

  const metrics = await (await fetch(`${engine!.apiUrl}/metrics`)).text();
  t.regex(metrics, /sluice_quality_failures_total\{resource="qa-people",check="check-digit"\} 2/);

  const listed = await sluice(['catalog', 'qa-people']);
  t.regex(
    listed.out,
    /quality \(scan\): 6 rows checked, 4 failed — check-digit id_card 2, code-table region 1, duplicate-key id 1, null name 1/,
  );
  const clean = await sluice(['quality', 'relief-recipients']);
  t.is(clean.code, 0, clean.out);
  t.regex(clean.out, /every check passed/);
});

test.serial('after a restart, a subscription in the config may be granted the runtime-classified column', async (t) => {
  await engine!.drain();
  engine = undefined;
  const withRegion = structuredClone(config);
  withRegion.subscriptions[0]!.fields.push('region');
  engine = await startEngine(withRegion, { logger: silentLogger });
  await provider.query(`update relief_recipients set region = '110108' where id = 100`);
  await waitFor('the update on the bus', async () => {
    const { rows } = await state.query(
      `select 1 from sluice_bus_events where resource = 'relief-recipients' and event -> 'after' ->> 'region' = '110108'`,
    );
    return rows.length > 0;
  });
  const result = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z'));
  const file = join(work, 'out', 'audit-relief', `${result.files.at(-1)!.stem}.parquet`);
  const { types, rows } = await readWithDuckDB(file, `select region from t where region is not null`);
  t.truthy(types.region);
  t.deepEqual(rows.at(-1), { region: '110108' });

  // without the runtime classification the same config is refused at start, naming the path
  await engine.drain();
  engine = undefined;
  await state.query(`delete from sluice_classifications where "column" = 'region'`);
  const err = await t.throwsAsync(startEngine(withRegion, { logger: silentLogger }));
  t.regex(
    err!.message,
    /subscriptions\[0\]\.fields\[\d+\]: field "region" is not classified in resource "relief-recipients"/,
  );
});

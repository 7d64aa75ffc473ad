import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { stringify } from 'yaml';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { Config } from '../schemas/index.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { startPostgres, waitFor, type TestPostgres } from './helpers/postgres.ts';

let pgServer: TestPostgres;
let provider: pg.Client;
let state: pg.Client;
let engine: Engine | undefined;
let work: string;
let config: Config;

const DDL = `create table payments (
  id bigint primary key, region varchar(6), amount numeric(12,2), id_card char(18), paid_on date);
  alter table payments replica identity full`;

test.before(async () => {
  pgServer = await startPostgres();
  ({ client: provider } = await pgServer.database('provider'));
  await provider.query(DDL);
  let stateUrl: string;
  ({ client: state, url: stateUrl } = await pgServer.database('state'));
  work = mkdtempSync(join(tmpdir(), 'sluice-filter-'));
  config = {
    dataDir: join(work, 'data'),
    state: { url: stateUrl },
    bus: { kind: 'postgres' },
    api: { listen: '127.0.0.1:0' },
    drainTimeout: '20s',
    providers: [{ id: 'finance', connector: { kind: 'postgres', url: pgServer.url('provider') } }],
    resources: [
      {
        id: 'payments',
        provider: 'finance',
        table: 'payments',
        key: ['id'],
        fields: {
          id: { level: 'general', share: 'unconditional' },
          region: {
            level: 'general',
            share: 'unconditional',
            codeTable: { '110105': '朝阳区', '110108': '海淀区', '110101': '东城区' },
          },
          amount: { level: 'general', share: 'unconditional' },
          id_card: {
            level: 'important',
            tag: 'cn_id_card',
            share: 'conditional',
            conditions: { purposes: ['audit'], maxDeliveries: 2 },
          },
          paid_on: { level: 'general', share: 'unconditional' },
        },
        quality: { onFailure: 'hold' },
      },
    ],
    subscribers: [{ id: 'audit', clearance: 3 }],
    subscriptions: [
      {
        id: 'big-east',
        subscriber: 'audit',
        resource: 'payments',
        fields: ['id', 'region', 'amount', 'id_card'],
        filter: "amount > 500 and region in ('110105', '110108')",
        purpose: 'audit',
        businessSystem: 'audit-system',
        delivery: { mode: 'batch', cadence: '0 0 1 1 *', dir: join(work, 'out') },
      },
      {
        id: 'all',
        subscriber: 'audit',
        resource: 'payments',
        fields: ['id', 'amount'],
        purpose: 'audit',
        businessSystem: 'audit-system',
        delivery: { mode: 'batch', cadence: '0 0 1 1 *', dir: join(work, 'out') },
      },
    ],
  };
  engine = await startEngine(config, { logger: silentLogger });
});

test.after.always(async () => {
  await engine?.drain();
  await pgServer?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function busHead(): Promise<number> {
  const { rows } = await state.query<{ seq: string }>("select seq from sluice_bus_heads where resource = 'payments'");
  return Number(rows[0]?.seq ?? 0);
}

async function cycle(sub: string, tick: string) {
  const r = await engine!.runCycle(sub, new Date(tick));
  const file = r.files[0] ? join(work, 'out', sub, `${r.files[0].stem}.parquet`) : null;
  return { r, file };
}

test.serial(
  'a filtered subscription: rows moving out arrive as deletes, rows moving in as inserts, others not at all',
  async (t) => {
    const ID = '11010519491231002X';
    await provider.query(`insert into payments values
    (1, '110105', 900, '${ID}', '2026-01-01'),   -- in
    (2, '110105', 100, '${ID}', '2026-01-01'),   -- out: amount
    (3, '110101', 900, '${ID}', '2026-01-01'),   -- out: region
    (4, '110108', null, '${ID}', '2026-01-01')`); // unknown (NULL amount) = out
    await provider.query(`update payments set amount = 50 where id = 1`); // in -> out: delete
    await provider.query(`update payments set amount = 600 where id = 2`); // out -> in: insert
    await provider.query(`update payments set amount = 700 where id = 2`); // in -> in: update
    await provider.query(`update payments set amount = 10 where id = 3`); // out -> out: nothing
    await provider.query(`delete from payments where id = 2`); // in: delete
    await provider.query(`delete from payments where id = 3`); // out: nothing
    await waitFor('10 changes on the bus', async () => (await busHead()) >= 10);

    const { r, file } = await cycle('big-east', '2026-12-04T08:00:00Z');
    t.is(r.filteredOut, 5);
    const { rows } = await readWithDuckDB(
      file!,
      'select id, _op, amount::varchar as amount, _seq from t order by _seq',
    );
    t.deepEqual(
      rows.map((x) => [x.id, x._op, x.amount]),
      [
        ['1', 'c', '900.00'],
        ['1', 'd', '900.00'], // moved out: a delete carrying the row as the subscriber had it
        ['2', 'c', '600.00'], // moved in: an insert
        ['2', 'u', '700.00'],
        ['2', 'd', '700.00'],
      ],
    );
    // the unfiltered subscription gets every change
    const all = await cycle('all', '2026-12-04T08:00:00Z');
    t.is(all.r.rows, 10);
  },
);

test.serial('quality policy hold: a row failing a check is held back and reported, the rest flows', async (t) => {
  const before = await busHead();
  await provider.query(`insert into payments values
    (10, '110105', 1000, '110105194912310021', '2026-02-01'),  -- wrong check digit: held
    (11, '110105', 1000, '11010519491231002X', '2026-02-01'),
    (12, '999999', 10, '11010519491231002X', '2026-02-01')`); // code table: held (in "all" too? it gets no region)
  await waitFor('3 changes', async () => (await busHead()) >= before + 3);
  const { r, file } = await cycle('big-east', '2026-12-04T09:00:00Z');
  t.is(r.held, 1);
  t.is(r.quality['check-digit'], 1);
  const { rows } = await readWithDuckDB(file!, 'select id from t');
  t.deepEqual(rows, [{ id: '11' }]);
  const manifest = JSON.parse(
    (await import('node:fs')).readFileSync(file!.replace(/\.parquet$/, '.manifest.json'), 'utf8'),
  ) as { quality: { column: string; check: string; detail: string }[] };
  t.true(
    manifest.quality.some((q) => q.check === 'check-digit' && q.column === 'id_card' && /held back/.test(q.detail)),
  );
  // "all" is granted neither id_card nor region: the failures of columns it does not receive do not hold its rows
  const all = await cycle('all', '2026-12-04T09:00:00Z');
  t.is(all.r.rows, 3);
  t.is(all.r.held, 0);
});

test.serial('validate --online and run start check filter types and the replica identity a filter needs', async (t) => {
  const broken = structuredClone(config);
  broken.dataDir = join(work, 'data2');
  broken.subscriptions[0]!.filter = "amount > 'lots' and paid_on > DATE '2026-01-01'";
  broken.subscriptions[0]!.fields.push('paid_on');
  const file = join(work, 'broken.yaml');
  writeFileSync(file, stringify(broken));
  const p = spawnSluice(['validate', '--online', '-c', file]);
  const { code } = await exitWithin(p, 30_000);
  t.is(code, 1, p.output());
  t.regex(
    p.output(),
    /subscriptions\[0\]\.filter: column 10: cannot compare decimal\(12,2\) field "amount" with a string literal 'lots'/,
  );

  // run start refuses it too, naming the path (a second state database: one engine per state DB)
  broken.state = { url: (await pgServer.database('state2')).url };
  broken.providers[0]!.id = 'finance-two'; // its own slot
  broken.resources[0]!.provider = 'finance-two';
  const refused = await t.throwsAsync(startEngine(broken, { logger: silentLogger }));
  t.regex(refused!.message, /subscriptions\[0\]\.filter: column 10: cannot compare decimal\(12,2\) field "amount"/);

  await provider.query(`alter table payments replica identity default`);
  try {
    const offline = spawnSluice(['validate', '-c', file]);
    t.is((await exitWithin(offline, 30_000)).code, 0, 'types are not known offline');
    const identity = structuredClone(config);
    identity.dataDir = join(work, 'data3');
    writeFileSync(file, stringify(identity));
    const q = spawnSluice(['validate', '--online', '-c', file]);
    t.is((await exitWithin(q, 30_000)).code, 1);
    t.regex(
      q.output(),
      /the filter uses "amount", "region", which are not key columns: .*REPLICA IDENTITY FULL \(it is default\)/,
    );
  } finally {
    await provider.query(`alter table payments replica identity full`);
  }

  const hidden = structuredClone(config);
  hidden.subscriptions[0]!.filter = "id_card like '1101%'";
  writeFileSync(file, stringify(hidden));
  const h = spawnSluice(['validate', '-c', file]);
  t.is((await exitWithin(h, 30_000)).code, 1);
  t.regex(
    h.output(),
    /column 1: the filter uses "id_card", which this subscriber receives as partial; a filter may use only fields delivered in clear/,
  );
  const syntax = structuredClone(config);
  syntax.subscriptions[0]!.filter = 'amount > and';
  writeFileSync(file, stringify(syntax));
  const s = spawnSluice(['validate', '-c', file]);
  t.is((await exitWithin(s, 30_000)).code, 1);
  t.regex(s.output(), /subscriptions\[0\]\.filter: column 10: /);
});

test.serial(
  'conditions are decided at every cycle: after maxDeliveries the field is withheld, shown in status and metrics',
  async (t) => {
    const before = await busHead();
    await provider.query(`insert into payments values (20, '110108', 800, '11010519491231002X', '2026-03-01')`);
    await waitFor('the insert on the bus', async () => (await busHead()) >= before + 1);
    // big-east delivered twice already (the tests above): id_card has reached its maxDeliveries
    const { r, file } = await cycle('big-east', '2026-12-04T10:00:00Z');
    t.deepEqual(
      r.denied.map((d) => [d.field, d.reason]),
      [['id_card', 'max-deliveries']],
    );
    const { types, rows } = await readWithDuckDB(file!, 'select * from t');
    t.false('id_card' in types, 'the withheld field is not in the file');
    t.deepEqual(
      rows.map((x) => [x.id, x.amount]),
      [['20', '800.00']],
    );
    const status = (await (await fetch(`${engine!.apiUrl}/v1/status`)).json()) as {
      subscriptions: { id: string; denied: { field: string; reason: string }[] }[];
    };
    t.like(status.subscriptions.find((s) => s.id === 'big-east')!.denied[0], {
      field: 'id_card',
      reason: 'max-deliveries',
    });
    const metrics = await (await fetch(`${engine!.apiUrl}/metrics`)).text();
    t.regex(metrics, /sluice_authz_denials_total\{reason="max-deliveries"\} 1/);
    const usage = await state.query<{ deliveries: string }>(
      "select deliveries from sluice_field_usage where subscription = 'big-east' and field = 'id_card'",
    );
    t.is(usage.rows[0]?.deliveries, '2');
  },
);

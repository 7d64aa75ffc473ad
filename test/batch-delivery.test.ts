import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { hmacHex } from '../engine/masking/index.ts';
import { manifestJsonSchema } from '../schemas/index.ts';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import { RELIEF_DDL, reliefConfig } from './helpers/config.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { startPostgres, waitFor, type TestPostgres } from './helpers/postgres.ts';

let pgServer: TestPostgres;
let provider: pg.Client;
let stateUrl: string;
let engine: Engine;
let outDir: string;
let work: string;
let configFile: string;

test.before(async () => {
  pgServer = await startPostgres();
  ({ client: provider } = await pgServer.database('provider'));
  await provider.query(RELIEF_DDL);
  stateUrl = (await pgServer.database('state')).url;
  work = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  outDir = join(work, 'out');
  const config = reliefConfig({ dataDir: join(work, 'data'), providerUrl: pgServer.url('provider'), stateUrl, outDir });
  configFile = join(work, 'sluice.yaml'); // for the CLI: it finds the engine through the config's runtime.json
  writeFileSync(configFile, stringify(config));
  engine = await startEngine(config, { logger: silentLogger });
});

test.after.always(async () => {
  await engine?.drain();
  await pgServer?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function busHead(): Promise<number> {
  const c = new pg.Client({ connectionString: stateUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ seq: string }>(
      "select seq from sluice_bus_heads where resource = 'relief-recipients'",
    );
    return Number(rows[0]?.seq ?? 0);
  } finally {
    await c.end();
  }
}

test.serial(
  'insert, update and delete reach the next batch in order, typed, masked, and only the granted columns',
  async (t) => {
    await provider.query(`insert into relief_recipients (id, name, id_card, mobile, amount, big, paid_at, diagnosis, secret_note) values
    (1, '张三', '11010519491231002X', '13812345678', 1234567890123456.7891, 9007199254740993, '2026-12-03 08:00:00.123456+08', '糖尿病', 'x'),
    (2, '欧阳娜娜', '440524188001010014', '13812345678', -0.0001, -9223372036854775808, '2026-12-03 16:00:00.000001+00', '无', 'y')`);
    await provider.query(`update relief_recipients set amount = 99.5 where id = 1`);
    await provider.query(`delete from relief_recipients where id = 2`);
    await waitFor('4 changes on the bus', async () => (await busHead()) >= 4);

    const result = await engine.runCycle('audit-relief', new Date('2026-12-03T08:00:10Z'));
    t.is(result.files.length, 1);
    const stem = result.files[0]!.stem;
    t.is(stem, '20261203T080010Z_1-4');
    const file = join(outDir, 'audit-relief', `${stem}.parquet`);
    const { types, rows } = await readWithDuckDB(
      file,
      'select id, name, id_card, mobile, amount::varchar as amount, big::varchar as big, paid_at::varchar as paid_at, _op, _seq::varchar as _seq, _commit_ts is not null as has_ts from t order by _seq',
    );
    t.deepEqual(Object.keys(types), [
      'id',
      'name',
      'id_card',
      'mobile',
      'amount',
      'big',
      'paid_at',
      'notes',
      '_op',
      '_seq',
      '_commit_ts',
    ]);
    t.is(types.id, 'BIGINT');
    t.is(types.amount, 'DECIMAL(20,4)');
    t.is(types.big, 'BIGINT');
    t.is(types.paid_at, 'TIMESTAMP WITH TIME ZONE');
    t.is(types._seq, 'BIGINT');
    t.is(types._commit_ts, 'TIMESTAMP WITH TIME ZONE');
    t.deepEqual(
      rows.map((r) => [r._seq, r._op, r.id]),
      [
        ['1', 'c', '1'],
        ['2', 'c', '2'],
        ['3', 'u', '1'],
        ['4', 'd', '2'],
      ],
    );
    const [ins1, ins2, upd, del] = rows as Record<string, unknown>[];
    // exact beyond 2^53 and numeric(20,4)
    t.is(ins1!.big, '9007199254740993');
    t.is(ins2!.big, '-9223372036854775808');
    t.is(ins1!.amount, '1234567890123456.7891');
    t.is(ins2!.amount, '-0.0001');
    t.is(upd!.amount, '99.5000');
    // timestamptz keeps µs, converted to UTC
    t.is(ins1!.paid_at, '2026-12-03 00:00:00.123456+00');
    // partial masks keep the documented characters
    t.is(ins1!.name, '张*');
    t.is(ins2!.name, '欧***');
    t.is(ins1!.id_card, '110105********002X');
    t.is(ins2!.id_card, '440524********0014');
    // hash: same input → same output, keyed by the subscription's secret
    t.regex(String(ins1!.mobile), /^[0-9a-f]{64}$/);
    t.is(ins1!.mobile, ins2!.mobile);
    const key = await subscriptionKey();
    t.is(ins1!.mobile, hmacHex(key, '13812345678'));
    // a delete with the default replica identity carries the key only
    t.is(del!.id, '2');
    t.is(del!.name, null);

    const manifest = JSON.parse(readFileSync(join(outDir, 'audit-relief', `${stem}.manifest.json`), 'utf8'));
    const validManifest = new Ajv2020({ strict: false }).compile(manifestJsonSchema());
    t.true(validManifest(manifest), JSON.stringify(validManifest.errors));
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    t.is(manifest.parts[0].sha256, sha);
    t.is(manifest.parts[0].file, `${stem}.parquet`);
    t.is(manifest.rows, 4);
    t.deepEqual(manifest.seq, { first: '1', last: '4' });
    t.deepEqual(manifest.ops, { c: 2, u: 1, d: 1, t: 0 });
    t.deepEqual(
      manifest.columns.map((c: { name: string; strategy?: string }) => [c.name, c.strategy ?? null]),
      [
        ['id', 'clear'],
        ['name', 'partial'],
        ['id_card', 'partial'],
        ['mobile', 'hash'],
        ['amount', 'clear'],
        ['big', 'clear'],
        ['paid_at', 'clear'],
        ['notes', 'clear'],
        ['_op', null],
        ['_seq', null],
        ['_commit_ts', null],
      ],
    );
    t.false(JSON.stringify(manifest).includes('糖尿病'), 'a share:none value never reaches a delivery');
  },
);

test.serial('a cycle with no new changes writes no file', async (t) => {
  const before = readdirSync(join(outDir, 'audit-relief')).length;
  const result = await engine.runCycle('audit-relief', new Date('2026-12-03T08:00:20Z'));
  t.is(result.files.length, 0);
  t.is(readdirSync(join(outDir, 'audit-relief')).length, before);
});

test.serial('unshared columns are dropped before the bus', async (t) => {
  const c = new pg.Client({ connectionString: stateUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ event: string }>('select event::text as event from sluice_bus_events');
    t.true(rows.length >= 4);
    for (const r of rows) {
      t.false(r.event.includes('diagnosis'));
      t.false(r.event.includes('secret_note'));
      t.false(r.event.includes('糖尿病'));
    }
  } finally {
    await c.end();
  }
});

test.serial('a value a partial mask cannot parse falls back to hash and is listed in the manifest', async (t) => {
  await provider.query(
    `insert into relief_recipients (id, name, id_card, mobile) values (3, '李四', '110105194912310021', '+8613812345678')`,
  );
  await waitFor('the insert on the bus', async () => (await busHead()) >= 5);
  const result = await engine.runCycle('audit-relief', new Date('2026-12-03T08:00:30Z'));
  const stem = result.files[0]!.stem;
  const { rows } = await readWithDuckDB(join(outDir, 'audit-relief', `${stem}.parquet`), 'select id_card from t');
  t.is(rows[0]!.id_card, hmacHex(await subscriptionKey(), '110105194912310021'));
  const manifest = JSON.parse(readFileSync(join(outDir, 'audit-relief', `${stem}.manifest.json`), 'utf8'));
  t.deepEqual(
    manifest.quality.map((q: { column: string; check: string; seq: string }) => [q.column, q.check, q.seq]),
    // the masking note (hashed instead of partially masked) and the data-quality verdict (flagged in _quality)
    [
      ['id_card', 'mask-fallback-hash', '5'],
      ['id_card', 'check-digit', '5'],
    ],
  );
  const flagged = await readWithDuckDB(join(outDir, 'audit-relief', `${stem}.parquet`), 'select _quality from t');
  t.deepEqual(JSON.parse(String(flagged.rows[0]!._quality)), { _checks: { id_card: ['check-digit'] } });
  t.false(JSON.stringify(manifest.quality).includes('110105194912310021'), 'quality notes never carry raw values');
});

async function subscriptionKey(): Promise<Uint8Array> {
  const c = new pg.Client({ connectionString: stateUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ k: Buffer }>(
      "select secret as k from sluice_subscription_secrets where subscription = 'audit-relief' and kind = 'hash' and version = 1",
    );
    return new Uint8Array(rows[0]!.k);
  } finally {
    await c.end();
  }
}

test.serial('an unchanged TOAST value is listed in _unchanged, never delivered as a NULL', async (t) => {
  // 20 kB of incompressible text is stored out of line (TOAST); an update of another column does not send it
  const big = `(select string_agg(md5(g::text), '') from generate_series(1, 640) g)`;
  await provider.query(`insert into relief_recipients (id, name, notes) values (4, '王五', ${big})`);
  await provider.query(`update relief_recipients set amount = 7 where id = 4`);
  await provider.query(`update relief_recipients set notes = 'short' where id = 4`);
  await waitFor('the three changes on the bus', async () => (await busHead()) >= 8);
  const result = await engine.runCycle('audit-relief', new Date('2026-12-03T08:00:40Z'));
  const stem = result.files[0]!.stem;
  const { types, rows } = await readWithDuckDB(
    join(outDir, 'audit-relief', `${stem}.parquet`),
    'select _op, length(notes)::int as notes_len, amount::varchar as amount, _unchanged::varchar as unchanged from t order by _seq',
  );
  t.is(types._unchanged, 'VARCHAR[]');
  t.deepEqual(rows, [
    { _op: 'c', notes_len: 20480, amount: null, unchanged: null },
    { _op: 'u', notes_len: null, amount: '7.0000', unchanged: '[notes]' },
    { _op: 'u', notes_len: 5, amount: '7.0000', unchanged: null },
  ]);
  const manifest = JSON.parse(readFileSync(join(outDir, 'audit-relief', `${stem}.manifest.json`), 'utf8'));
  t.deepEqual(manifest.columns.at(-1), { name: '_unchanged', type: 'list<utf8>' });
});

test.serial('the local API reports health, readiness, status and metrics', async (t) => {
  t.is((await fetch(`${engine.apiUrl}/healthz`)).status, 200);
  const ready = await fetch(`${engine.apiUrl}/readyz`);
  t.is(ready.status, 200, JSON.stringify(await ready.clone().json()));
  const status = (await (await fetch(`${engine.apiUrl}/v1/status`)).json()) as {
    sources: { id: string; state: string }[];
    subscriptions: { id: string; cursorSeq: string; deliveries: number }[];
  };
  t.deepEqual(
    status.sources.map((s) => [s.id, s.state]),
    [['civil-affairs', 'STREAMING']],
  );
  t.like(status.subscriptions[0], { id: 'audit-relief', cursorSeq: '8', deliveries: 3 });
  const metrics = await (await fetch(`${engine.apiUrl}/metrics`)).text();
  t.regex(metrics, /^sluice_rows_delivered_total\{subscription="audit-relief"\} 8$/m);
  t.regex(metrics, /^sluice_bus_backlog_events\{resource="relief-recipients"\} 0$/m);
  t.regex(metrics, /^sluice_masked_values_total\{strategy="partial"\} \d+$/m);
  t.regex(metrics, /^sluice_quality_failures_total\{resource="relief-recipients",check="mask-fallback-hash"\} 1$/m);
  t.regex(metrics, /^sluice_subscription_lag_seconds\{subscription="audit-relief"\} 0$/m);
  t.regex(metrics, /^sluice_source_lag_bytes\{source="civil-affairs"\} \d+$/m);
  const lagSeconds = Number(/^sluice_source_lag_seconds\{source="civil-affairs"\} (\S+)$/m.exec(metrics)?.[1]);
  t.true(lagSeconds >= 0 && lagSeconds < 30, `caught-up lag in seconds: ${lagSeconds}`);
  t.regex(metrics, /^sluice_source_stalled\{source="civil-affairs"\} 0$/m);
  t.regex(metrics, /^sluice_source_up\{source="civil-affairs",state="STREAMING"\} 1$/m);
});

test.serial('sluice lag shows each source streaming with its lag, found through the config or --api', async (t) => {
  const viaConfig = spawnSluice(['lag', '-c', configFile]);
  t.is((await exitWithin(viaConfig, 20_000)).code, 0, viaConfig.output());
  const [header, , row] = viaConfig.output().split('\n');
  t.regex(header!, /^source\s+state\s+confirmed\s+WAL held\s+behind\s+stalled$/);
  t.regex(row!, /^civil-affairs\s+STREAMING\s+[0-9A-F]{8}\/[0-9A-F]{8}\s+\d+(\.\d)? k?B\s+\d+\.\d+ s\s+no$/);
  const json = spawnSluice(['lag', '--api', engine.apiUrl, '--json']);
  t.is((await exitWithin(json, 20_000)).code, 0, json.output());
  const { sources } = JSON.parse(json.output()) as { sources: { id: string; state: string; lagBytes: number }[] };
  t.like(sources[0], { id: 'civil-affairs', state: 'STREAMING' });
  t.true(Number.isInteger(sources[0]!.lagBytes));
  const nothing = spawnSluice(['lag', '-c', join(work, 'missing.yaml')], {}, work);
  t.is((await exitWithin(nothing, 20_000)).code, 3, 'no engine: could not check');
  t.regex(nothing.output(), /no running engine found: .*runtime\.json does not exist/);
});

test.serial('a TRUNCATE arrives as an _op = t row with no values, counted in the manifest', async (t) => {
  await provider.query('truncate relief_recipients');
  await waitFor('the truncate on the bus', async () => (await busHead()) >= 9);
  const result = await engine.runCycle('audit-relief', new Date('2026-12-03T08:00:50Z'));
  const stem = result.files[0]!.stem;
  const { rows } = await readWithDuckDB(
    join(outDir, 'audit-relief', `${stem}.parquet`),
    'select _op, id, name, _seq::varchar as seq from t',
  );
  t.deepEqual(rows, [{ _op: 't', id: null, name: null, seq: '9' }]);
  const manifest = JSON.parse(readFileSync(join(outDir, 'audit-relief', `${stem}.manifest.json`), 'utf8'));
  t.deepEqual(manifest.ops, { c: 0, u: 0, d: 0, t: 1 });
});

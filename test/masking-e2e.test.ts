import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { Config, Manifest } from '../schemas/index.ts';
import { RELIEF_DDL, reliefConfig } from './helpers/config.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { startPostgres, waitFor, type TestPostgres } from './helpers/postgres.ts';

let pgServer: TestPostgres;
let provider: pg.Client;
let state: pg.Client;
let engine: Engine;
let work: string;
let privateKey: string;
let apiUrl: string;

async function sluice(args: string[]) {
  const p = spawnSluice(args);
  const { code } = await exitWithin(p, 30_000);
  return { code, out: p.output() };
}

test.before(async () => {
  pgServer = await startPostgres();
  ({ client: provider } = await pgServer.database('provider'));
  await provider.query(RELIEF_DDL);
  let stateUrl: string;
  ({ client: state, url: stateUrl } = await pgServer.database('state'));
  work = mkdtempSync(join(tmpdir(), 'sluice-mask-e2e-'));
  privateKey = join(work, 'audit.key');
  const keygen = await sluice(['keygen', '--out', privateKey]);
  if (keygen.code !== 0) throw new Error(keygen.out);
  const publicKey = /publicKey: (\S+)/.exec(keygen.out)![1]!;
  const config: Config = reliefConfig({
    dataDir: join(work, 'data'),
    providerUrl: pgServer.url('provider'),
    stateUrl,
    outDir: join(work, 'out'),
    clearance: 2,
  });
  config.subscribers[0]!.publicKey = publicKey;
  config.masking!.important = { '4': 'clear', '3': 'partial', '2': 'encrypt', default: 'hash' };
  config.resources[0]!.fields.amount!.generalize = { buckets: ['0', '1000', '10000'] };
  const sub = config.subscriptions[0]!;
  sub.fields = ['id', 'name', 'mobile', 'amount', 'paid_at'];
  sub.masks = { amount: 'generalize', paid_at: 'generalize' };
  engine = await startEngine(config, { logger: silentLogger });
  apiUrl = engine.apiUrl;
});

test.after.always(async () => {
  await engine?.drain();
  await pgServer?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function busHead(): Promise<number> {
  const { rows } = await state.query<{ seq: string }>(
    "select seq from sluice_bus_heads where resource = 'relief-recipients'",
  );
  return Number(rows[0]?.seq ?? 0);
}

test.serial(
  'encrypt: ciphertext in the file, the wrapped data key in the manifest, sluice decrypt gives the values back; generalize gives labels',
  async (t) => {
    await provider.query(`insert into relief_recipients (id, name, mobile, amount, paid_at) values
    (1, '张三', '13812345678', 999.99, '2026-03-05 10:00:00+08'),
    (2, '欧阳娜娜', '13812345678', 1000, '2025-12-31 23:59:59.999999+00'),
    (3, null, '13900001111', -5, null)`);
    await waitFor('3 changes on the bus', async () => (await busHead()) >= 3);
    const r1 = await engine.runCycle('audit-relief', new Date('2026-12-04T08:00:00Z'));
    const stem = r1.files[0]!.stem;
    const file = join(work, 'out', 'audit-relief', `${stem}.parquet`);
    const manifest = JSON.parse(
      readFileSync(join(work, 'out', 'audit-relief', `${stem}.manifest.json`), 'utf8'),
    ) as Manifest;
    const { types, rows } = await readWithDuckDB(
      file,
      'select id, hex(name) as name, hex(mobile) as mobile, amount, paid_at from t order by id',
    );
    t.is(types.name, 'BLOB');
    t.is(types.mobile, 'BLOB');
    t.is(types.amount, 'VARCHAR');
    t.deepEqual(
      rows.map((r) => [r.id, r.amount, r.paid_at]),
      [
        ['1', '[0,1000)', '2026'],
        ['2', '[1000,10000)', '2025'],
        ['3', '<0', null],
      ],
    );
    t.is(rows[2]!.name, null, 'NULL stays NULL');
    t.is(rows[0]!.mobile, rows[1]!.mobile, 'equal values encrypt equally (deterministic nonce)');
    t.not(rows[0]!.mobile, rows[2]!.mobile);
    t.is((rows[0]!.mobile as string).length / 2, 12 + 11 + 16, 'nonce ‖ ciphertext ‖ tag');
    t.false(readFileSync(file).includes(Buffer.from('13812345678')), 'no plaintext in the file');
    t.deepEqual(manifest.keys, { hash: 1, encrypt: 1 });
    t.is(manifest.encryption?.keyId, 'audit-relief:encrypt:v1');
    t.deepEqual(
      manifest.columns.filter((c) => c.strategy).map((c) => [c.name, c.strategy, c.type]),
      [
        ['id', 'clear', 'int64'],
        ['name', 'encrypt', 'binary'],
        ['mobile', 'encrypt', 'binary'],
        ['amount', 'generalize', 'utf8'],
        ['paid_at', 'generalize', 'utf8'],
      ],
    );

    const decrypted = await sluice(['decrypt', file, '--key', privateKey]);
    t.is(decrypted.code, 0, decrypted.out);
    const lines = decrypted.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    t.deepEqual(
      lines.map((l) => [l.id, l.name, l.mobile]),
      [
        ['1', '张三', '13812345678'],
        ['2', '欧阳娜娜', '13812345678'],
        ['3', null, '13900001111'],
      ],
    );

    // another subscriber's key cannot unwrap it
    const otherKey = join(work, 'other.key');
    t.is((await sluice(['keygen', '--out', otherKey])).code, 0);
    const wrong = await sluice(['decrypt', file, '--key', otherKey]);
    t.is(wrong.code, 1);
    t.regex(wrong.out, /cannot unwrap the data key audit-relief:encrypt:v1/);
    t.regex((await sluice(['keygen', '--out', otherKey])).out, /exists; choose another file/);
  },
);

test.serial('sluice keys rotate: the next cycle uses a new data key version; earlier files keep theirs', async (t) => {
  const rotated = await sluice(['keys', 'rotate', 'audit-relief', '--kind', 'encrypt', '--api', apiUrl]);
  t.is(rotated.code, 0, rotated.out);
  t.regex(rotated.out, /audit-relief: encrypt key is now version 2/);
  await provider.query(`insert into relief_recipients (id, name, mobile) values (4, '李四', '13812345678')`);
  await waitFor('the insert on the bus', async () => (await busHead()) >= 4);
  const r2 = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z'));
  const stem = r2.files[0]!.stem;
  const dir = join(work, 'out', 'audit-relief');
  const manifest = JSON.parse(readFileSync(join(dir, `${stem}.manifest.json`), 'utf8')) as Manifest;
  t.is(manifest.encryption?.keyId, 'audit-relief:encrypt:v2');
  const decrypted = await sluice(['decrypt', join(dir, `${stem}.parquet`), '--key', privateKey]);
  t.is(decrypted.code, 0, decrypted.out);
  t.like(JSON.parse(decrypted.out.trim()) as object, { id: '4', name: '李四', mobile: '13812345678' });
  const unknown = await sluice(['keys', 'rotate', 'nope', '--kind', 'hash', '--api', apiUrl]);
  t.is(unknown.code, 1);
  t.regex(unknown.out, /unknown subscription "nope"/);
  const bad = await sluice(['keys', 'rotate', 'audit-relief', '--kind', 'aes', '--api', apiUrl]);
  t.is(bad.code, 2);
});

test.serial('validate: an encrypt field needs the subscriber public key; a bad key is named', async (t) => {
  const cfg = reliefConfig({
    dataDir: join(work, 'v'),
    providerUrl: 'postgres://x/y',
    stateUrl: 'postgres://x/z',
    outDir: join(work, 'v'),
    clearance: 2,
  });
  cfg.masking!.important = { default: 'encrypt' };
  const file = join(work, 'v.yaml');
  writeFileSync(file, JSON.stringify(cfg));
  const missing = await sluice(['validate', '-c', file]);
  t.is(missing.code, 1);
  t.regex(
    missing.out,
    /subscriptions\[0\]\.fields\[1\]: "name" resolves to encrypt but subscriber "audit-office" has no publicKey/,
  );
  cfg.subscribers[0]!.publicKey = 'abc';
  writeFileSync(file, JSON.stringify(cfg));
  const bad = await sluice(['validate', '-c', file]);
  t.is(bad.code, 1);
  t.regex(bad.out, /subscribers\[0\]\.publicKey: .*32/);
});

import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { stringify } from 'yaml';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { Manifest } from '../schemas/index.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { onBus, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';

const server = sharedPostgres('sluice-redeliver-');
let provider: pg.Client;
let state: pg.Client;
let engine: Engine;
let work: string;
let dir: string;
let configFile: string;

test.before(async () => {
  const f = await reliefFixture(await server.ready(), 'redeliver', 0);
  ({ provider, state, work } = f);
  dir = join(f.outDir, 'audit-relief');
  configFile = join(work, 'sluice.yaml');
  writeFileSync(configFile, stringify(f.cfg));
  engine = await startEngine(f.cfg, { logger: silentLogger });
});

server.cleanup(async () => {
  await engine?.drain();
  if (work) rmSync(work, { recursive: true, force: true });
});

const sha = (file: string) =>
  createHash('sha256')
    .update(readFileSync(join(dir, file)))
    .digest('hex');
async function sluice(...args: string[]) {
  const p = spawnSluice(args[0] === 'inspect' ? args : [...args, '-c', configFile]);
  const { code } = await exitWithin(p, 60_000);
  return { code, out: p.output() };
}
const rowsOf = async (file: string) =>
  (
    await readWithDuckDB(
      join(dir, file),
      'select id::int as id, name, mobile, amount::varchar as amount, _op, _seq::int as seq from t order by _seq',
    )
  ).rows;

test.serial(
  'sluice redeliver: new files for a delivered range, named by its time, naming the originals; originals and cursor untouched',
  async (t) => {
    await provider.query(`insert into relief_recipients (id, name, mobile, amount) values
      (1, '张三', '13812345678', 1), (2, '李四', '13912345678', 2), (3, '王五', '13712345678', 3)`);
    await onBus(state, 3);
    await engine.runCycle('audit-relief', new Date('2026-12-03T08:00:00Z'));
    await provider.query(`update relief_recipients set amount = 20 where id = 2`);
    await provider.query(`delete from relief_recipients where id = 3`);
    await onBus(state, 5);
    await engine.runCycle('audit-relief', new Date('2026-12-03T09:00:00Z'));
    const originals = readdirSync(dir).sort();
    t.deepEqual(originals, [
      '20261203T080000Z_1-3.manifest.json',
      '20261203T080000Z_1-3.parquet',
      '20261203T090000Z_4-5.manifest.json',
      '20261203T090000Z_4-5.parquet',
    ]);
    const shas = originals.map(sha);

    const r = await sluice('redeliver', 'audit-relief', '--from', '2', '--json');
    t.is(r.code, 0, r.out);
    const view = JSON.parse(r.out) as { files: { stem: string }[]; redeliveryOf: string[]; fromSeq: string };
    t.is(view.fromSeq, '2');
    t.deepEqual(view.redeliveryOf, ['audit-relief:1-3', 'audit-relief:4-5']);
    const stem = view.files[0]!.stem;
    t.regex(stem, /^\d{8}T\d{6}Z_2-5$/, 'named by the time of the re-delivery');
    t.true(
      Math.abs(
        Date.parse(stem.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z.*/, '$1-$2-$3T$4:$5:$6Z')) - Date.now(),
      ) < 60_000,
    );
    const manifest = JSON.parse(readFileSync(join(dir, `${stem}.manifest.json`), 'utf8')) as Manifest;
    t.deepEqual(manifest.redeliveryOf, ['audit-relief:1-3', 'audit-relief:4-5']);
    t.deepEqual(manifest.seq, { first: '2', last: '5' });

    // the same rows, masked the same way, as the originals held for _seq 2-5
    const before = [
      ...(await rowsOf('20261203T080000Z_1-3.parquet')),
      ...(await rowsOf('20261203T090000Z_4-5.parquet')),
    ];
    t.deepEqual(await rowsOf(`${stem}.parquet`), before.slice(1));
    t.deepEqual(originals.map(sha), shas, 'the originals are untouched');
    const inspected = await sluice('inspect', join(dir, `${stem}.parquet`));
    t.is(inspected.code, 0, inspected.out);

    // by time: the deliveries made at or after 09:00
    const byTime = await sluice('redeliver', 'audit-relief', '--from', '2026-12-03T17:00:00+08:00');
    t.is(byTime.code, 0, byTime.out);
    t.regex(byTime.out, /re-delivered _seq 4-5: 2 rows in 1 file\(s\)/);
    t.regex(byTime.out, /repeats: audit-relief:4-5/);

    // mistakes are named; nothing is written
    const files = readdirSync(dir).length;
    const notYet = await sluice('redeliver', 'audit-relief', '--from', '1', '--to', '9');
    t.is(notYet.code, 2);
    t.regex(notYet.out, /has received changes up to _seq 5; 9 is not delivered yet/);
    const garbled = await sluice('redeliver', 'audit-relief', '--from', 'yesterday');
    t.is(garbled.code, 2);
    t.regex(garbled.out, /--from "yesterday": give a _seq \(e\.g\. 120\) or an RFC 3339 time/);
    const unknown = await sluice('redeliver', 'nope', '--from', '1');
    t.is(unknown.code, 1);
    t.regex(unknown.out, /unknown subscription "nope"/);
    t.is(readdirSync(dir).length, files);

    // the cursor did not move: the next cycle delivers only what is new
    await provider.query(`insert into relief_recipients (id, name, amount) values (4, '赵六', 4)`);
    await onBus(state, 6);
    const next = await engine.runCycle('audit-relief', new Date('2026-12-03T10:00:00Z'));
    t.deepEqual(
      next.files.map((f) => f.stem),
      ['20261203T100000Z_6-6'],
    );
  },
);

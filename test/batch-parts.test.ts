import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { Manifest } from '../schemas/index.ts';
import { RELIEF_DDL, reliefConfig } from './helpers/config.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { startPostgres, waitFor, type TestPostgres } from './helpers/postgres.ts';

let server: TestPostgres;
let provider: pg.Client;
let state: pg.Client;
let engine: Engine;
let work: string;
const ROWS = 20_000;

test.before(async () => {
  server = await startPostgres();
  ({ client: provider } = await server.database('provider'));
  await provider.query(RELIEF_DDL);
  const st = await server.database('state');
  state = st.client;
  work = mkdtempSync(join(tmpdir(), 'sluice-parts-'));
  const config = reliefConfig({
    dataDir: join(work, 'data'),
    providerUrl: server.url('provider'),
    stateUrl: st.url,
    outDir: join(work, 'out'),
  });
  const sub = config.subscriptions[0]!;
  sub.fields = ['id', 'notes'];
  delete sub.masks;
  sub.delivery = { ...sub.delivery, partSize: '256KB', rowGroupRows: 1000 };
  engine = await startEngine(config, { logger: silentLogger });
});

test.after.always(async () => {
  await engine?.drain();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.serial(
  'a batch larger than the part size: parts under one manifest, each listed with its sha256, read whole by DuckDB',
  async (t) => {
    await provider.query(
      `insert into relief_recipients (id, notes)
     select g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) from generate_series(1, ${ROWS}) g`,
    );
    await waitFor(`${ROWS} changes on the bus`, async () => {
      const { rows } = await state.query<{ seq: string }>(
        "select seq from sluice_bus_heads where resource = 'relief-recipients'",
      );
      return Number(rows[0]?.seq ?? 0) >= ROWS;
    });
    const r = await engine.runCycle('audit-relief', new Date('2026-12-04T08:00:00Z'));
    t.is(r.rows, ROWS);
    const dir = join(work, 'out', 'audit-relief');
    const stem = '20261204T080000Z_1-20000';
    const manifest = JSON.parse(readFileSync(join(dir, `${stem}.manifest.json`), 'utf8')) as Manifest;
    const parts = manifest.parts;
    t.true(parts.length >= 4, `${parts.length} parts`);
    t.deepEqual(
      parts.map((p) => p.file),
      parts.map((_, i) => `${stem}.p${String(i + 1).padStart(3, '0')}.parquet`),
    );
    t.deepEqual(readdirSync(dir).sort(), [`${stem}.manifest.json`, ...parts.map((p) => p.file)].sort());
    t.is(
      parts.reduce((n, p) => n + p.rows, 0),
      ROWS,
    );
    for (const p of parts) {
      const bytes = readFileSync(join(dir, p.file));
      t.is(createHash('sha256').update(bytes).digest('hex'), p.sha256);
      t.is(bytes.length, p.bytes);
      t.true(p.rows % 1000 === 0 || p === parts.at(-1), 'whole row groups');
    }
    // every part of the batch at once, in _seq order, every change once
    const { rows } = await readWithDuckDB(
      join(dir, `${stem}.p*.parquet`),
      'select count(*)::int as n, count(distinct _seq)::int as k, min(_seq)::int as lo, max(_seq)::int as hi from t',
    );
    t.deepEqual(rows[0], { n: ROWS, k: ROWS, lo: 1, hi: ROWS });
    // sluice inspect checks a part against the manifest
    const p = spawnSluice(['inspect', join(dir, parts[1]!.file)]);
    const { code } = await exitWithin(p, 30_000);
    t.is(code, 0, p.output());
    t.regex(p.output(), new RegExp(`manifest ${stem}\\.manifest\\.json: sha256 matches`));
  },
);

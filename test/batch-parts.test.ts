import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { BatchDeliveryConfig, Manifest } from '../schemas/index.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { insertNotes, onBus, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';

const server = sharedPostgres('sluice-parts-');
let provider: pg.Client;
let state: pg.Client;
let engine: Engine;
let work: string;
const ROWS = 20_000;

test.before(async () => {
  const f = await reliefFixture(await server.ready(), 'parts', 0);
  ({ provider, state, work } = f);
  const sub = f.cfg.subscriptions[0]!;
  sub.fields = ['id', 'notes'];
  delete sub.masks;
  sub.delivery = { ...(sub.delivery as BatchDeliveryConfig), partSize: '256KB', rowGroupRows: 1000 };
  engine = await startEngine(f.cfg, { logger: silentLogger });
});

server.cleanup(async () => {
  await engine?.drain();
  if (work) rmSync(work, { recursive: true, force: true });
});

test.serial(
  'a batch larger than the part size: parts under one manifest, each listed with its sha256, read whole by DuckDB',
  async (t) => {
    await insertNotes(provider, ROWS);
    await onBus(state, ROWS);
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

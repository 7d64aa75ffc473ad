import test from 'ava';
import type { BatchDeliveryConfig } from '../schemas/index.ts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { isSluiceError } from '../engine/errors.ts';
import { silentLogger } from '../engine/ports/index.ts';
import type { CycleView } from '../ops/api/cycle-routes.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { insertNotes, onBus, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';

// A small tmpfs is the full disk: mounting one needs root (CI runs as root).
const root = process.getuid?.() === 0;
const serial = root ? test.serial : test.serial.skip;

const server = sharedPostgres('sluice-full-disk-');
let provider: pg.Client;
let state: pg.Client;
let engine: Engine;
let work: string;
let small: string;
let mounted = false;
const ROWS = 20_000;

test.before(async () => {
  if (!root) return;
  const f = await reliefFixture(await server.ready(), 'fulldisk', 0);
  ({ provider, state, work } = f);
  small = join(work, 'small');
  mkdirSync(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', small]);
  mounted = true;
  const full = f.cfg.subscriptions[0]!;
  full.fields = ['id', 'notes'];
  delete full.masks;
  full.delivery = { ...(full.delivery as BatchDeliveryConfig), dir: small };
  f.cfg.subscriptions.push({
    ...full,
    id: 'audit-roomy',
    delivery: { ...(full.delivery as BatchDeliveryConfig), dir: join(work, 'roomy') },
  });
  engine = await startEngine(f.cfg, { logger: silentLogger });
});

server.cleanup(async () => {
  await engine?.drain();
  if (mounted) execFileSync('umount', [small]);
  if (work) rmSync(work, { recursive: true, force: true });
});

serial(
  'a full output directory stops that subscription with a clear error; it resumes when space returns, losing nothing',
  async (t) => {
    // ~2.5 MB of Parquet: incompressible text
    await insertNotes(provider, ROWS);
    await onBus(state, ROWS);

    const e = await t.throwsAsync(engine.runCycle('audit-relief', new Date('2026-12-04T08:00:00Z')));
    t.true(isSluiceError(e, 'DELIVERY_FAILED'));
    t.regex(
      e!.message,
      new RegExp(
        `no space left on the output directory ${small}/audit-relief \\(ENOSPC\\) for subscription "audit-relief"`,
      ),
    );
    const dir = join(small, 'audit-relief');
    t.deepEqual(readdirSync(dir), [], 'no half-written or temp file is left behind');
    const view = (await (await fetch(`${engine.apiUrl}/v1/subscriptions/audit-relief/cycle`)).json()) as CycleView;
    t.is(view.state, 'failing');
    t.regex(view.lastRun!.error!, /no space left/);
    t.is(view.backlogEvents, ROWS, 'nothing was lost: the changes wait on the bus');

    // another subscription, elsewhere, is not held up
    t.is((await engine.runCycle('audit-roomy')).rows, ROWS);

    // space returns: the next run finishes the same batch
    execFileSync('mount', ['-o', 'remount,size=64m', small]);
    const r = await engine.runCycle('audit-relief', new Date('2026-12-04T08:01:00Z'));
    t.true(r.recovered, 'the open intent is finished');
    t.deepEqual(
      r.files.map((f) => f.stem),
      ['20261204T080000Z_1-20000'],
      'under the tick it started with',
    );
    const { rows } = await readWithDuckDB(
      join(dir, '20261204T080000Z_1-20000.parquet'),
      'select count(*)::int as n, count(distinct id)::int as k from t',
    );
    t.deepEqual(rows[0], { n: ROWS, k: ROWS });
    t.deepEqual(readdirSync(dir).sort(), [
      '20261204T080000Z_1-20000.manifest.json',
      '20261204T080000Z_1-20000.parquet',
    ]);
    const after = (await (await fetch(`${engine.apiUrl}/v1/subscriptions/audit-relief/cycle`)).json()) as CycleView;
    t.is(after.state, 'idle');
    t.is(after.backlogEvents, 0);
  },
);

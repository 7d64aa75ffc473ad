import test from 'ava';
import type { CycleResult } from '../../engine/delivery/batch-cycle.ts';
import { isSluiceError } from '../../engine/errors.ts';
import { silentLogger } from '../../engine/ports/index.ts';
import { MemoryStateStore } from '../../engine/testing/index.ts';
import { CycleRunner } from './cycle-runner.ts';

const YEARLY = '0 0 1 1 *';
const result = (rows: number): CycleResult => ({
  files: rows ? [{ stem: 's', rows, firstSeq: 1n, lastSeq: BigInt(rows), manifestFile: 's.manifest.json' }] : [],
  rows,
  masked: {},
  quality: {},
  recovered: false,
  denied: [],
  filteredOut: 0,
  held: 0,
  netted: 0,
});

function runner(
  state: MemoryStateStore,
  runs: string[],
  opts: { rows?: number; fail?: string; ready?: () => Promise<void> } = {},
) {
  return new CycleRunner({
    state,
    log: silentLogger,
    run: async (id, tick) => {
      runs.push(`${id}@${tick.toISOString()}`);
      if (opts.fail) throw new Error(opts.fail);
      return result(opts.rows ?? 3);
    },
    ...(opts.ready ? { ready: opts.ready } : {}),
  });
}

test('ticks missed while down are caught up as one run, after the source caught up; a future tick is not', async (t) => {
  const state = new MemoryStateStore();
  await state.setNextDue('late', '2026-12-01T00:00:00.000Z'); // days of missed ticks
  await state.setNextDue('early', '2999-01-01T00:00:00.000Z');
  const runs: string[] = [];
  let caughtUp!: () => void;
  const ready = new Promise<void>((r) => (caughtUp = r));
  const r = runner(state, runs, { ready: () => ready });
  const now = new Date('2026-12-04T09:00:00.000Z');
  const ids = await r.start(
    [
      { id: 'late', cadence: '*/5 * * * *', timezone: 'UTC', paused: false },
      { id: 'early', cadence: YEARLY, timezone: 'UTC', paused: false },
      { id: 'new', cadence: YEARLY, timezone: 'UTC', paused: false },
    ],
    now,
  );
  t.deepEqual(ids, ['late']);
  await new Promise((res) => setTimeout(res, 50));
  t.deepEqual(runs, [], 'waits for the source');
  caughtUp();
  await new Promise((res) => setTimeout(res, 50));
  t.deepEqual(runs, ['late@2026-12-04T09:00:00.000Z'], 'one run, not one per missed tick');
  t.is(r.lastRun('late')?.outcome, 'delivered');
  t.is(r.lastRun('late')?.rows, 3);
  const stored = await state.cycleStates();
  // every subscription's next tick is stored, in the future
  for (const c of stored) t.true(Date.parse(c.nextDue!) > Date.now(), c.subscription);
  await r.drain();
});

test('paused: not scheduled, no next tick stored, a run on request refused; resumed: scheduled again', async (t) => {
  const state = new MemoryStateStore();
  const runs: string[] = [];
  const r = runner(state, runs);
  await r.start([{ id: 'a', cadence: YEARLY, timezone: 'Asia/Shanghai', paused: true }]);
  t.is(r.nextRun('a'), null);
  t.is((await state.cycleStates())[0]!.nextDue, null);
  const refused = t.throws(() => r.runNow('a'));
  t.true(isSluiceError(refused, 'CONFLICT'));
  t.regex(refused!.message, /paused; `sluice resume a` first/);
  t.true(
    isSluiceError(
      t.throws(() => r.runNow('nope')),
      'NOT_FOUND',
    ),
  );
  await r.apply({ id: 'a', cadence: YEARLY, timezone: 'Asia/Shanghai', paused: false });
  // next 1 January 00:00 in Shanghai is 31 December 16:00 UTC
  t.regex(r.nextRun('a')!.toISOString(), /-12-31T16:00:00\.000Z$/);
  t.is((await state.cycleStates())[0]!.nextDue, r.nextRun('a')!.toISOString());
  await r.runNow('a', new Date('2026-12-04T09:00:00.000Z'));
  t.deepEqual(runs, ['a@2026-12-04T09:00:00.000Z']);
  await r.drain();
});

test('a new cadence takes effect at once; each run is recorded, a failed one with its error', async (t) => {
  const state = new MemoryStateStore();
  const runs: string[] = [];
  const r = runner(state, runs, { fail: 'disk full' });
  await r.start([{ id: 'a', cadence: YEARLY, timezone: 'UTC', paused: false }]);
  const before = r.nextRun('a')!.getTime();
  await r.apply({ id: 'a', cadence: '* * * * * *', timezone: 'UTC', paused: false });
  t.true(r.nextRun('a')!.getTime() < before);
  t.true(r.nextRun('a')!.getTime() - Date.now() <= 1000);
  await new Promise((res) => setTimeout(res, 2200)); // at least one tick of the new cadence
  t.true(runs.length >= 1);
  const last = (await state.cycleStates())[0]!.last!;
  t.is(last.outcome, 'failed');
  t.is(last.error, 'disk full');
  await r.drain();
  const n = runs.length;
  await new Promise((res) => setTimeout(res, 1200));
  t.is(runs.length, n, 'nothing runs after drain');
});

test('a run that ends while the runner drains keeps the stored next tick (a restart after it catches up)', async (t) => {
  const state = new MemoryStateStore();
  let finish!: () => void;
  const r = new CycleRunner({
    state,
    log: silentLogger,
    run: async () => {
      await new Promise<void>((res) => (finish = res));
      return result(0);
    },
  });
  await r.start([{ id: 'a', cadence: '0 0 1 1 *', timezone: 'UTC', paused: false }]);
  const due = (await state.cycleStates())[0]!.nextDue;
  t.truthy(due);
  const run = r.runNow('a', new Date());
  const drained = r.drain();
  finish();
  await run;
  await drained;
  const c = (await state.cycleStates())[0]!;
  t.is(c.nextDue, due, 'not cleared by the scheduler stopping');
  t.is(c.last?.outcome, 'empty');
});

test('a slow subscription delays no other, and its ticks during a run are skipped, not piled up', async (t) => {
  const state = new MemoryStateStore();
  const runs: string[] = [];
  let release!: () => void;
  const stuck = new Promise<void>((r) => (release = r));
  const skipped: string[] = [];
  const r = new CycleRunner({
    state,
    log: silentLogger,
    run: async (id) => {
      runs.push(id);
      if (id === 'slow') await stuck;
      return result(1);
    },
    onSkip: (id) => skipped.push(id),
  });
  await r.start([
    { id: 'slow', cadence: '* * * * * *', timezone: 'UTC', paused: false },
    { id: 'fast', cadence: '* * * * * *', timezone: 'UTC', paused: false },
  ]);
  await new Promise((res) => setTimeout(res, 3_300));
  t.is(runs.filter((x) => x === 'slow').length, 1, 'one run of the slow one, still going');
  t.true(runs.filter((x) => x === 'fast').length >= 2, 'the other one ran on every tick meanwhile');
  t.true(skipped.includes('slow'));
  t.false(skipped.includes('fast'));
  release();
  await r.drain();
});

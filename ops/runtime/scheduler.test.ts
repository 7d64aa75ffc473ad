import test from 'ava';
import { silentLogger } from '../../engine/ports/index.ts';
import { CycleScheduler } from './scheduler.ts';

test('a cron second fired twice runs once; an overlapping tick is skipped; a later tick runs', async (t) => {
  const s = new CycleScheduler(silentLogger);
  const ticks: string[] = [];
  let release!: () => void;
  const job = {
    id: 'audit',
    cadence: '*/10 * * * * *',
    timezone: 'UTC',
    run: async (tick: Date) => {
      ticks.push(tick.toISOString());
      await new Promise<void>((r) => (release = r));
    },
  };
  const first = s.fire(job, new Date('2026-12-04T11:57:50.004Z'));
  t.truthy(first);
  t.is(s.fire(job, new Date('2026-12-04T11:58:00.001Z')), undefined, 'overlaps the run in flight');
  release();
  await first;
  t.is(s.fire(job, new Date('2026-12-04T11:57:50.998Z')), undefined, 'the same cron second again');
  const later = s.fire(job, new Date('2026-12-04T11:58:10.000Z'));
  t.truthy(later);
  release();
  await later;
  t.deepEqual(ticks, ['2026-12-04T11:57:50.000Z', '2026-12-04T11:58:10.000Z']);
  await s.drain();
});

import type { CyclePoint } from '../../engine/delivery/batch-cycle.ts';

const POINTS: CyclePoint[] = ['intent-committed', 'files-written', 'delivery-committed'];

/** Test hook for the exactly-once tests: SLUICE_TEST_CRASH_AT=<point> makes the engine SIGKILL itself there. */
export function crashPointFromEnv(env = process.env): { crashAt?: CyclePoint; crashFeed?: boolean } {
  if (env.SLUICE_TEST_CRASH_AT === 'feed-published') return { crashFeed: true };
  const p = env.SLUICE_TEST_CRASH_AT as CyclePoint | undefined;
  return p && POINTS.includes(p) ? { crashAt: p } : {};
}

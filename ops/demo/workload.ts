import type pg from 'pg';
import type { Logger } from '../../engine/ports/index.ts';
import { prng } from '../../engine/testing/prng.ts';
import { sampleRecipient } from './sample-data.ts';

/**
 * A small provider workload for the demo: inserts, updates and deletes on relief_recipients at about `perSecond`
 * operations a second, until stopped.
 */
export function startWorkload(
  client: pg.Client,
  perSecond: number,
  log: Logger,
): { stop: () => Promise<void>; ops: () => number } {
  const r = prng(Date.now() & 0xffffffff);
  let stopped = false;
  let count = 0;
  let current: Promise<unknown> = Promise.resolve();
  const step = async () => {
    const x = r();
    if (x < 0.5) {
      const p = sampleRecipient(r);
      await client.query(
        'insert into relief_recipients (name, id_card, mobile, amount, diagnosis) values ($1, $2, $3, $4, $5)',
        [p.name, p.id_card, p.mobile, p.amount, p.diagnosis],
      );
    } else if (x < 0.85) {
      await client.query(
        `update relief_recipients set amount = round((amount * (0.9 + random() * 0.2))::numeric, 2), updated_at = now()
          where id = (select id from relief_recipients order by random() limit 1)`,
      );
    } else {
      await client.query(
        'delete from relief_recipients where id = (select id from relief_recipients order by random() limit 1)',
      );
    }
    count++;
  };
  const timer = setInterval(
    () => {
      if (stopped) return;
      current = current
        .then(step)
        .catch((e: unknown) => log.warn('demo workload step failed', { error: (e as Error).message }));
    },
    Math.max(10, Math.round(1000 / perSecond)),
  );
  return {
    ops: () => count,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}

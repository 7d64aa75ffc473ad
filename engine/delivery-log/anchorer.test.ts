import test from 'ava';
import { silentLogger } from '../ports/index.ts';
import { MemoryAnchor } from '../testing/memory-anchor.ts';
import { MemoryStateStore } from '../testing/memory-state-store.ts';
import { Anchorer } from './anchorer.ts';
import { DeliveryLog } from './delivery-log.ts';
import { actionLeaf } from './leaf.ts';

const until = async (what: string, cond: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 300; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

function fixture(opts: { everyLeaves?: number; intervalMs?: number } = {}) {
  const state = new MemoryStateStore();
  const chain = new MemoryAnchor();
  const log = new DeliveryLog(state);
  let n = 0;
  const append = async (k: number) => {
    for (let i = 0; i < k; i++) {
      await state.appendLogLeaf({
        leaf: actionLeaf({ action: 'pause', subject: `s${n++}`, at: '2026-12-04T00:00:00Z' }),
      });
    }
  };
  const anchored: number[] = [];
  const start = (s = state) => {
    const a = new Anchorer(
      new DeliveryLog(s),
      chain,
      s,
      { everyLeaves: opts.everyLeaves ?? 5, intervalMs: opts.intervalMs ?? 60_000, pollMs: 10 },
      silentLogger,
      async (r) => void anchored.push(r.size),
    );
    const stop = new AbortController();
    const running = a.run(stop.signal);
    return { a, running, stop: async () => (stop.abort(), await running) };
  };
  return { state, chain, log, append, anchored, start };
}

test('a checkpoint once enough leaves wait, and after the interval for fewer; one transaction each', async (t) => {
  const f = fixture({ everyLeaves: 5, intervalMs: 300 });
  const r = f.start();
  await f.append(4);
  await new Promise((res) => setTimeout(res, 100));
  t.deepEqual(f.anchored, [], 'four leaves, before the interval: nothing yet');
  await f.append(3);
  await until('a checkpoint of 7', () => f.anchored.includes(7));
  await f.append(2);
  await until('the interval', () => f.anchored.includes(9));
  await r.stop();
  t.deepEqual(f.anchored, [7, 9]);
  t.is(f.chain.sends, 2);
  t.deepEqual(
    (await f.state.checkpoints()).map((c) => [c.size, c.root]),
    await Promise.all([7, 9].map(async (s) => [s, (await f.log.checkpoint(s)).root])),
  );
  t.like(r.a.status(), { logSize: 9, anchoredSize: 9, pending: 0 });
});

test('while the chain is down leaves queue; when it returns one checkpoint covers them all', async (t) => {
  const f = fixture({ everyLeaves: 2 });
  const r = f.start();
  await f.append(2);
  await until('the first checkpoint', () => f.anchored.includes(2));
  f.chain.down = true;
  await f.append(9);
  await until('the failure seen', () => r.a.status().lastError !== undefined);
  t.like(r.a.status(), { anchoredSize: 2, pending: 9 });
  t.regex(r.a.status().lastError!, /down/);
  f.chain.down = false;
  await until('caught up', () => f.anchored.includes(11));
  await r.stop();
  t.deepEqual(f.anchored, [2, 11], 'each leaf under exactly one first checkpoint');
  t.is(r.a.status().lastError, undefined);
});

test('a checkpoint anchored just before a crash is recorded, not sent again; a foreign one stops anchoring', async (t) => {
  const f = fixture({ everyLeaves: 3 });
  await f.append(4);
  // anchored on chain by the previous process, which died before recording it
  await f.chain.anchor(await f.log.checkpoint(4));
  const r = f.start();
  await until('adopted', () => f.anchored.includes(4));
  await r.stop();
  t.is(f.chain.sends, 1, 'not sent again');
  t.deepEqual(
    (await f.state.checkpoints()).map((c) => c.size),
    [4],
  );

  const g = fixture({ everyLeaves: 3 });
  await g.append(4);
  await g.chain.anchor({ size: 4, root: 'ff'.repeat(32) });
  const e = await t.throwsAsync(g.start().running);
  t.regex(e!.message, /holds a checkpoint of size 4 that is not this delivery log's/);
});

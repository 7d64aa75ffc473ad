import test from 'ava';
import { silentLogger } from '../ports/index.ts';
import { setup, ins, subscription } from '../testing/cycle-fixture.ts';
import { MemoryFeedSink } from '../testing/memory-feed-sink.ts';
import { FeedLoop, type FeedLoopDeps } from './feed-loop.ts';
import type { FeedEvent } from './feed-event.ts';

const encode = (e: FeedEvent) => JSON.stringify(e);
const upd = (id: string, name: string) => ({ op: 'u' as const, key: { id }, after: { id, name } });
const seqs = (ms: { id: string }[]) => ms.map((m) => Number(m.id.split(':')[1]));

/** A loop on the in-memory bus and state store, its sink the double; `stop()` ends it. */
async function loop(opts: { maxInFlight?: number; batchSize?: number } = {}) {
  const f = await setup();
  const sink = new MemoryFeedSink(opts.batchSize ?? 3);
  const parkedSizes: number[] = [];
  const deps: FeedLoopDeps = {
    bus: f.bus,
    state: f.state,
    sink,
    logger: silentLogger,
    encode,
    pollMs: 20,
    onDeadLetters: (_, n) => parkedSizes.push(n),
  };
  const sub = { ...subscription(), maxInFlight: opts.maxInFlight ?? 100, lingerMs: 0 };
  const l = new FeedLoop(sub, deps);
  const stop = new AbortController();
  const running = l.run(stop.signal);
  const until = async (what: string, cond: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 500; i++) {
      if (await cond()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  return {
    ...f,
    sink,
    l,
    parkedSizes,
    until,
    stop: async () => {
      stop.abort();
      await running;
    },
  };
}

test('events go out in seq order in sends of at most batchSize, ranges of at most maxInFlight; the cursor follows', async (t) => {
  const x = await loop({ maxInFlight: 4, batchSize: 3 });
  await x.append(Array.from({ length: 10 }, (_, i) => ins(String(i + 1))));
  x.l.wake();
  await x.until('10 taken', () => x.sink.taken.length === 10);
  await x.until('cursor at 10', async () => (await x.state.cursor('audit-people')).seq === 10n);
  await x.stop();
  t.deepEqual(seqs(x.sink.taken), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const records = await x.state.deliveries('audit-people');
  t.deepEqual(
    records.map((r) => [r.firstSeq, r.lastSeq, r.rows]),
    [
      [1n, 4n, 4],
      [5n, 8n, 4],
      [9n, 10n, 2],
    ],
    'one record per range of at most maxInFlight events',
  );
  t.is(x.sink.sends, 5, 'ranges of 4 in sends of 3 and 1, the last range of 2 in one send');
  t.true(records.every((r) => /^[0-9a-f]{64}$/.test(r.manifestSha256) && r.stem === 'feed'));
  const body = JSON.parse(x.sink.taken[0]!.body) as FeedEvent;
  t.is(body.data.after!.mobile?.toString().length, 64, 'masked as in a batch file (hash)');
});

test('a refused send parks its events; later events of the key wait behind them, other keys flow; replay in order', async (t) => {
  const x = await loop({ batchSize: 1 });
  x.sink.answer = (ms) => (ms.some((m) => m.key === '{"id":"1"}') ? 'refuse' : 'ok');
  await x.append([ins('1'), ins('2')]);
  x.l.wake();
  await x.until('key 2 taken', () => x.sink.taken.length === 1);
  await x.append([upd('1', 'b'), ins('3'), upd('1', 'c')]);
  x.l.wake();
  await x.until('key 3 taken', () => x.sink.taken.length === 2);
  await x.until('cursor at 5', async () => (await x.state.cursor('audit-people')).seq === 5n);
  t.deepEqual(seqs(x.sink.taken), [2, 4], 'other keys flowed');
  const parked = await x.state.deadLetters('audit-people');
  t.deepEqual(
    parked.map((d) => [d.seq, d.state, d.attempts]),
    [
      [1n, 'failed', 3],
      [3n, 'waiting', 0],
      [5n, 'waiting', 0],
    ],
  );
  t.is(x.l.status().deadLetters, 3);
  x.sink.answer = () => 'ok';
  const r = await x.l.replay(new AbortController().signal);
  t.deepEqual(r, { skipped: 0, replayed: 3, remaining: 0 });
  t.deepEqual(seqs(x.sink.taken), [2, 4, 1, 3, 5], "key 1's events in their order");
  await x.append([upd('1', 'd')]);
  x.l.wake();
  await x.until('key 1 flows again', () => x.sink.taken.length === 6);
  await x.stop();
  t.deepEqual(await x.state.deadLetters('audit-people'), []);
  t.is(x.parkedSizes.at(-1), 0);
});

test('skip drops the failed event and sends the ones that waited behind it', async (t) => {
  const x = await loop({ batchSize: 1 });
  x.sink.answer = (ms) => (ms.some((m) => m.id === 'audit-people:1') ? 'refuse' : 'ok');
  await x.append([ins('1'), upd('1', 'b')]);
  x.l.wake();
  await x.until('parked', async () => (await x.state.deadLetters('audit-people')).length === 2);
  const r = await x.l.skip(undefined, new AbortController().signal);
  t.deepEqual(r, { skipped: 1, replayed: 1, remaining: 0 });
  t.deepEqual(seqs(x.sink.taken), [2]);
  const unknown = await t.throwsAsync(() => x.l.skip('audit-people:99', new AbortController().signal));
  t.regex(unknown!.message, /no dead letter "audit-people:99"/);
  await x.stop();
});

test('a receiver that is down parks nothing: the cursor stops before the failed send, and the loop goes on later', async (t) => {
  const x = await loop({ batchSize: 2 });
  let up = true;
  x.sink.answer = () => (up ? 'ok' : 'unreachable');
  up = false;
  await x.append([ins('1'), ins('2'), ins('3'), ins('4'), ins('5')]);
  x.l.wake();
  await x.until('a few attempts', () => x.sink.sends >= 3);
  t.deepEqual(seqs(x.sink.taken), [], 'the first send held seq 1 and 2: refused as a whole');
  t.is((await x.state.cursor('audit-people')).seq, 0n, 'the backlog stays in the bus');
  t.deepEqual(await x.state.deadLetters('audit-people'), [], 'nothing parked');
  t.truthy(x.l.status().lastError);
  up = true;
  await x.until('all taken', () => x.sink.taken.length >= 5);
  await x.until('cursor at 5', async () => (await x.state.cursor('audit-people')).seq === 5n);
  await x.stop();
  t.deepEqual(seqs(x.sink.taken), [1, 2, 3, 4, 5]);
});

test('two refusals with nothing taken between: the receiver is down, not the events (one send parked at most)', async (t) => {
  const x = await loop({ batchSize: 1 });
  let refusing = true;
  x.sink.answer = () => (refusing ? 'refuse' : 'ok');
  await x.append([ins('1'), ins('2'), ins('3')]);
  x.l.wake();
  await x.until('parked one', async () => (await x.state.deadLetters('audit-people')).length === 1);
  await x.until('tried again', () => x.sink.sends >= 3);
  t.is((await x.state.deadLetters('audit-people')).length, 1, 'only the first refused send was parked');
  t.is((await x.state.cursor('audit-people')).seq, 1n, 'the rest waits in the bus');
  refusing = false;
  await x.until('the rest taken', () => x.sink.taken.length === 2);
  await x.stop();
  t.deepEqual(seqs(x.sink.taken), [2, 3]);
});

test('a paused loop sends nothing and refuses a replay; resumed, it sends the backlog', async (t) => {
  const x = await loop();
  x.l.setPaused(true);
  await x.append([ins('1')]);
  x.l.wake();
  await new Promise((r) => setTimeout(r, 100));
  t.is(x.sink.taken.length, 0);
  const e = await t.throwsAsync(() => x.l.replay(new AbortController().signal));
  t.regex(e!.message, /is paused/);
  x.l.setPaused(false);
  await x.until('sent', () => x.sink.taken.length === 1);
  await x.stop();
  t.pass();
});

import type { ExecutionContext, TestFn } from 'ava';
import type { FeedMessage, FeedSink } from '../ports/index.ts';

/** A fresh sink, what its receiver has taken so far (ids in arrival order), and how to dispose of it. */
export interface FeedSinkFixture {
  sink: FeedSink;
  /** Ids the receiver has stored, in order (waits until at least `atLeast` are there, or a short time). */
  received(atLeast: number): Promise<string[]>;
  /** Whether the receiver stores a repeated id once (JetStream) or as often as it is sent (a webhook). */
  deduplicates: boolean;
  cleanup(): Promise<void>;
}

const message = (seq: number, key = `{"id":"${seq % 3}"}`): FeedMessage => ({
  id: `conf:${seq}`,
  key,
  body: JSON.stringify({ specversion: '1.0', id: `conf:${seq}`, source: 'sluice/t/r', type: 'sluice.change.insert' }),
});

/**
 * Registers the FeedSink conformance tests (DESIGN.md, Conventions): the real sinks (JetStream, webhook) and the
 * in-memory double behave alike where the feed loop relies on them.
 */
export function feedSinkConformance(test: TestFn, name: string, factory: () => Promise<FeedSinkFixture>): void {
  const it = (title: string, fn: (t: ExecutionContext, f: FeedSinkFixture) => Promise<void>) =>
    test(`${name} › feed sink › ${title}`, async (t) => {
      const f = await factory();
      try {
        await fn(t, f);
      } finally {
        await f.sink.close();
        await f.cleanup();
      }
    });

  it('a send resolves once the receiver took every message, in order; sends keep their order', async (t, f) => {
    const signal = new AbortController().signal;
    t.true(f.sink.batchSize >= 1);
    const n = Math.min(f.sink.batchSize, 20);
    await f.sink.send(
      Array.from({ length: n }, (_, i) => message(i + 1)),
      signal,
    );
    await f.sink.send([message(n + 1), message(n + 2)], signal);
    t.deepEqual(
      await f.received(n + 2),
      Array.from({ length: n + 2 }, (_, i) => `conf:${i + 1}`),
    );
  });

  it('an empty send takes nothing', async (t, f) => {
    await f.sink.send([], new AbortController().signal);
    t.deepEqual(await f.received(0), []);
  });

  it('a repeated send keeps the ids: the receiver stores it once or sees the same ids again', async (t, f) => {
    const signal = new AbortController().signal;
    await f.sink.send([message(1), message(2)], signal);
    await f.sink.send([message(1), message(2)], signal);
    const got = await f.received(f.deduplicates ? 2 : 4);
    t.deepEqual(got, f.deduplicates ? ['conf:1', 'conf:2'] : ['conf:1', 'conf:2', 'conf:1', 'conf:2']);
  });

  it('an aborted signal rejects the send', async (t, f) => {
    const c = new AbortController();
    c.abort(new Error('stopping'));
    await t.throwsAsync(() => f.sink.send([message(1)], c.signal));
  });
}

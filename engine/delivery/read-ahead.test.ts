import test from 'ava';
import { readAhead } from './read-ahead.ts';

/** A source that records when each page was asked for and whether it was closed. */
function pages(n: number, log: string[], failAt = -1) {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (let i = 0; i < n; i++) {
          log.push(`fetch ${i}`);
          await new Promise((r) => setTimeout(r, 1));
          if (i === failAt) throw new Error(`page ${i} failed`);
          yield i;
        }
      } finally {
        log.push('closed');
      }
    },
  };
}

test('the next page is fetched while the consumer works on the current one; every page once, in order', async (t) => {
  const log: string[] = [];
  const seen: number[] = [];
  for await (const p of readAhead(pages(3, log))) {
    log.push(`use ${p}`);
    seen.push(p);
  }
  t.deepEqual(seen, [0, 1, 2]);
  // page 1 is asked for before page 0 is used
  t.true(log.indexOf('fetch 1') < log.indexOf('use 0'));
  t.is(log.filter((l) => l === 'closed').length, 1);
});

test('a consumer that stops early closes the source after the fetch in flight', async (t) => {
  const log: string[] = [];
  for await (const p of readAhead(pages(10, log))) {
    if (p === 1) break;
  }
  t.deepEqual(log, ['fetch 0', 'fetch 1', 'fetch 2', 'closed']);
});

test('a failing source fails the consumer at the page that failed, after the pages before it', async (t) => {
  const seen: number[] = [];
  await t.throwsAsync(
    async () => {
      for await (const p of readAhead(pages(5, [], 2))) seen.push(p);
    },
    { message: 'page 2 failed' },
  );
  t.deepEqual(seen, [0, 1]);
});

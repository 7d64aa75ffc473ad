/**
 * An async iterable that asks its source for the next item as soon as it hands out the current one, so fetching
 * page n+1 (a query the database answers on another core) overlaps the work the consumer does on page n. One item
 * ahead at most. When the consumer stops early, the fetch in flight is awaited and the source is closed.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  let done = false;
  try {
    for (;;) {
      const r = await next;
      if (r.done) {
        done = true;
        return;
      }
      next = it.next();
      next.catch(() => {}); // a failure is seen when this item is awaited, not as an unhandled rejection
      yield r.value;
    }
  } finally {
    if (!done) {
      // stopped early (break, return, or a failure of the source): settle what is in flight, then close the source
      const pending = await next.catch(() => null);
      if (!pending?.done) await it.return?.();
    }
  }
}

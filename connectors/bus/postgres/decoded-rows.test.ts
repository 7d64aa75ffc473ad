import test from 'ava';
import type { ChangeEvent } from '../../../schemas/index.ts';
import { DecodedRows } from './decoded-rows.ts';

const events = (n: number) => Array.from({ length: n }, (_, i) => ({ seq: String(i) }) as ChangeEvent);

test('rows are kept up to maxEvents, least recently used leave first, and are found by the range they may overlap', (t) => {
  const cache = new DecodedRows(10);
  cache.set('r', 1n, events(4)); // seqs 1-4
  cache.set('r', 5n, events(4)); // 5-8
  cache.set('other', 1n, events(2));
  t.deepEqual(cache.cachedBetween('r', 4n, 8n, 4), ['1', '5']);
  t.deepEqual(cache.cachedBetween('r', 8n, 20n, 4), ['5']);
  t.truthy(cache.get('r', 1n)); // now most recently used
  cache.set('r', 9n, events(4)); // 14 events: the least recently used (r:5) leaves, 10 remain
  t.is(cache.get('r', 5n), undefined);
  t.is(cache.get('other', 1n)!.length, 2);
  cache.set('r', 13n, events(1)); // 11: now r:1 is the least recently used
  t.is(cache.get('r', 1n), undefined);
  cache.set('r', 1n, events(4)); // back: r:9, used least recently, leaves
  t.is(cache.get('r', 1n)!.length, 4);
  t.is(cache.get('r', 9n), undefined);
  t.deepEqual(cache.cachedBetween('r', 0n, 20n, 4).sort(), ['1', '13']);
  cache.set('r', 100n, events(11)); // larger than the whole cache: not kept
  t.is(cache.get('r', 100n), undefined);
});

import test from 'ava';
import { busConformance } from './bus-conformance.ts';
import { MemoryBus } from './memory-bus.ts';
import { MemoryStateStore } from './memory-state-store.ts';
import { stateStoreConformance } from './state-store-conformance.ts';
import { feedSinkConformance } from './feed-sink-conformance.ts';
import { MemoryFeedSink } from './memory-feed-sink.ts';
import { anchorConformance } from './anchor-conformance.ts';
import { MemoryAnchor } from './memory-anchor.ts';

busConformance(test, 'memory', async () => {
  const bus = new MemoryBus();
  return { bus, cleanup: () => bus.close() };
});

stateStoreConformance(test, 'memory', async () => {
  const state = new MemoryStateStore();
  return { state, cleanup: () => state.close() };
});

feedSinkConformance(test, 'memory', async () => {
  const sink = new MemoryFeedSink(50);
  return {
    sink,
    received: async () => sink.taken.map((m) => m.id),
    deduplicates: false,
    cleanup: async () => {},
  };
});

anchorConformance(test, 'memory', async () => ({ anchor: new MemoryAnchor(), cleanup: async () => {} }));

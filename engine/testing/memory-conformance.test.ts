import test from 'ava';
import { busConformance } from './bus-conformance.ts';
import { MemoryBus } from './memory-bus.ts';
import { MemoryStateStore } from './memory-state-store.ts';
import { stateStoreConformance } from './state-store-conformance.ts';

busConformance(test, 'memory', async () => {
  const bus = new MemoryBus();
  return { bus, cleanup: () => bus.close() };
});

stateStoreConformance(test, 'memory', async () => {
  const state = new MemoryStateStore();
  return { state, cleanup: () => state.close() };
});

/** In-memory doubles of the engine ports and the conformance suites every adapter and double passes. */
export { MemoryBus } from './memory-bus.ts';
export { MemoryStateStore } from './memory-state-store.ts';
export { MemoryBatchSink, type WrittenBatch, type WrittenFile } from './memory-batch-sink.ts';
export { canonicalJson } from '../delivery-log/leaf.ts';
export { busConformance, type BusFixture } from './bus-conformance.ts';
export { stateStoreConformance, type StateStoreFixture } from './state-store-conformance.ts';
export { MemoryFeedSink, type MemoryAnswer } from './memory-feed-sink.ts';
export { feedSinkConformance, type FeedSinkFixture } from './feed-sink-conformance.ts';
export { MemoryAnchor } from './memory-anchor.ts';
export { anchorConformance, type AnchorFixture } from './anchor-conformance.ts';

export type * from './source.ts';
export type * from './bus.ts';
export type * from './state-store.ts';
export type * from './logger.ts';
export type * from './batch-sink.ts';
export { silentLogger } from './logger.ts';
export type * from './feed-sink.ts';
export type * from './anchor.ts';

// The encoder thread's entry point: TypeScript loading (tsx) is registered per thread, then the worker module runs.
import { register } from 'tsx/esm/api';

register();
await import('./encode-worker.ts');

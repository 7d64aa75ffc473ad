import type { BatchSubscription } from '../../engine/delivery/cycle-types.ts';
import { SluiceError } from '../../engine/errors.ts';
import type { Bus, SnapshotProgress, SourceStatus } from '../../engine/ports/index.ts';

/** What the state read needs of a source. */
export interface StateSource {
  status(): SourceStatus;
  caughtUp(signal?: AbortSignal): Promise<void>;
}

/**
 * The `snapshot` mode's read of a subscription's current state (CycleDeps.backfill): a backfill for that subscription
 * alone (the source's watermark method: consistent with the stream, no lock), awaited until it is done and on the
 * bus; returns the bus head before the request and after it.
 */
export function stateReader(d: {
  bus: Bus;
  sourceOf: (resource: string) => StateSource;
  request: (resource: string, subscription: string) => Promise<SnapshotProgress>;
}): (sub: BatchSubscription, signal?: AbortSignal) => Promise<{ from: bigint; to: bigint }> {
  return async (sub, signal) => {
    const from = await d.bus.head(sub.resource);
    const source = d.sourceOf(sub.resource);
    const run = await d.request(sub.resource, sub.id);
    for (;;) {
      signal?.throwIfAborted();
      const now = source.status().snapshots?.find((r) => r.id === run.id);
      if (now?.state === 'FAILED') {
        throw new SluiceError('SOURCE_FAILED', `reading the state of "${sub.resource}" failed: ${now.error}`, {
          retriable: true,
          details: { subscription: sub.id, run: run.id },
        });
      }
      if (!now || now.state === 'DONE') break; // (a finished run leaves the list after 20 others)
      await new Promise((r) => setTimeout(r, 100));
    }
    await source.caughtUp(signal); // its last chunk is on the bus
    return { from, to: await d.bus.head(sub.resource) };
  };
}

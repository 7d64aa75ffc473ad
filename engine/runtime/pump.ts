import type { Bus, Logger, Source } from '../ports/index.ts';

export interface PumpOptions {
  /** Resource → schema version stamped on its events (from the state store at start). */
  schemaVersions: ReadonlyMap<string, number>;
  maxEventsPerAppend?: number;
  /** Back-off after a source failure: doubles from min to max. */
  retry?: { minMs: number; maxMs: number };
  onAppend?: (info: { source: string; events: number; checkpoint: string }) => void;
}

/**
 * Moves a source's batches into the bus, confirming each checkpoint to the source only after the append that
 * covers it is durable (DESIGN.md: ack only what is durable). A failing source is retried with back-off; it never
 * takes the process down. Resolves when `signal` aborts.
 */
export async function pumpSource(source: Source, bus: Bus, log: Logger, signal: AbortSignal, opts: PumpOptions) {
  const retry = opts.retry ?? { minMs: 1000, maxMs: 30_000 };
  let backoff = retry.minMs;
  while (!signal.aborted) {
    try {
      for await (const batch of source.read({ maxEvents: opts.maxEventsPerAppend ?? 10_000, signal })) {
        if (batch.events.length > 0) {
          for (const e of batch.events) e.schemaVersion = opts.schemaVersions.get(e.resource) ?? 0;
          await bus.append(source.id, batch.events);
        }
        await source.commit(batch.checkpoint);
        opts.onAppend?.({ source: source.id, events: batch.events.length, checkpoint: batch.checkpoint });
        backoff = retry.minMs;
      }
    } catch (e) {
      if (signal.aborted) break;
      log.error('source failed; retrying', { source: source.id, error: (e as Error).message, retryInMs: backoff });
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, retry.maxMs);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

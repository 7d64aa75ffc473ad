import type { SourceEvent } from '../../schemas/index.ts';
import { SluiceError } from '../errors.ts';
import type { Bus, Logger, ResourceShape, Source } from '../ports/index.ts';

export interface PumpOptions {
  /**
   * Records the shapes a source reports — at each start, and whenever the stream brings a new one (a table's columns
   * changed); returns each one's schema version, in order, to stamp on the events of that shape.
   */
  register: (shapes: ResourceShape[]) => Promise<number[]>;
  maxEventsPerAppend?: number;
  /** Appends handed to the bus before the oldest must be durable (pipelining). Default 2; 1 = none. */
  maxAppendsInFlight?: number;
  /** Back-off after a source failure: doubles from min to max. */
  retry?: { minMs: number; maxMs: number };
  /**
   * Called once, after the first start attempt: without an error when the source started (its slot exists from
   * then on, so no later change is missed), with the error when it failed (it is retried in the background).
   */
  onFirstAttempt?: (error?: unknown) => void;
  /** Sees each batch's events once they are durable in the bus (quality sampling); must not throw or block. */
  observe?: (events: readonly SourceEvent[]) => void;
  /** Receives a function that cuts the current back-off short (an operator asked for a recovery). */
  retryNow?: (wake: () => void) => void;
}

/**
 * Starts a source and moves its batches into the bus, confirming each checkpoint to the source only after the
 * append that covers it is durable (DESIGN.md: ack only what is durable). A source that fails — to start or while
 * streaming — is marked FAILED by itself and restarted with back-off; it never takes the process down. Resolves
 * when `signal` aborts.
 */
export async function pumpSource(source: Source, bus: Bus, log: Logger, signal: AbortSignal, opts: PumpOptions) {
  const retry = opts.retry ?? { minMs: 1000, maxMs: 30_000 };
  let backoff = retry.minMs;
  let wakeSleep: (() => void) | null = null;
  opts.retryNow?.(() => wakeSleep?.());
  let firstAttempt = opts.onFirstAttempt;
  const attempted = (error?: unknown) => {
    firstAttempt?.(error);
    firstAttempt = undefined;
  };
  while (!signal.aborted) {
    try {
      const lastPosition = await bus.sourcePosition(source.id);
      const checkpoint = await bus.sourceCheckpoint(source.id);
      const versions = new Map<number, number>(); // the source's shape number → registered schema version
      const register = async (shapes: ResourceShape[]) => {
        const registered = await opts.register(shapes);
        shapes.forEach((s, i) => versions.set(s.layout, registered[i]!));
      };
      await register(await source.start(signal, { lastPosition, checkpoint }));
      attempted();
      // Two appends in flight: the bus serializes the next batch while the database stores this one; each append
      // follows the previous one (`after`), and stores nothing if that one failed. A checkpoint is confirmed once its
      // append is durable, so the source never confirms past a batch that is not stored.
      const inFlight: Promise<void>[] = [];
      let previous: Promise<unknown> | undefined;
      try {
        for await (const batch of source.read({ maxEvents: opts.maxEventsPerAppend ?? 10_000, signal })) {
          if (batch.events.length === 0 && !batch.checkpoint) continue;
          if (batch.shapes?.length) await register(batch.shapes);
          for (const e of batch.events) {
            const v = versions.get(e.schemaVersion);
            if (v === undefined) throw unreportedShape(source.id, e);
            e.schemaVersion = v;
          }
          const { checkpoint } = batch;
          const appended = bus.append(source.id, batch.events, {
            ...(checkpoint ? { checkpoint } : {}),
            ...(previous ? { after: previous } : {}),
          });
          previous = appended;
          const events = batch.events;
          const stored = appended.then(() => {
            if (opts.observe && events.length > 0) opts.observe(events);
            return checkpoint ? source.commit(checkpoint) : undefined;
          });
          stored.catch(() => {}); // observed when awaited below
          inFlight.push(stored);
          if (inFlight.length >= (opts.maxAppendsInFlight ?? 2)) await inFlight.shift();
          backoff = retry.minMs;
        }
      } finally {
        // whatever ended the stream, let what was handed to the bus finish (or fail) before a restart
        const settled = await Promise.allSettled(inFlight);
        const failed = settled.find((s) => s.status === 'rejected');
        if (failed) throw (failed as PromiseRejectedResult).reason;
      }
    } catch (e) {
      attempted(e);
      if (signal.aborted) break;
      log.error('source failed; retrying', { error: (e as Error).message, retryInMs: backoff });
      await sleep(backoff, signal, (wake) => (wakeSleep = wake));
      wakeSleep = null;
      backoff = Math.min(backoff * 2, retry.maxMs);
    }
  }
}

function unreportedShape(source: string, e: SourceEvent): SluiceError {
  return new SluiceError(
    'INTERNAL',
    `source "${source}" emitted an event of resource "${e.resource}" with shape ${e.schemaVersion}, which it never reported`,
    { details: { source, resource: e.resource, position: e.position } },
  );
}

function sleep(ms: number, signal: AbortSignal, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    onWake(done);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

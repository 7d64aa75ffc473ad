import { createHash } from 'node:crypto';
import { SluiceError } from '../errors.ts';
import type { DeadLetter, DeliveryRecord, FeedMessage, FeedSink, Logger, StateStore, Bus } from '../ports/index.ts';
import type { FeedEvent } from './feed-event.ts';
import { feedRangeLeaf } from '../delivery-log/leaf.ts';
import { FeedShapes, type FeedSubscription } from './feed-shapes.ts';
import { KeyGate } from './key-gate.ts';
import { Waker } from './waker.ts';

export type { FeedSubscription } from './feed-shapes.ts';

export interface FeedLoopDeps {
  bus: Bus;
  state: StateStore;
  sink: FeedSink;
  logger: Logger;
  /** The structured CloudEvents JSON of an event (the `cloudevents` SDK validates it; injected by ops/). */
  encode: (e: FeedEvent) => string;
  /** How long to wait for an append before looking at the bus again (appends also wake the loop: `wake`). */
  pollMs?: number;
  /** Published: how many events, and the commit time of the oldest of them (lag). */
  onPublished?: (subscription: string, events: number, oldestCommitTs: string | null) => void;
  /** The dead-letter store's size after a change. */
  onDeadLetters?: (subscription: string, size: number) => void;
  /** Retention trimmed events the subscription had not received: awaited before the cursor moves past them. */
  onGap?: (subscription: string, gap: { first: bigint; last: bigint }) => Promise<void>;
  /** Test hook (kill -9 tests): called once a range is published, before it is committed. */
  checkpoint?: (point: 'published') => void;
}

/** What `sluice dlq replay|skip` did. */
export interface DeadLetterOutcome {
  /** Events removed without delivery (skip). */
  skipped: number;
  /** Events delivered from the store. */
  replayed: number;
  /** Events still in the store. */
  remaining: number;
}

/** What the loop shows in `sluice status`. */
export interface FeedLoopStatus {
  published: number;
  deadLetters: number;
  paused: boolean;
  lastPublishAt: string | null;
  lastError?: string;
}

/**
 * One feed subscription's delivery loop (DESIGN.md, Feed output). Reads the bus after the subscription's cursor in
 * ranges of at most `maxInFlight` events, turns each into the subscription's CloudEvent (same routing and masks as a
 * batch file), hands them to the sink one send at a time, then commits the range: its delivery record, the events the
 * sink gave up on (dead letters) and the new cursor, in one transaction. A crash before the commit publishes the range
 * again with the same ids (at least once; receivers de-duplicate on the id). Events of a key with a dead letter wait
 * behind it in the store (per-key order); other keys flow. Memory: one range. A slow or dead receiver stalls only
 * this loop; its backlog stays in the bus.
 */
export class FeedLoop {
  private readonly waker = new Waker();
  private readonly gate = new KeyGate();
  private readonly shapes: FeedShapes;
  private readonly commands: { run: () => Promise<unknown>; settle: (e: unknown, v?: unknown) => void }[] = [];
  private paused = false;
  private published = 0;
  private lastPublishAt: string | null = null;
  private lastError: string | undefined;
  private deniedLogged = '';
  /** Whether the receiver took a send since events were last parked (a second failure without one: it is down). */
  private tookSinceParking = true;
  /** The cursor as of the last commit (which may still be in flight); null: read it from the state store. */
  private cursor: bigint | null = null;
  /** Whether the next range first asks the bus how far retention trimmed (after a (re)load, or a gap seen in a read). */
  private checkTrim = true;
  /** The commit in flight: at most one, completing while the next range is read and sent. */
  private committing: Promise<void> | null = null;
  /** The grant as decided at most GRANT_TTL_MS ago (a re-grant or a backfill forgets it: `refresh`). */
  private grantCache: {
    at: number;
    grant: { fields: FeedSubscription['fields']; denied: { field: string; reason: string }[] };
  } | null = null;

  constructor(
    readonly sub: FeedSubscription,
    private readonly deps: FeedLoopDeps,
  ) {
    this.shapes = new FeedShapes(sub, deps.state, deps.encode);
  }

  /** Runs until `signal` aborts; a failing step is logged and retried with back-off (never thrown). */
  async run(signal: AbortSignal): Promise<void> {
    const log = this.deps.logger;
    let backoff = 200;
    let loaded = false;
    while (!signal.aborted) {
      try {
        if (!loaded) {
          this.gate.load(await this.deps.state.deadLetters(this.sub.id));
          this.deps.onDeadLetters?.(this.sub.id, this.gate.size);
          loaded = true;
        }
        await this.runCommands();
        const worked = this.paused ? false : await this.step(signal);
        delete this.lastError;
        backoff = 200;
        if (!worked) await this.waker.wait(this.deps.pollMs ?? 1000, signal);
      } catch (e) {
        // what the state store holds is the truth again: the cursor and the dead letters are read anew
        await this.committing?.catch(() => {});
        this.committing = null;
        this.cursor = null;
        this.checkTrim = true;
        loaded = false;
        if (signal.aborted) break;
        this.lastError = (e as Error).message;
        log.error('feed step failed; retrying', {
          subscription: this.sub.id,
          error: this.lastError,
          retryInMs: backoff,
        });
        await this.waker.wait(backoff, signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    await this.committing?.catch(() => {}); // a range published before the stop is committed (fewer re-sends)
    for (const c of this.commands.splice(0)) c.settle(new SluiceError('UNAVAILABLE', 'the engine is stopping'));
  }

  /** The grant or the resource changed (a re-grant, a backfill, a rotated key): decide again and look now. */
  refresh(): void {
    this.grantCache = null;
    this.shapes.expire();
    this.waker.wake();
  }

  /** New events may be on the bus. */
  wake(): void {
    this.waker.wake();
  }

  /** A paused feed publishes nothing (its backlog stays in the bus) until resumed. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    this.waker.wake();
  }

  status(): FeedLoopStatus {
    return {
      published: this.published,
      deadLetters: this.gate.size,
      paused: this.paused,
      lastPublishAt: this.lastPublishAt,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Sends the dead letters again, in order per key (runs in the loop, between ranges). */
  replay(signal: AbortSignal): Promise<DeadLetterOutcome> {
    return this.command(async () => {
      this.refuseWhilePaused('replay');
      const replayed = await this.replayKeys(null, signal);
      return { skipped: 0, replayed, remaining: this.gate.size };
    });
  }

  /**
   * Drops the failed dead letters (or the one with event id `id`) without delivering them, then sends the events
   * that waited behind them.
   */
  skip(id: string | undefined, signal: AbortSignal): Promise<DeadLetterOutcome> {
    return this.command(async () => {
      const letters = await this.deps.state.deadLetters(this.sub.id);
      const dropped = letters.filter((d) => (id === undefined ? d.state === 'failed' : d.id === id));
      if (id !== undefined && dropped.length === 0) {
        throw new SluiceError('NOT_FOUND', `no dead letter "${id}" for subscription "${this.sub.id}"`, {
          details: { subscription: this.sub.id, id },
        });
      }
      await this.deps.state.removeDeadLetters(
        this.sub.id,
        dropped.map((d) => d.seq),
      );
      for (const d of dropped) this.gate.release(d.key);
      this.deps.logger.warn('dead letters skipped: never delivered', {
        subscription: this.sub.id,
        ids: dropped.map((d) => d.id),
      });
      const keys = new Set(dropped.map((d) => d.key));
      const replayed = this.paused ? 0 : await this.replayKeys(keys, signal);
      this.deps.onDeadLetters?.(this.sub.id, this.gate.size);
      return { skipped: dropped.length, replayed, remaining: this.gate.size };
    });
  }

  /** One range: returns false when there was nothing to do. */
  private async step(signal: AbortSignal): Promise<boolean> {
    const { bus, state, sink } = this.deps;
    const id = this.sub.id;
    let from = (this.cursor ??= (await state.cursor(id)).seq);
    let head = await bus.head(this.sub.resource);
    if (head <= from) return false;
    const trimChecked = this.checkTrim;
    const trimmed = trimChecked ? await bus.trimmed(this.sub.resource) : 0n;
    this.checkTrim = false;
    if (from < trimmed) {
      const gap = { first: from + 1n, last: trimmed };
      this.deps.logger.error('events were trimmed by retention before the feed sent them; a backfill follows', {
        subscription: id,
        firstSeq: gap.first.toString(),
        lastSeq: gap.last.toString(),
      });
      await this.deps.onGap?.(id, gap);
      from = trimmed;
      if (head <= from) {
        await this.settled();
        await state.completeFeedRange({ subscription: id, toSeq: from, at: now(), record: null, parked: [] });
        this.cursor = from;
        return true;
      }
    }
    if (this.sub.lingerMs > 0 && head - from < BigInt(sink.batchSize)) {
      await sleepFor(this.sub.lingerMs, signal);
      head = await bus.head(this.sub.resource);
    }
    const to = head < from + BigInt(this.sub.maxInFlight) ? head : from + BigInt(this.sub.maxInFlight);
    const grant = await this.grant();
    if (grant.fields.length === 0) {
      // nothing may be delivered now: the cursor stays, a later grant sends what waits
      const why = grant.denied.map((d) => `${d.field}: ${d.reason}`).join('; ');
      if (why !== this.deniedLogged) {
        this.deps.logger.warn('no field granted; the feed waits', { subscription: id, denied: why });
        this.deniedLogged = why;
      }
      return false;
    }
    this.deniedLogged = '';
    await this.shapes.refresh();
    const messages: (FeedMessage & { seq: bigint })[] = [];
    let oldest: string | null = null;
    let first: bigint | null = null;
    for await (const page of bus.read(this.sub.resource, from, to, { pageSize: 1000, signal })) {
      first ??= BigInt(page[0]!.seq);
      for (const e of page) {
        const event = await this.shapes.event(grant.fields, e);
        if (!event) continue;
        oldest ??= e.commitTs;
        messages.push({ id: event.id, key: event.subject ?? '', body: event.body, seq: BigInt(e.seq) });
      }
    }
    if (first !== from + 1n) {
      this.checkTrim = true;
      if (trimChecked) {
        throw new SluiceError(
          'STATE_CORRUPT',
          `the bus read after seq ${from} of "${this.sub.resource}" began at ${first}`,
          {
            retriable: true,
            details: { subscription: id, from: from.toString(), first: first?.toString() ?? null },
          },
        );
      }
      return true; // retention trimmed events after the cursor since the last look (seqs are dense): the gap first
    }
    const parked: DeadLetter[] = [];
    const sent = new SentDigest();
    const park = (m: FeedMessage & { seq: bigint }, attempts: number, error?: string) => {
      const waiting = this.gate.blocked(m.key);
      parked.push({
        subscription: id,
        seq: m.seq,
        id: m.id,
        key: m.key,
        body: m.body,
        state: waiting ? 'waiting' : 'failed',
        attempts: waiting ? 0 : attempts,
        ...(waiting || error === undefined ? {} : { error }),
        parkedAt: now(),
      });
      this.gate.hold(m.key);
    };
    let chunk: (FeedMessage & { seq: bigint })[] = [];
    let down: { at: bigint; error: Error } | null = null;
    const flush = async () => {
      if (chunk.length === 0) return;
      const c = chunk;
      chunk = [];
      try {
        await sink.send(c, signal);
        for (const m of c) sent.add(m.body);
        this.tookSinceParking = true;
      } catch (e) {
        if (signal.aborted) throw e;
        // A receiver that cannot be reached, or that has taken nothing since events were last parked, is down rather
        // than refusing these events: they stay in the bus (the cursor stops before them) instead of filling the
        // dead-letter store with everything that follows.
        if ((e as SluiceError).details?.unreachable === true || !this.tookSinceParking) {
          down = { at: c[0]!.seq - 1n, error: e as Error };
          return;
        }
        this.tookSinceParking = false;
        const attempts = Number((e as SluiceError).details?.attempts ?? 1);
        this.deps.logger.error('events parked in the dead-letter store: the receiver did not take them', {
          subscription: id,
          events: c.length,
          firstId: c[0]!.id,
          error: (e as Error).message,
        });
        for (const m of c) park(m, attempts, (e as Error).message);
      }
    };
    for (const m of messages) {
      if (this.gate.blocked(m.key)) park(m, 0);
      else {
        chunk.push(m);
        if (chunk.length >= sink.batchSize) await flush();
      }
      if (down) break;
    }
    if (!down) await flush();
    this.deps.checkpoint?.('published');
    const stop: bigint | null = (down as { at: bigint } | null)?.at ?? null;
    if (stop !== null) {
      // what was handled before the receiver went down is committed; the rest waits in the bus
      const handled = parked.filter((d) => d.seq <= stop);
      const upTo = stop > from ? stop : from;
      if (upTo > from) await this.commit(from, upTo, sent, handled, oldest);
      await this.settled();
      this.gate.load(await state.deadLetters(id)); // (holds taken for events past the stop are not stored)
      throw new SluiceError(
        'UNAVAILABLE',
        `the receiver is down: ${(down as unknown as { error: Error }).error.message}`,
        {
          retriable: true,
          details: { subscription: id },
        },
      );
    }
    await this.commit(from, to, sent, parked, oldest);
    return true;
  }

  /**
   * Commits a range: its delivery record, its parked events and the cursor, together. The commit completes while the
   * next range is read and sent (its latency is off the path of every event); at most one is in flight — the
   * previous one is awaited first, and its failure surfaces here (the loop then reads the cursor again and re-sends
   * from it: at least once).
   */
  private async commit(from: bigint, to: bigint, sent: SentDigest, parked: DeadLetter[], oldest: string | null) {
    await this.settled();
    const id = this.sub.id;
    const at = now();
    let record: DeliveryRecord | null = null;
    if (sent.count > 0) {
      const deliveryId = `${id}:${from + 1n}-${to}`;
      // the digest of what was published (the events' JSON, one per line): the delivery log's leaf covers it
      const sha256 = sent.hex();
      const range = { deliveryId, subscription: id, firstSeq: from + 1n, lastSeq: to };
      record = {
        ...range,
        stem: 'feed',
        rows: sent.count,
        manifestSha256: sha256,
        parts: [],
        leaf: feedRangeLeaf({ ...range, resource: this.sub.resource, events: sent.count, sha256, at }),
      };
    }
    const committing = (async () => {
      await this.deps.state.completeFeedRange({ subscription: id, toSeq: to, at, record, parked });
      if (parked.length > 0) this.deps.onDeadLetters?.(id, this.gate.size);
      if (sent.count > 0) {
        this.published += sent.count;
        this.lastPublishAt = now();
        this.deps.onPublished?.(id, sent.count, oldest);
      }
    })();
    committing.catch(() => {}); // seen by the next settled()
    this.committing = committing;
    this.cursor = to;
  }

  /** Waits for the commit in flight; throws its failure. */
  private async settled(): Promise<void> {
    const c = this.committing;
    this.committing = null;
    await c;
  }

  /** The subscription's grant now, decided again at most every GRANT_TTL_MS (validity windows, revocations). */
  private async grant() {
    const at = Date.now();
    if (this.grantCache && at - this.grantCache.at < GRANT_TTL_MS) return this.grantCache.grant;
    const grant = this.sub.grant ? await this.sub.grant(new Date(at)) : { fields: this.sub.fields, denied: [] };
    this.grantCache = { at, grant };
    return grant;
  }

  /** Sends the dead letters of `keys` (all when null) in seq order per key; a key that fails again stays parked. */
  private async replayKeys(keys: Set<string> | null, signal: AbortSignal): Promise<number> {
    const { state, sink } = this.deps;
    const letters = (await state.deadLetters(this.sub.id)).filter((d) => keys === null || keys.has(d.key));
    const byKey = new Map<string, DeadLetter[]>();
    for (const d of letters) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
    let replayed = 0;
    for (const [key, list] of byKey) {
      for (let i = 0; i < list.length; i += sink.batchSize) {
        const c = list.slice(i, i + sink.batchSize);
        try {
          await sink.send(
            c.map((d) => ({ id: d.id, key: d.key, body: d.body })),
            signal,
          );
        } catch (e) {
          if (signal.aborted) throw e;
          const attempts = Number((e as SluiceError).details?.attempts ?? 1);
          await state.markDeadLetters(this.sub.id, [c[0]!.seq], {
            state: 'failed',
            attempts,
            error: (e as Error).message,
          });
          break;
        }
        await state.removeDeadLetters(
          this.sub.id,
          c.map((d) => d.seq),
        );
        for (const d of c) this.gate.release(d.key);
        replayed += c.length;
      }
      if (!this.gate.blocked(key)) this.deps.logger.info('dead letters replayed', { subscription: this.sub.id });
    }
    this.deps.onDeadLetters?.(this.sub.id, this.gate.size);
    return replayed;
  }

  private refuseWhilePaused(what: string): void {
    if (this.paused) {
      throw new SluiceError(
        'CONFLICT',
        `subscription "${this.sub.id}" is paused; \`sluice resume ${this.sub.id}\` before a ${what}`,
        {
          details: { subscription: this.sub.id },
        },
      );
    }
  }

  private command<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.commands.push({ run, settle: (e, v) => (e === undefined ? resolve(v as T) : reject(e as Error)) });
      this.waker.wake();
    });
  }

  private async runCommands(): Promise<void> {
    if (this.commands.length > 0) await this.settled(); // the dead letters of the last range are stored
    for (let c = this.commands.shift(); c; c = this.commands.shift()) {
      try {
        c.settle(undefined, await c.run());
      } catch (e) {
        c.settle(e ?? new Error('failed'));
      }
    }
  }
}

const now = () => new Date().toISOString();

/** How long a feed keeps a grant decision before deciding again (a revocation stops the feed within this). */
const GRANT_TTL_MS = 1000;

/** The sha256 of the published events' JSON, one per line, built as they are sent (the range's bodies are not kept). */
class SentDigest {
  private readonly hash = createHash('sha256');
  count = 0;
  add(body: string): void {
    this.hash.update(this.count === 0 ? body : `\n${body}`);
    this.count++;
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

import type { ChangeEvent, SourceEvent } from '../../schemas/index.ts';
import type { AppendResult, Bus } from '../ports/index.ts';

type Stored = Omit<ChangeEvent, 'resource'> & { appendedAt: number };

/**
 * In-memory {@link Bus} with the Postgres adapter's semantics: per-source idempotency by position (events whose
 * position is not after the source's stored position are skipped), a per-resource seq assigned at append, and
 * events stored as JSON (so `undefined` properties vanish exactly as they do in a jsonb column). Each call is
 * atomic: nothing is awaited between reading and updating the state.
 */
export class MemoryBus implements Bus {
  private readonly positions = new Map<string, string>();
  private readonly heads = new Map<string, bigint>();
  private readonly log = new Map<string, Stored[]>();

  private readonly checkpoints = new Map<string, string>();
  /** Per resource: how many of its first events were trimmed (seq n lives at index n - 1 - trimmed). */
  private readonly cut = new Map<string, number>();

  async append(
    source: string,
    events: SourceEvent[],
    opts: { checkpoint?: string; after?: Promise<unknown> } = {},
  ): Promise<AppendResult> {
    await opts.after; // pipelining: written only after the previous append, not at all if it failed
    return this.appendNow(source, events, opts);
  }

  private appendNow(source: string, events: SourceEvent[], opts: { checkpoint?: string }): AppendResult {
    const stored = this.positions.get(source) ?? '';
    if (!this.positions.has(source)) this.positions.set(source, '');
    const fresh = events.filter((e) => e.position > stored);
    const heads: Record<string, bigint> = {};
    if (fresh.length === 0) {
      if (opts.checkpoint) this.checkpoints.set(source, opts.checkpoint);
      return { appended: 0, heads };
    }
    // Serialize first, so that a value JSON cannot hold fails the whole append before anything is stored.
    const rows = fresh.map((e) => {
      const { resource, ...rest } = e;
      return { resource, event: JSON.parse(JSON.stringify(rest)) as Omit<SourceEvent, 'resource'> };
    });
    for (const { resource } of rows) heads[resource] = this.heads.get(resource) ?? 0n;
    for (const { resource, event } of rows) {
      const seq = heads[resource]! + 1n;
      heads[resource] = seq;
      let list = this.log.get(resource);
      if (!list) this.log.set(resource, (list = []));
      list.push({ ...event, seq: seq.toString(), appendedAt: Date.now() });
    }
    for (const [resource, seq] of Object.entries(heads)) this.heads.set(resource, seq);
    this.positions.set(source, fresh[fresh.length - 1]!.position);
    if (opts.checkpoint) this.checkpoints.set(source, opts.checkpoint);
    return { appended: fresh.length, heads };
  }

  async sourceCheckpoint(source: string): Promise<string | null> {
    return this.checkpoints.get(source) ?? null;
  }

  async sourcePosition(source: string): Promise<string | null> {
    return this.positions.get(source) || null;
  }

  async trim(
    resource: string,
    opts: { upToSeq: bigint; appendedBefore: Date },
  ): Promise<{ trimmed: bigint; events: number }> {
    const list = this.log.get(resource) ?? [];
    let n = 0;
    while (
      n < list.length &&
      BigInt(list[n]!.seq) <= opts.upToSeq &&
      list[n]!.appendedAt < opts.appendedBefore.getTime()
    )
      n++;
    list.splice(0, n);
    this.cut.set(resource, (this.cut.get(resource) ?? 0) + n);
    return { trimmed: BigInt(this.cut.get(resource) ?? 0), events: n };
  }

  async trimmed(resource: string): Promise<bigint> {
    return BigInt(this.cut.get(resource) ?? 0);
  }

  async head(resource: string): Promise<bigint> {
    return this.heads.get(resource) ?? 0n;
  }

  async *read(
    resource: string,
    fromExclusive: bigint,
    toInclusive: bigint,
    opts: { pageSize?: number; signal?: AbortSignal } = {},
  ): AsyncIterable<ChangeEvent[]> {
    const pageSize = opts.pageSize ?? 10_000;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer`);
    const list = this.log.get(resource) ?? [];
    const cut = BigInt(this.cut.get(resource) ?? 0);
    let after = fromExclusive < cut ? cut : fromExclusive;
    while (after < toInclusive) {
      opts.signal?.throwIfAborted();
      // seq n lives at index n - 1 - cut: the log of a resource is dense from cut + 1.
      const start = Number(after - cut);
      const end = toInclusive - cut < BigInt(list.length) ? Number(toInclusive - cut) : list.length;
      const page = list.slice(start, Math.min(end, start + pageSize));
      if (page.length === 0) return;
      yield page.map(({ appendedAt: _appendedAt, ...e }) => ({ ...structuredClone(e), resource }));
      after = BigInt(page[page.length - 1]!.seq);
    }
  }

  async close(): Promise<void> {}
}

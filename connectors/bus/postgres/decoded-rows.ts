import type { ChangeEvent } from '../../../schemas/index.ts';

/**
 * Batch rows already decoded, shared by every reader of this bus: the subscriptions of one resource read the same
 * rows at the same tick, and each row is fetched and decoded once (DESIGN: decode once, evaluate each subscription).
 * Least recently used rows go first once more than `maxEvents` events are held. Readers must treat the events as
 * read-only — they are the same objects for every reader.
 */
export class DecodedRows {
  private readonly rows = new Map<string, ChangeEvent[]>();
  private readonly firsts = new Map<string, Set<bigint>>();
  private events = 0;

  constructor(private readonly maxEvents = 50_000) {}

  private static id(resource: string, first: bigint): string {
    return `${resource}\u0000${first}`;
  }

  get(resource: string, first: bigint): ChangeEvent[] | undefined {
    const id = DecodedRows.id(resource, first);
    const row = this.rows.get(id);
    if (row) {
      this.rows.delete(id); // most recently used last
      this.rows.set(id, row);
    }
    return row;
  }

  set(resource: string, first: bigint, events: ChangeEvent[]): void {
    if (events.length > this.maxEvents) return;
    const id = DecodedRows.id(resource, first);
    if (this.rows.has(id)) return;
    this.rows.set(id, events);
    let set = this.firsts.get(resource);
    if (!set) this.firsts.set(resource, (set = new Set()));
    set.add(first);
    this.events += events.length;
    for (const [old, row] of this.rows) {
      if (this.events <= this.maxEvents) break;
      this.rows.delete(old);
      this.events -= row.length;
      const [r, f] = old.split('\u0000') as [string, string];
      this.firsts.get(r)?.delete(BigInt(f));
    }
  }

  /** First seqs of the cached rows of `resource` that may overlap (from, to]: rows start at most `maxRow` before. */
  cachedBetween(resource: string, from: bigint, to: bigint, maxRow: number): string[] {
    const out: string[] = [];
    const low = from + 1n - BigInt(maxRow);
    for (const f of this.firsts.get(resource) ?? []) if (f >= low && f <= to) out.push(f.toString());
    return out;
  }
}

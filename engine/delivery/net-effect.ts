import type { ChangeEvent, Row } from '../../schemas/index.ts';

type Op = ChangeEvent['op'];

interface KeyState {
  /** The first op the subscriber would have seen for the key in this cycle (after its row filter). */
  first: Op;
  /** The seq of the last one: the only event of the key that is delivered. */
  lastSeq: string;
}

/**
 * The `latest` incremental mode (DESIGN.md): the net effect per key within a cycle, computed over what the subscriber
 * would see — the ops after its row filter (an update moving a row out of the filter is a delete for it). Two passes
 * over the cycle's events in seq order: `observe` each one, then `select` says for each whether it is delivered and
 * as what. Only a key's last event is delivered, with the op that takes the subscriber from the state before the
 * cycle to the state after it:
 *
 * | first op of the key | last op | delivered |
 * |---|---|---|
 * | `c` (did not exist) | `c`/`u` | `c` with the final values |
 * | `c` | `d` | nothing (created and deleted in the cycle) |
 * | `u`/`d` (existed) | `c`/`u` | `u` with the final values |
 * | `u`/`d` | `d` | `d` |
 * | `r` (a state row) | `c`/`u`/`r` | `r` with the final values |
 * | `r` | `d` | `d` |
 *
 * A truncate supersedes every change before it in the cycle: only the cycle's last truncate is delivered, and keys
 * are netted from it on. Memory: one entry per distinct key changed in the cycle.
 */
export class NetEffect {
  private readonly keys = new Map<string, KeyState & { version: number; deleted: boolean }>();
  private lastTruncate: string | null = null;
  private observed = 0;

  /**
   * `latest`: the net change per key. `state` (the `snapshot` mode): the state per key at the end of the range —
   * every key's last event as a state row (`r`) unless it was a delete; truncates are not delivered (they only
   * clear what came before them).
   */
  constructor(private readonly mode: 'latest' | 'state' = 'latest') {}

  /** Pass 1: an event in seq order, with the op its subscription sees (null: filtered out, not seen). */
  observe(e: ChangeEvent, op: Op | null): void {
    if (op === null) return;
    this.observed++;
    if (op === 't') {
      this.keys.clear();
      this.lastTruncate = e.seq;
      return;
    }
    const k = keyOf(e.key);
    const known = this.keys.get(k);
    if (known) {
      known.lastSeq = e.seq;
      known.version = e.schemaVersion;
      known.deleted = op === 'd';
    } else this.keys.set(k, { first: op, lastSeq: e.seq, version: e.schemaVersion, deleted: op === 'd' });
  }

  /** `state`: the schema versions the delivered rows have (one file per version). */
  versions(): Set<number> {
    const out = new Set<number>();
    for (const s of this.keys.values()) if (!s.deleted) out.add(s.version);
    return out;
  }

  /** Pass 2: the op to deliver the event as, or null when a later event of its key (or a truncate) supersedes it. */
  select(e: ChangeEvent, op: Op): Op | null {
    if (op === 't') return this.mode === 'latest' && e.seq === this.lastTruncate ? 't' : null;
    const s = this.keys.get(keyOf(e.key));
    if (!s || s.lastSeq !== e.seq) return null;
    if (this.mode === 'state') return op === 'd' ? null : 'r';
    const existsAfter = op !== 'd';
    if (s.first === 'r') return existsAfter ? 'r' : 'd';
    const existedBefore = s.first !== 'c';
    if (existsAfter) return existedBefore ? 'u' : 'c';
    return existedBefore ? 'd' : null;
  }

  /** Events seen by the subscription in pass 1 (to count how many were folded into others). */
  get seen(): number {
    return this.observed;
  }
}

/** A key's identity: its values in column-name order (the key columns never change while a resource streams). */
function keyOf(key: Row): string {
  return JSON.stringify(
    Object.keys(key)
      .sort()
      .map((k) => key[k] ?? null),
  );
}

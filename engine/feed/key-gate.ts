import type { DeadLetter } from '../ports/index.ts';

/**
 * Per-key order behind the dead-letter store: a key with a dead letter is held, and every later event of it is
 * parked behind that one until the store has none of the key left (replayed or skipped). Counts per key.
 */
export class KeyGate {
  private readonly held = new Map<string, number>();
  private total = 0;

  /** Starts from the stored dead letters. */
  load(letters: readonly DeadLetter[]): void {
    this.held.clear();
    this.total = 0;
    for (const d of letters) this.hold(d.key);
  }

  blocked(key: string): boolean {
    return this.held.has(key);
  }

  /** One more event of `key` in the store. */
  hold(key: string): void {
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    this.total++;
  }

  /** One event of `key` left the store. */
  release(key: string): void {
    const n = this.held.get(key);
    if (n === undefined) return;
    if (n <= 1) this.held.delete(key);
    else this.held.set(key, n - 1);
    this.total--;
  }

  /** Events in the store. */
  get size(): number {
    return this.total;
  }
}

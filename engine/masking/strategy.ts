/**
 * Masking strategies and the classification × clearance matrix (DESIGN.md, "Masking").
 *
 * A matrix row maps clearance thresholds ("0".."4") and "default" to a strategy; the highest threshold key that is
 * ≤ the subscriber's clearance applies, else "default", else `deny` (deny by default).
 */

/** What happens to a column's values on their way to a subscriber. */
export type Strategy = 'clear' | 'partial' | 'generalize' | 'encrypt' | 'hash' | 'null' | 'deny';

/** Every strategy, ordered from least to most strict: `clear < partial < … < null < deny`. */
export const STRICTNESS: readonly Strategy[] = Object.freeze([
  'clear',
  'partial',
  'generalize',
  'encrypt',
  'hash',
  'null',
  'deny',
] as const);

/** Data classification (Data Security Law; GB/T 43697-2024): core / important / general data. */
export type Level = 'core' | 'important' | 'general';

/** One matrix row: clearance threshold keys `"0"`..`"4"` and `"default"` → strategy. */
export type MaskingRow = Record<string, Strategy>;

/** Classification level → row of clearance thresholds. */
export type MaskingMatrix = Record<Level, MaskingRow>;

/**
 * The built-in matrix: core data is never shared, important data is clear at clearance 4, partially masked at 3 and
 * hashed below, general data is clear.
 */
export const DEFAULT_MASKING: Readonly<MaskingMatrix> = Object.freeze({
  core: Object.freeze({ default: 'deny' }),
  important: Object.freeze({ '4': 'clear', '3': 'partial', default: 'hash' }),
  general: Object.freeze({ default: 'clear' }),
}) as Readonly<MaskingMatrix>;

const RANK: ReadonlyMap<string, number> = new Map(STRICTNESS.map((s, i) => [s, i]));

/** Whether `s` names a strategy. */
export function isStrategy(s: string): s is Strategy {
  return RANK.has(s);
}

/** Position of `s` in {@link STRICTNESS} (0 = `clear`, 6 = `deny`). */
export function strictnessRank(s: Strategy): number {
  const r = RANK.get(s);
  if (r === undefined) throw new TypeError(`unknown masking strategy: ${String(s)}`);
  return r;
}

/**
 * Whether `a` is at least as strict as `b` (equal or further right in {@link STRICTNESS}). A per-subscription
 * override `a` of a matrix strategy `b` is allowed only when this holds.
 */
export function isAtLeastAsStrict(a: Strategy, b: Strategy): boolean {
  return strictnessRank(a) >= strictnessRank(b);
}

/** The stricter of two strategies. */
export function stricterOf(a: Strategy, b: Strategy): Strategy {
  return isAtLeastAsStrict(a, b) ? a : b;
}

/**
 * The strategy for a field of classification `level` seen by a subscriber of `clearance`: the value of the highest
 * numeric threshold key ≤ `clearance`, else the row's `default`, else `deny`. Keys that are neither non-negative
 * integers nor `default` are ignored; a missing row resolves to `deny`.
 */
export function resolveStrategy(matrix: Readonly<MaskingMatrix>, level: Level, clearance: number): Strategy {
  const row: Readonly<MaskingRow> | undefined = matrix[level];
  if (row === undefined) return 'deny';
  let best = -1;
  let chosen: Strategy | undefined;
  for (const [key, strategy] of Object.entries(row)) {
    if (!/^\d+$/.test(key)) continue;
    const threshold = Number(key);
    if (threshold <= clearance && threshold > best) {
      best = threshold;
      chosen = strategy;
    }
  }
  return chosen ?? row['default'] ?? 'deny';
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `"30s"`, `"500ms"`, `"2m"`, `"12h"`, `"7d"` → ms (the config's duration format); `fallbackMs` when absent or malformed. */
export function parseDuration(s: string | undefined, fallbackMs: number): number {
  if (!s) return fallbackMs;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s);
  if (!m) return fallbackMs;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

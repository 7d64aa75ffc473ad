/** `"30s"`, `"500ms"`, `"2m"` → ms (the config's duration format); `fallbackMs` when absent or malformed. */
export function parseDuration(s: string | undefined, fallbackMs: number): number {
  if (!s) return fallbackMs;
  const m = /^(\d+)(ms|s|m)$/.exec(s);
  if (!m) return fallbackMs;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

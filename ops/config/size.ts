const UNIT = { KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;

/** `"512KB"`, `"256MB"`, `"1GB"` → bytes (powers of 1024, the config's size format); `fallback` when absent. */
export function parseSize(s: string | undefined, fallback: number): number {
  const m = s ? /^(\d+)(KB|MB|GB)$/.exec(s) : null;
  return m ? Number(m[1]) * UNIT[m[2] as keyof typeof UNIT] : fallback;
}

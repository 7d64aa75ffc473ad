import type { Row } from '../../schemas/index.ts';

/** A key as canonical JSON: columns sorted by name, so equal keys give equal text (and equal hashes). */
export function canonicalKey(key: Row): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.keys(key)
        .sort()
        .map((k) => [k, key[k] ?? null]),
    ),
  );
}

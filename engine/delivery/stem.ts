/** `2026-12-03T16:00:00.000Z` → `20261203T160000Z` (DESIGN.md, Batch output). */
export function tickLabel(tickIso: string): string {
  const d = new Date(tickIso);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a tick: ${tickIso}`);
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** `<tick>_<firstSeq>-<lastSeq>` */
export function batchStem(tickIso: string, firstSeq: bigint, lastSeq: bigint): string {
  return `${tickLabel(tickIso)}_${firstSeq}-${lastSeq}`;
}

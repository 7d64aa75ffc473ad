/**
 * What a subscription needs when the engine starts it (StateStore.registerSubscription, shared by every adapter):
 * one never seen and without a cursor starts at the head, with a backfill when the resource has data; a known one
 * whose fields grew needs a backfill of them; a need already stored stays until it is requested.
 */
export function subscriptionStart(
  known: { fields: readonly string[]; backfill: string | null } | null,
  hasCursor: boolean,
  s: { fields: readonly string[]; head: bigint },
): { created: boolean; backfill: string | null } {
  if (!known) {
    const created = !hasCursor;
    return { created, backfill: created && s.head > 0n ? 'new subscription on a resource with data' : null };
  }
  const added = s.fields.filter((f) => !known.fields.includes(f));
  return { created: false, backfill: added.length > 0 ? `fields added: ${added.join(', ')}` : known.backfill };
}

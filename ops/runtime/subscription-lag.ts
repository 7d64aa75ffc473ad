import type pg from 'pg';

/** How far a subscription is behind its resource's bus. */
export interface SubscriptionLag {
  /** Age of the oldest change not yet delivered (0 when caught up). */
  lagSeconds: number;
  /** Events on the bus after its cursor. */
  backlogEvents: number;
}

/**
 * Reads a subscription's lag from the state DB (the Postgres bus and the cursors): the next undelivered event is
 * element (next - first_seq) of the batch row holding seq next, and its commit time is how old it is.
 */
export async function subscriptionLag(pool: pg.Pool, resource: string, subscription: string): Promise<SubscriptionLag> {
  const { rows } = await pool.query<{ lag: number | null; backlog: string }>(
    // (the row with the greatest first_seq ≤ next, found by the index; it holds next unless all is delivered)
    `select (select case when b.last_seq >= n.seq
                         then extract(epoch from now() - sluice_bus_commit_ts(b.events, (n.seq - b.first_seq)::int))::float8
                    end
               from sluice_bus_batches b
              where b.resource = $1 and b.first_seq <= n.seq
              order by b.first_seq desc limit 1) as lag,
            greatest(coalesce((select seq from sluice_bus_heads where resource = $1), 0) - n.seq + 1, 0) as backlog
       from (select coalesce((select seq from sluice_cursors where subscription = $2), 0) + 1 as seq) n`,
    [resource, subscription],
  );
  return { lagSeconds: Math.max(0, rows[0]?.lag ?? 0), backlogEvents: Number(rows[0]?.backlog ?? 0) };
}

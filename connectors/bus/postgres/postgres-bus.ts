import type pg from 'pg';
import type { AppendResult, Bus } from '../../../engine/ports/index.ts';
import type { ChangeEvent, SourceEvent } from '../../../schemas/index.ts';
import { withTransaction } from '../../state/postgres/transaction.ts';

type StoredEvent = Omit<ChangeEvent, 'resource' | 'seq' | 'position'>;

/** Events per insert statement within one append. */
const INSERT_CHUNK = 10_000;

/**
 * The embedded default bus: an append-only log table in the state database (DESIGN.md, Ports). One row per event,
 * keyed by (resource, seq). Appends are serialized per source by a row lock on the source's position, which also
 * makes them idempotent: events not after the stored position are replays and are skipped.
 */
export class PostgresBus implements Bus {
  constructor(private readonly pool: pg.Pool) {}

  async append(source: string, events: SourceEvent[], opts: { checkpoint?: string } = {}): Promise<AppendResult> {
    return withTransaction(this.pool, async (c) => {
      await c.query(`insert into sluice_bus_sources (source, position) values ($1, '') on conflict do nothing`, [
        source,
      ]);
      const { rows } = await c.query<{ position: string }>(
        'select position from sluice_bus_sources where source = $1 for update',
        [source],
      );
      const stored = rows[0]?.position ?? '';
      const fresh = events.filter((e) => e.position > stored);
      const heads: Record<string, bigint> = {};
      if (opts.checkpoint) {
        await c.query('update sluice_bus_sources set checkpoint = $2 where source = $1', [source, opts.checkpoint]);
      }
      if (fresh.length === 0) return { appended: 0, heads };

      const resources = [...new Set(fresh.map((e) => e.resource))].sort();
      await c.query(
        'insert into sluice_bus_heads (resource, seq) select unnest($1::text[]), 0 on conflict do nothing',
        [resources],
      );
      const headRows = await c.query<{ resource: string; seq: string }>(
        'select resource, seq from sluice_bus_heads where resource = any($1) order by resource for update',
        [resources],
      );
      for (const r of headRows.rows) heads[r.resource] = BigInt(r.seq);

      // One JSON document per statement (a native stringify, no per-element array-literal escaping), in chunks so
      // that a huge transaction never builds a string beyond V8's limit; all chunks commit together.
      for (let i = 0; i < fresh.length; i += INSERT_CHUNK) {
        const doc: [string, string, string, StoredEvent][] = [];
        for (const e of fresh.slice(i, i + INSERT_CHUNK)) {
          const seq = (heads[e.resource] ?? 0n) + 1n;
          heads[e.resource] = seq;
          const { resource, position, ...rest } = e;
          doc.push([resource, seq.toString(), position, rest]);
        }
        await c.query(
          `insert into sluice_bus_events (resource, seq, source, position, event)
           select x->>0, (x->>1)::bigint, $2, x->>2, x->3 from json_array_elements($1::json) as x`,
          [JSON.stringify(doc), source],
        );
      }
      await c.query(
        'update sluice_bus_heads h set seq = v.seq from unnest($1::text[], $2::bigint[]) as v(resource, seq) where h.resource = v.resource',
        [Object.keys(heads), Object.values(heads).map(String)],
      );
      await c.query('update sluice_bus_sources set position = $2 where source = $1', [
        source,
        fresh[fresh.length - 1]!.position,
      ]);
      return { appended: fresh.length, heads };
    });
  }

  async sourcePosition(source: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ position: string }>(
      'select position from sluice_bus_sources where source = $1',
      [source],
    );
    return rows[0]?.position || null;
  }

  async sourceCheckpoint(source: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ checkpoint: string | null }>(
      'select checkpoint from sluice_bus_sources where source = $1',
      [source],
    );
    return rows[0]?.checkpoint ?? null;
  }

  async head(resource: string): Promise<bigint> {
    const { rows } = await this.pool.query<{ seq: string }>('select seq from sluice_bus_heads where resource = $1', [
      resource,
    ]);
    return BigInt(rows[0]?.seq ?? 0);
  }

  async *read(
    resource: string,
    fromExclusive: bigint,
    toInclusive: bigint,
    opts: { pageSize?: number; signal?: AbortSignal } = {},
  ): AsyncIterable<ChangeEvent[]> {
    const pageSize = opts.pageSize ?? 10_000;
    let after = fromExclusive;
    while (after < toInclusive) {
      opts.signal?.throwIfAborted();
      const { rows } = await this.pool.query<{ seq: string; position: string; event: StoredEvent }>(
        `select seq, position, event from sluice_bus_events
         where resource = $1 and seq > $2 and seq <= $3 order by seq limit $4`,
        [resource, after.toString(), toInclusive.toString(), pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map((r) => Object.assign(r.event, { resource, seq: r.seq, position: r.position }) as ChangeEvent);
      after = BigInt(rows[rows.length - 1]!.seq);
    }
  }

  async close(): Promise<void> {}
}

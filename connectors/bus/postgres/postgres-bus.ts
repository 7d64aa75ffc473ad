import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AppendResult, Bus } from '../../../engine/ports/index.ts';
import type { ChangeEvent, SourceEvent } from '../../../schemas/index.ts';
import { withTransaction } from '../../state/postgres/transaction.ts';

type StoredEvent = Omit<ChangeEvent, 'resource' | 'seq' | 'position'>;

/** Characters of COPY rows per chunk written to the server. */
const COPY_CHUNK_CHARS = 1 << 20;

/** An event serialized for COPY, all but its seq: `<resource>\t` + seq + `rest`. */
interface PreparedEvent {
  resource: string;
  position: string;
  /** `\t<source>\t<position>\t<event JSON>\n`, COPY-escaped. */
  rest: string;
}

/**
 * Serializes events for COPY text format (tab-separated, newline-terminated) at call time, before the append waits
 * for the one ahead of it. Only the JSON needs escaping: JSON.stringify already writes control characters as
 * escapes, so no raw tab or newline can occur, and COPY's own escape character, the backslash, is doubled.
 */
function prepare(events: SourceEvent[], source: string): PreparedEvent[] {
  return events.map((e) => {
    const { resource, position, ...stored } = e;
    const json = JSON.stringify(stored satisfies StoredEvent);
    const escaped = json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
    return { resource, position, rest: `\t${source}\t${position}\t${escaped}\n` };
  });
}

/** COPY rows for prepared events, assigning each its resource's next seq in `heads`, in ~1 MiB chunks. */
function* copyRows(events: PreparedEvent[], heads: Record<string, bigint>): Generator<string> {
  let chunk = '';
  for (const e of events) {
    const seq = (heads[e.resource] ?? 0n) + 1n;
    heads[e.resource] = seq;
    chunk += `${e.resource}\t${seq}${e.rest}`;
    if (chunk.length >= COPY_CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * The embedded default bus: an append-only log table in the state database (DESIGN.md, Ports). One row per event,
 * keyed by (resource, seq). Appends are serialized per source by a row lock on the source's position, which also
 * makes them idempotent: events not after the stored position are replays and are skipped. An append is serialized
 * as soon as it is called, so a caller can pipeline with `after` (serialize the next batch while the database stores
 * this one).
 */
export class PostgresBus implements Bus {
  constructor(private readonly pool: pg.Pool) {}

  async append(
    source: string,
    events: SourceEvent[],
    opts: { checkpoint?: string; after?: Promise<unknown> } = {},
  ): Promise<AppendResult> {
    const prepared = prepare(events, source);
    await opts.after; // the previous append must be durable first; if it failed, this one stores nothing
    return this.write(source, prepared, opts);
  }

  private write(source: string, events: PreparedEvent[], opts: { checkpoint?: string }): Promise<AppendResult> {
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

      // COPY in text format: the server parses each row once (an INSERT … SELECT over a JSON document re-parsed
      // every element per column and cost the state DB 3× more CPU per event). Rows go out in ~1 MiB chunks, so a
      // huge transaction never builds one giant string; everything commits together with the heads below.
      const data = copyRows(fresh, heads);
      await pipeline(
        Readable.from(data),
        c.query(copyFrom('copy sluice_bus_events (resource, seq, source, position, event) from stdin')),
      );
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

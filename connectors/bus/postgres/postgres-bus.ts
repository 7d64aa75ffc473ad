import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AppendResult, Bus } from '../../../engine/ports/index.ts';
import type { ChangeEvent, SourceEvent } from '../../../schemas/index.ts';
import { DecodedRows } from './decoded-rows.ts';
import { decodeRow, encodeRow, type StoredEvent } from './row-codec.ts';

/** At most this many events in one batch row … */
export const MAX_ROW_EVENTS = 2_000;
/** … and at most about this many bytes of JSON (a single larger event gets a row of its own). */
export const MAX_ROW_BYTES = 1 << 20;
/** COPY data is handed to the connection in pieces of about this size. */
const COPY_PIECE_BYTES = 4 << 20;

/** A batch row serialized at call time, all but its seqs (assigned at write time from the resource's head). */
interface PreparedRow {
  resource: string;
  /** The position of each event in the row, in order. */
  positions: string[];
  /** The row's events as stored (row-codec.ts), UTF-8. */
  json: Buffer;
}

/** An append serialized at call time. */
interface Prepared {
  rows: PreparedRow[];
  /** Every event's position in the order of the batch (the source's position after it is the last fresh one). */
  positions: string[];
  /** The resources, in name order, and their event counts. */
  resources: string[];
  counts: number[];
  /** The lowest position and the last one (in batch order); '' without events. */
  min: string;
  last: string;
}

/**
 * Serializes an append at call time, before it waits for the one ahead of it: the events of each resource in batch
 * order, cut into rows of at most MAX_ROW_EVENTS events and about MAX_ROW_BYTES, each row encoded once (row-codec.ts:
 * column names once per row, one JSON.stringify per row). A stored event is the event without `resource` (the row
 * carries it); its seq is the row's first_seq plus its index.
 */
function prepare(events: SourceEvent[]): Prepared {
  const groups = new Map<string, { events: SourceEvent[]; positions: string[] }>();
  const positions: string[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    positions[i] = e.position;
    let group = groups.get(e.resource);
    if (!group) groups.set(e.resource, (group = { events: [], positions: [] }));
    group.events.push(e);
    group.positions.push(e.position);
  }
  const rows: PreparedRow[] = [];
  for (const [resource, group] of groups) {
    for (let i = 0; i < group.events.length; i += MAX_ROW_EVENTS) {
      cutRows(rows, resource, group.events.slice(i, i + MAX_ROW_EVENTS), group.positions.slice(i, i + MAX_ROW_EVENTS));
    }
  }
  const resources = [...groups.keys()].sort();
  let min = positions[0] ?? '';
  for (const p of positions) if (p < min) min = p;
  return {
    rows,
    positions,
    resources,
    counts: resources.map((r) => groups.get(r)!.events.length),
    min,
    last: positions.at(-1) ?? '',
  };
}

/** Appends `events` as one row, or, over the size cap, as pieces of about the cap (uneven events may need more cuts). */
function cutRows(rows: PreparedRow[], resource: string, events: StoredEvent[], positions: string[]): void {
  const json = Buffer.from(encodeRow(events));
  if (json.length <= MAX_ROW_BYTES || events.length === 1) {
    rows.push({ resource, positions, json });
    return;
  }
  const size = Math.ceil(events.length / Math.max(2, Math.ceil(json.length / MAX_ROW_BYTES)));
  for (let i = 0; i < events.length; i += size) {
    cutRows(rows, resource, events.slice(i, i + size), positions.slice(i, i + size));
  }
}

/**
 * The rows of a prepared append that hold events after the source's stored position `stored`. Rows are kept as
 * they are when all their events are fresh — the usual case; a replay overlapping a stored batch re-serializes the
 * rows it cuts through (from the JSON taken at call time, so the events are stored as they were then).
 */
function freshRows(rows: PreparedRow[], stored: string): PreparedRow[] {
  const out: PreparedRow[] = [];
  for (const row of rows) {
    const keep = row.positions.map((p) => p > stored);
    const n = keep.filter(Boolean).length;
    if (n === row.positions.length) out.push(row);
    else if (n > 0) {
      const events = decodeRow(JSON.parse(row.json.toString())).filter((_, i) => keep[i]);
      out.push({
        resource: row.resource,
        positions: row.positions.filter((_, i) => keep[i]),
        json: Buffer.from(encodeRow(events)),
      });
    }
  }
  return out;
}

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * COPY binary data for `sluice_bus_batches (resource, first_seq, last_seq, source, events)`: each row gets
 * consecutive seqs from its resource's head in `heads` (advanced as it goes). Binary, so the server neither scans
 * for escapes nor copies the JSON once more; returned as a few large pieces, so that it reaches the socket in one go.
 */
function copyData(rows: PreparedRow[], source: string, heads: Map<string, bigint>): Buffer[] {
  const src = Buffer.from(source);
  const pieces: Buffer[] = [];
  let parts: Buffer[] = [];
  let size = 0;
  const add = (b: Buffer) => {
    parts.push(b);
    size += b.length;
    if (size >= COPY_PIECE_BYTES) {
      pieces.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
      parts = [];
      size = 0;
    }
  };
  const start = Buffer.alloc(COPY_SIGNATURE.length + 8); // flags and header extension length: 0
  COPY_SIGNATURE.copy(start);
  add(start);
  for (const row of rows) {
    const first = heads.get(row.resource)! + 1n;
    const last = first + BigInt(row.positions.length - 1);
    heads.set(row.resource, last);
    const res = Buffer.from(row.resource);
    const h = Buffer.allocUnsafe(2 + 4 + res.length + 12 + 12 + 4 + src.length + 4);
    let o = h.writeInt16BE(5, 0);
    o = h.writeInt32BE(res.length, o);
    o += res.copy(h, o);
    o = h.writeInt32BE(8, o);
    o = h.writeBigInt64BE(first, o);
    o = h.writeInt32BE(8, o);
    o = h.writeBigInt64BE(last, o);
    o = h.writeInt32BE(src.length, o);
    o += src.copy(h, o);
    h.writeInt32BE(row.json.length, o);
    add(h);
    add(row.json);
  }
  add(Buffer.from([0xff, 0xff])); // trailer: field count -1
  if (parts.length > 0) pieces.push(Buffer.concat(parts, size));
  return pieces;
}

interface BatchRow {
  first_seq: string;
  last_seq: string;
  /** The parsed `events` JSON (row-codec.ts). */
  events: unknown;
}

/** SQLSTATE of sluice_bus_expect (migration 3): the source or a head is not where this bus last left it. */
const MOVED = 'SLB01';

const COPY_BATCHES =
  'copy sluice_bus_batches (resource, first_seq, last_seq, source, events) from stdin with (format binary)';

/** What this bus last stored for a source: its position and the heads of the resources it appended to. */
interface Known {
  position: string;
  heads: Map<string, bigint>;
}

/**
 * The embedded default bus: an append-only log in the state database (DESIGN.md, Ports: events travel in batches,
 * one bus message per batch). One row per resource per append chunk in `sluice_bus_batches`, keyed by (resource,
 * first_seq) and holding the events with seqs first_seq..last_seq as one JSON value (row-codec.ts), so the per-row
 * costs (index entry, tuple header, WAL record) are paid per batch, not per event. The view `sluice_bus_events` shows one row per
 * event for operators; nothing here reads through it.
 *
 * Appends are serialized per source by a row lock on the source's position, which also makes them idempotent:
 * events not after the stored position are replays and are skipped. An append is serialized as soon as it is called,
 * so a caller can pipeline with `after` (serialize the next batch while the database stores this one).
 */
export class PostgresBus implements Bus {
  private readonly known = new Map<string, Known>();

  private readonly decoded = new DecodedRows();

  constructor(private readonly pool: pg.Pool) {}

  async append(
    source: string,
    events: SourceEvent[],
    opts: { checkpoint?: string; after?: Promise<unknown> } = {},
  ): Promise<AppendResult> {
    const prepared = prepare(events);
    // The connection is taken before waiting, so that the append goes out as soon as the previous one is durable,
    // not after whatever else the process does in between (the pool hands out connections on a later tick).
    const c = await this.pool.connect();
    try {
      await opts.after; // the previous append must be durable first; if it failed, this one stores nothing
    } catch (e) {
      c.release();
      throw e;
    }
    let broken: Error | undefined;
    try {
      return await this.write(c, source, prepared, opts.checkpoint);
    } catch (e) {
      this.known.delete(source);
      await c.query('rollback').catch((re: Error) => (broken = re));
      throw e;
    } finally {
      c.release(broken);
    }
  }

  /**
   * Stores an append in one transaction. When this bus made the source's last append and knows the heads of the
   * resources, and every event is after that position (a source streaming through this process), the append goes out
   * as one message followed by its COPY data: sluice_bus_expect locks the source's row and the heads (in name order)
   * and checks they are where this bus left them, then the COPY, the new heads and position, the commit. Otherwise, or
   * if the check fails because another writer moved them, the general path reads them under the same locks first.
   * Each round trip counts: the process that appends is also decoding the replication stream, so every reply waits
   * for the decoding in progress (measured: ~25 ms per round trip while draining a backlog).
   */
  private async write(
    c: pg.PoolClient,
    source: string,
    prepared: Prepared,
    checkpoint: string | undefined,
  ): Promise<AppendResult> {
    const lit = pg.escapeLiteral;
    const cp = checkpoint ? lit(checkpoint) : 'null';
    if (prepared.positions.length === 0) {
      await c.query(
        `insert into sluice_bus_sources as s (source, position, checkpoint) values (${lit(source)}, '', ${cp})
         on conflict (source) do update set checkpoint = coalesce(excluded.checkpoint, s.checkpoint)`,
      );
      return { appended: 0, heads: {} };
    }
    const known = this.known.get(source);
    const { resources, counts } = prepared;
    if (known && known.position < prepared.min && resources.every((r) => known.heads.has(r))) {
      const from = resources.map((r) => known.heads.get(r)!);
      const to = from.map((h, i) => h + BigInt(counts[i]!));
      const names = `array[${resources.map(lit).join(',')}]::text[]`;
      const copy = c.query(
        copyFrom(
          `begin;
           call sluice_bus_expect(${lit(source)}, ${lit(known.position)}, ${names}, array[${from.join(',')}]::bigint[]);
           ${COPY_BATCHES};
           update sluice_bus_heads h set seq = v.seq from unnest(${names}, array[${to.join(',')}]::bigint[]) as v(resource, seq)
            where h.resource = v.resource;
           update sluice_bus_sources set position = ${lit(prepared.last)}, checkpoint = coalesce(${cp}, checkpoint)
            where source = ${lit(source)};
           commit`,
        ),
      );
      const starts = new Map(resources.map((r, i) => [r, from[i]!]));
      for (const piece of copyData(prepared.rows, source, starts)) copy.write(piece);
      copy.end();
      try {
        await finished(copy);
        known.position = prepared.last;
        const heads: Record<string, bigint> = {};
        resources.forEach((r, i) => known.heads.set(r, (heads[r] = to[i]!)));
        return { appended: prepared.positions.length, heads };
      } catch (e) {
        if ((e as { code?: string }).code !== MOVED) throw e;
        await c.query('rollback');
      }
    }
    return this.writeLocked(c, source, prepared, cp);
  }

  /**
   * The general path: begin, lock the source's row (reading its position, storing the checkpoint); keep the events
   * after that position; advance the heads of their resources (locked in name order) and the source's position; then
   * the COPY and the commit in one message.
   */
  private async writeLocked(c: pg.PoolClient, source: string, prepared: Prepared, cp: string): Promise<AppendResult> {
    const [, locked] = (await c.query(
      `begin;
       insert into sluice_bus_sources as s (source, position, checkpoint) values (${pg.escapeLiteral(source)}, '', ${cp})
       on conflict (source) do update set checkpoint = coalesce(excluded.checkpoint, s.checkpoint)
       returning position`,
    )) as unknown as [pg.QueryResult, pg.QueryResult<{ position: string }>];
    const stored = locked.rows[0]!.position;
    const rows = freshRows(prepared.rows, stored);
    const known: Known = { position: stored, heads: new Map() };
    if (rows.length === 0) {
      await c.query('commit');
      this.known.set(source, known);
      return { appended: 0, heads: {} };
    }
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row.resource, (counts.get(row.resource) ?? 0) + row.positions.length);
    const resources = [...counts.keys()].sort();
    known.position = prepared.positions.findLast((p) => p > stored)!;
    const { rows: headRows } = await c.query<{ resource: string; seq: string }>(
      `with s as (update sluice_bus_sources set position = $3 where source = $4)
       insert into sluice_bus_heads as h (resource, seq) select * from unnest($1::text[], $2::bigint[])
       on conflict (resource) do update set seq = h.seq + excluded.seq
       returning resource, seq`,
      [resources, resources.map((r) => counts.get(r)!), known.position, source],
    );
    const heads: Record<string, bigint> = {};
    const starts = new Map<string, bigint>();
    for (const r of headRows) {
      heads[r.resource] = BigInt(r.seq);
      known.heads.set(r.resource, BigInt(r.seq));
      starts.set(r.resource, BigInt(r.seq) - BigInt(counts.get(r.resource)!));
    }
    // the commit rides in the same message as the COPY: it runs only if the COPY succeeded
    const copy = c.query(copyFrom(`${COPY_BATCHES}; commit`));
    for (const piece of copyData(rows, source, starts)) copy.write(piece);
    copy.end();
    await finished(copy);
    this.known.set(source, known);
    return { appended: rows.reduce((n, r) => n + r.positions.length, 0), heads };
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

  async trim(
    resource: string,
    opts: { upToSeq: bigint; appendedBefore: Date },
  ): Promise<{ trimmed: bigint; events: number }> {
    // whole rows only (a row holding seqs past upToSeq stays); rows are a prefix by seq and by append time
    const { rows } = await this.pool.query<{ trimmed: string | null; events: string }>(
      `with gone as (
         delete from sluice_bus_batches
          where resource = $1 and first_seq <= $2 and last_seq <= $2 and appended_at < $3
         returning last_seq, last_seq - first_seq + 1 as n)
       update sluice_bus_heads h
          set trimmed = greatest(h.trimmed, coalesce((select max(last_seq) from gone), 0))
        where h.resource = $1
       returning h.trimmed::text as trimmed, (select coalesce(sum(n), 0) from gone)::text as events`,
      [resource, opts.upToSeq.toString(), opts.appendedBefore],
    );
    return { trimmed: BigInt(rows[0]?.trimmed ?? 0), events: Number(rows[0]?.events ?? 0) };
  }

  async trimmed(resource: string): Promise<bigint> {
    const { rows } = await this.pool.query<{ trimmed: string }>(
      'select trimmed::text as trimmed from sluice_bus_heads where resource = $1',
      [resource],
    );
    return BigInt(rows[0]?.trimmed ?? 0);
  }

  async head(resource: string): Promise<bigint> {
    const { rows } = await this.pool.query<{ seq: string }>('select seq from sluice_bus_heads where resource = $1', [
      resource,
    ]);
    return BigInt(rows[0]?.seq ?? 0);
  }

  /**
   * Fetches the rows holding seqs after `after` up to the page's end, `upper`: seqs of a resource are dense and the
   * rows do not overlap, so they are the row holding after + 1 (found by the index, not by scanning the resource's
   * older rows) and the rows starting up to `upper` — at most upper - after rows.
   */
  /** The rows overlapping (after, upper]; rows already decoded (DecodedRows) come without their events. */
  private async rows(resource: string, after: bigint, upper: bigint): Promise<BatchRow[]> {
    const cached = this.decoded.cachedBetween(resource, after, upper, MAX_ROW_EVENTS);
    const { rows } = await this.pool.query<BatchRow>(
      `select first_seq, last_seq, case when first_seq = any($5::bigint[]) then null else events end as events
         from sluice_bus_batches
        where resource = $1 and last_seq > $2 and first_seq <= $3
          and first_seq >= coalesce(
                (select max(first_seq) from sluice_bus_batches where resource = $1 and first_seq <= $2::bigint + 1), 0)
        order by first_seq
        limit $4`,
      [resource, after.toString(), upper.toString(), (upper - after).toString(), cached],
    );
    return rows;
  }

  /** Every event of a row, decoded once for all readers. */
  private async rowEvents(resource: string, row: BatchRow): Promise<ChangeEvent[]> {
    const first = BigInt(row.first_seq);
    const hit = this.decoded.get(resource, first);
    if (hit) return hit;
    let json = row.events;
    if (json === null) {
      // evicted since the query was planned: fetch this row again
      const { rows } = await this.pool.query<{ events: unknown }>(
        'select events from sluice_bus_batches where resource = $1 and first_seq = $2',
        [resource, row.first_seq],
      );
      json = rows[0]?.events;
    }
    const events = decodeRow(json) as ChangeEvent[];
    for (let k = 0; k < events.length; k++) {
      events[k]!.resource = resource;
      events[k]!.seq = (first + BigInt(k)).toString();
    }
    this.decoded.set(resource, first, events);
    return events;
  }

  async *read(
    resource: string,
    fromExclusive: bigint,
    toInclusive: bigint,
    opts: { pageSize?: number; signal?: AbortSignal } = {},
  ): AsyncIterable<ChangeEvent[]> {
    const pageSize = opts.pageSize ?? 10_000;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
    // Events fetched and not yet yielded (from index `start`): the rest of a row that reaches past a page is kept for
    // the next page rather than fetched again, so small pages over large rows stay linear.
    let buffer: ChangeEvent[] = [];
    let start = 0;
    // the highest seq in (or yielded from) the buffer; a trimmed range is gone, reading starts after it
    const cut = await this.trimmed(resource);
    let fetched = fromExclusive < cut ? cut : fromExclusive;
    let exhausted = fetched >= toInclusive;
    for (;;) {
      opts.signal?.throwIfAborted();
      const buffered = buffer.length - start;
      if (buffered < pageSize && !exhausted) {
        const upper =
          fetched + BigInt(pageSize - buffered) < toInclusive ? fetched + BigInt(pageSize - buffered) : toInclusive;
        buffer = buffer.slice(start);
        start = 0;
        for (const row of await this.rows(resource, fetched, upper)) {
          const first = BigInt(row.first_seq);
          const from = fetched + 1n - first; // index of the first seq not fetched yet (> 0 only in the first row)
          const last = BigInt(row.last_seq) < toInclusive ? BigInt(row.last_seq) : toInclusive;
          const to = Number(last - first); // index of the last seq in range
          if (from > BigInt(to)) continue;
          const i0 = from > 0n ? Number(from) : 0;
          const all = await this.rowEvents(resource, row);
          for (let k = i0; k <= to && k < all.length; k++) buffer.push(all[k]!);
          fetched = last;
        }
        // seqs are dense: rows ending before the page's end mean there is nothing more (yet) up to toInclusive
        if (fetched < upper || fetched >= toInclusive) exhausted = true;
      }
      if (buffer.length === start) return;
      const end = Math.min(buffer.length, start + pageSize);
      const page = buffer.slice(start, end);
      start = end;
      yield page;
    }
  }

  async close(): Promise<void> {}
}

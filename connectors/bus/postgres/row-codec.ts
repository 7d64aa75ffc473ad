import type { ChangeEvent, Row } from '../../../schemas/index.ts';

/** An event as stored in a batch row: all but `resource` (the row's) and `seq` (the row's first_seq + index). */
export type StoredEvent = Omit<ChangeEvent, 'resource' | 'seq'>;

/**
 * The JSON of a batch row's `events` column (migration 4), written by `encodeRow`:
 *
 *   {"v":2, "keys":["id"], "cols":["id","name",…], "tx":[[commitTs, txId, schemaVersion], …],
 *    "ev":[[op, position, tx, key, before, after, unchanged], …]}
 *
 * Names and per-transaction values are written once per row, not once per event: `tx` indexes the row's table of
 * (commit time, transaction id, schema version); `key` is an array aligned with `keys`, or `1` when it is the key
 * columns of `after` (every insert and update); `before` and `after` are arrays aligned with `cols` (taken from the
 * row's first event with a row image). An image or key whose columns differ from the header (a schema change inside
 * a row, an update whose unchanged TOAST value is absent) is written as an object instead. In the `before`, `after`
 * and `unchanged` slots `0` means absent, and trailing absent slots are left out; `null` is null. Against one JSON
 * object per event (format 1) this writes 2.3x fewer bytes in about half the time for a five-column table, and the
 * state database stores, logs and TOASTs that much less: in `npm run bench -- drain` the state DB's CPU fell 3x and
 * the connector's drain into the bus went from 0.35 to 0.66 of the frames-only ceiling. `decodeRow` also reads
 * format 1, an array of event objects (rows written before migration 4).
 */
interface RowJson {
  v: 2;
  keys: string[];
  cols: string[];
  /** A fourth element, when present, is the events' `target` (a backfill's subscription). */
  tx: ([commitTs: string, txId: string, schemaVersion: number] | [string, string, number, string])[];
  ev: unknown[][];
}

/** Slot of each stored field in an event's array (commitTs, txId and schemaVersion live in the row's `tx` table). */
const SLOT = { op: 0, position: 1, tx: 2, key: 3, before: 4, after: 5, unchanged: 6 } as const;
/**
 * Where each field of StoredEvent is stored: adding a field to ChangeEvent without giving it a place here does not
 * compile (the unit test round-trips an event with every field set).
 */
export const STORED_FIELDS = {
  op: 'slot',
  position: 'slot',
  commitTs: 'tx',
  txId: 'tx',
  schemaVersion: 'tx',
  key: 'slot',
  before: 'slot',
  after: 'slot',
  unchanged: 'slot',
  target: 'tx',
} as const satisfies Record<keyof StoredEvent, 'slot' | 'tx'>;
const ABSENT = 0;
const KEY_OF_AFTER = 1;

/** Serializes events (their `resource` and `seq`, if any, are not stored) as one row's `events` JSON. */
export function encodeRow(events: readonly StoredEvent[]): string {
  const keys = Object.keys(events[0]?.key ?? {});
  const image = events.find((e) => e.after ?? e.before);
  const cols = Object.keys(image?.after ?? image?.before ?? {});
  const tx: RowJson['tx'] = [];
  let last: RowJson['tx'][number] | undefined;
  const ev: unknown[][] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (!last || last[0] !== e.commitTs || last[1] !== e.txId || last[2] !== e.schemaVersion || last[3] !== e.target) {
      tx.push(
        (last =
          e.target === undefined
            ? [e.commitTs, e.txId, e.schemaVersion]
            : [e.commitTs, e.txId, e.schemaVersion, e.target]),
      );
    }
    const key = keyOfAfter(keys, e) ? KEY_OF_AFTER : (aligned(keys, e.key) ?? e.key);
    const out: unknown[] = [e.op, e.position, tx.length - 1, key, imageSlot(cols, e.before), imageSlot(cols, e.after)];
    if (e.unchanged !== undefined) out.push(e.unchanged);
    else if (out[SLOT.after] === ABSENT) {
      out.pop();
      if (out[SLOT.before] === ABSENT) out.pop();
    }
    ev[i] = out;
  }
  const row: RowJson = { v: 2, keys, cols, tx, ev };
  return JSON.stringify(row);
}

/** The events at indexes [from, to] of a row's parsed `events` JSON (format 2 or 1). */
export function decodeRow(json: unknown, from = 0, to = Infinity): StoredEvent[] {
  if (Array.isArray(json)) return (json as StoredEvent[]).slice(from, to + 1);
  const row = json as RowJson;
  if (row.v !== 2) throw new Error(`unknown bus row format ${String(row.v)}`);
  const last = Math.min(to, row.ev.length - 1);
  const out: StoredEvent[] = [];
  for (let i = from; i <= last; i++) {
    const x = row.ev[i]!;
    const [commitTs, txId, schemaVersion, target] = row.tx[x[SLOT.tx] as number]!;
    const op = x[SLOT.op] as StoredEvent['op'];
    const e: StoredEvent = { op, key: {}, position: x[SLOT.position] as string, commitTs, txId, schemaVersion };
    if (target !== undefined) e.target = target;
    const before = x[SLOT.before];
    if (before !== undefined && before !== ABSENT) e.before = expand(row.cols, before);
    const after = x[SLOT.after];
    if (after !== undefined && after !== ABSENT) e.after = expand(row.cols, after);
    const unchanged = x[SLOT.unchanged];
    if (unchanged !== undefined && unchanged !== ABSENT) e.unchanged = unchanged as string[];
    const key = x[SLOT.key];
    if (key === KEY_OF_AFTER) for (const k of row.keys) e.key[k] = e.after![k]!;
    else e.key = expand(row.keys, key)!;
    out.push(e);
  }
  return out;
}

/** The key has exactly the header's key columns, each with the value `after` has (inserts and updates). */
function keyOfAfter(keys: string[], e: StoredEvent): boolean {
  const after = e.after;
  if (!after) return false;
  let n = 0;
  for (const _ in e.key) n++;
  if (n !== keys.length) return false;
  for (const k of keys) {
    const v = e.key[k];
    if (v === undefined || after[k] !== v) return false;
  }
  return true;
}

function imageSlot(cols: string[], row: Row | null | undefined): unknown {
  if (row === undefined) return ABSENT;
  if (row === null) return null;
  return aligned(cols, row) ?? row;
}

/** `row`'s values in the order of `names`, or null when its columns are not exactly `names`. */
function aligned(names: string[], row: Row): (string | null)[] | null {
  let n = 0;
  for (const _ in row) n++;
  if (n !== names.length) return null;
  const out: (string | null)[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const v = row[names[i]!];
    if (v === undefined) return null;
    out[i] = v;
  }
  return out;
}

function expand(names: string[], v: unknown): Row | null {
  if (!Array.isArray(v)) return v as Row | null;
  const row: Row = {};
  for (let i = 0; i < names.length; i++) row[names[i]!] = v[i] as string | null;
  return row;
}

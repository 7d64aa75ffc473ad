/**
 * pgoutput protocol 1–2 decoder (PostgreSQL "Logical Replication Message Formats"), text values only. Values stay
 * the server's text, so int8 / numeric are exact and timestamps keep µs. Only the columns a binding keeps are turned
 * into strings; the others are skipped by length, and changes of unbound relations are skipped entirely — the
 * decoder's cost follows what enters the platform, not the width of the provider's tables.
 */

/** Column → text, or null for SQL NULL. Unchanged TOAST columns are absent and listed in `unchanged`. */
export type TupleRow = Record<string, string | null>;

export interface Tuple {
  row: TupleRow;
  /** Kept columns whose value is an unchanged TOAST value the server did not send. */
  unchanged: string[] | null;
}

export interface RelationColumn {
  name: string;
  typeOid: number;
  typmod: number;
  /** Part of the replica identity key. */
  isKey: boolean;
}

export interface Relation {
  oid: number;
  schema: string;
  name: string;
  /** d default, n nothing, f full, i index. */
  replicaIdentity: string;
  columns: RelationColumn[];
  /** Per column: its name when kept, null when skipped. Null when the relation is not bound (all changes skipped). */
  keep: (string | null)[] | null;
  /** Opaque binding data for the assembler. */
  binding: unknown;
}

/** Decides which columns of a relation enter the platform; null = the relation is not streamed. */
export type Binder = (rel: Omit<Relation, 'keep' | 'binding'>) => { keep: (string | null)[]; binding: unknown } | null;

export type PgMessage =
  | { tag: 'begin'; finalLsn: number; commitTs: number; xid: number }
  | { tag: 'commit'; commitLsn: number; endLsn: number; commitTs: number }
  | { tag: 'relation'; rel: Relation }
  | { tag: 'insert'; xid: number; rel: Relation; new: Tuple }
  | { tag: 'update'; xid: number; rel: Relation; old: Tuple | null; keyOnly: boolean; new: Tuple }
  | { tag: 'delete'; xid: number; rel: Relation; old: Tuple; keyOnly: boolean }
  | { tag: 'truncate'; xid: number; rels: Relation[]; cascade: boolean; restartIdentity: boolean }
  | { tag: 'message'; xid: number; transactional: boolean; lsn: number; prefix: string; content: Buffer }
  | { tag: 'stream_start'; xid: number; first: boolean }
  | { tag: 'stream_stop' }
  | { tag: 'stream_commit'; xid: number; commitLsn: number; endLsn: number; commitTs: number }
  | { tag: 'stream_abort'; xid: number; subxid: number };

export class PgoutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgoutputError';
  }
}

/** Messages that start with an xid inside a stream block: Relation, Type, Insert, Update, Delete, Truncate, Message. */
const XID_FIRST = new Set([0x52, 0x59, 0x49, 0x55, 0x44, 0x54, 0x4d]);

export class PgoutputDecoder {
  private readonly relations = new Map<number, Relation>();
  /** Inside a Stream Start … Stream Stop block: change messages carry the (sub)transaction xid. */
  private inStream = false;

  constructor(private readonly binder: Binder) {}

  /** Decodes buf[start, end); returns null for messages Sluice has no use for (unbound relations, types, origins). */
  decode(buf: Buffer, start: number, end: number): PgMessage | null {
    const tag = buf[start]!;
    let p = start + 1;
    // Inside a stream block, changes (and relations, types, messages) carry their (sub)transaction's xid first.
    // Read here rather than through a per-message closure: a closure per call was a third of the decode cost.
    let xid = 0;
    if (this.inStream && XID_FIRST.has(tag)) {
      need(p + 4, end, tag);
      xid = buf.readUInt32BE(p);
      p += 4;
    }
    switch (tag) {
      case 0x42 /* B */:
        need(p + 20, end, tag);
        return { tag: 'begin', finalLsn: lsn(buf, p), commitTs: int64(buf, p + 8), xid: buf.readUInt32BE(p + 16) };
      case 0x43 /* C */:
        need(p + 25, end, tag);
        return { tag: 'commit', commitLsn: lsn(buf, p + 1), endLsn: lsn(buf, p + 9), commitTs: int64(buf, p + 17) };
      case 0x52 /* R */: {
        need(p + 4, end, tag);
        const oid = buf.readUInt32BE(p);
        p += 4;
        const [schema, p1] = cstring(buf, p, end);
        const [name, p2] = cstring(buf, p1, end);
        p = p2;
        need(p + 3, end, tag);
        const replicaIdentity = String.fromCharCode(buf[p]!);
        const n = buf.readUInt16BE(p + 1);
        p += 3;
        const columns: RelationColumn[] = [];
        for (let i = 0; i < n; i++) {
          need(p + 1, end, tag);
          const flags = buf[p]!;
          const [colName, q] = cstring(buf, p + 1, end);
          need(q + 8, end, tag);
          columns.push({
            name: colName,
            typeOid: buf.readUInt32BE(q),
            typmod: buf.readInt32BE(q + 4),
            isKey: (flags & 1) === 1,
          });
          p = q + 8;
        }
        checkEnd(p, end, 'Relation');
        const base = { oid, schema, name, replicaIdentity, columns };
        const bound = this.binder(base);
        const rel: Relation = { ...base, keep: bound?.keep ?? null, binding: bound?.binding };
        this.relations.set(oid, rel);
        return { tag: 'relation', rel };
      }
      case 0x49 /* I */: {
        need(p + 5, end, tag);
        const rel = this.relation(buf.readUInt32BE(p));
        if (!rel.keep) return null;
        if (buf[p + 4] !== 0x4e /* N */) throw malformed('Insert', buf[p + 4]!);
        const [tuple, q] = this.tuple(buf, p + 5, end, rel.keep);
        checkEnd(q, end, 'Insert');
        return { tag: 'insert', xid, rel, new: tuple };
      }
      case 0x55 /* U */: {
        need(p + 5, end, tag);
        const rel = this.relation(buf.readUInt32BE(p));
        if (!rel.keep) return null;
        p += 4;
        let old: Tuple | null = null;
        let keyOnly = false;
        const kind = buf[p];
        if (kind === 0x4b /* K */ || kind === 0x4f /* O */) {
          keyOnly = kind === 0x4b;
          [old, p] = this.tuple(buf, p + 1, end, rel.keep);
          need(p + 1, end, tag);
        }
        if (buf[p] !== 0x4e /* N */) throw malformed('Update', buf[p]!);
        const [tuple, q] = this.tuple(buf, p + 1, end, rel.keep);
        checkEnd(q, end, 'Update');
        return { tag: 'update', xid, rel, old, keyOnly, new: tuple };
      }
      case 0x44 /* D */: {
        need(p + 5, end, tag);
        const rel = this.relation(buf.readUInt32BE(p));
        if (!rel.keep) return null;
        const kind = buf[p + 4]!;
        if (kind !== 0x4b /* K */ && kind !== 0x4f /* O */) throw malformed('Delete', kind);
        const keyOnly = kind === 0x4b;
        const [old, q] = this.tuple(buf, p + 5, end, rel.keep);
        checkEnd(q, end, 'Delete');
        return { tag: 'delete', xid, rel, old, keyOnly };
      }
      case 0x54 /* T */: {
        need(p + 5, end, tag);
        const n = buf.readUInt32BE(p);
        const flags = buf[p + 4]!;
        p += 5;
        checkEnd(p + 4 * n, end, 'Truncate');
        const rels: Relation[] = [];
        for (let i = 0; i < n; i++, p += 4) {
          const rel = this.relation(buf.readUInt32BE(p));
          if (rel.keep) rels.push(rel);
        }
        if (rels.length === 0) return null;
        return { tag: 'truncate', xid, rels, cascade: (flags & 1) === 1, restartIdentity: (flags & 2) === 2 };
      }
      case 0x4d /* M */: {
        need(p + 9, end, tag);
        const transactional = (buf[p]! & 1) === 1;
        const at = lsn(buf, p + 1);
        const [prefix, q] = cstring(buf, p + 9, end);
        need(q + 4, end, tag);
        const len = buf.readUInt32BE(q);
        checkEnd(q + 4 + len, end, 'Message');
        return {
          tag: 'message',
          xid,
          transactional,
          lsn: at,
          prefix,
          content: Buffer.from(buf.subarray(q + 4, q + 4 + len)),
        };
      }
      case 0x53 /* S */:
        need(p + 5, end, tag);
        this.inStream = true;
        return { tag: 'stream_start', xid: buf.readUInt32BE(p), first: buf[p + 4] === 1 };
      case 0x45 /* E */:
        this.inStream = false;
        return { tag: 'stream_stop' };
      case 0x63 /* c */:
        need(p + 29, end, tag);
        return {
          tag: 'stream_commit',
          xid: buf.readUInt32BE(p),
          commitLsn: lsn(buf, p + 5),
          endLsn: lsn(buf, p + 13),
          commitTs: int64(buf, p + 21),
        };
      case 0x41 /* A */:
        need(p + 8, end, tag);
        return { tag: 'stream_abort', xid: buf.readUInt32BE(p), subxid: buf.readUInt32BE(p + 4) };
      case 0x59 /* Y type */:
      case 0x4f /* O origin */:
        return null;
      default:
        throw new PgoutputError(`unknown pgoutput message '${String.fromCharCode(tag)}' (0x${tag.toString(16)})`);
    }
  }

  private relation(oid: number): Relation {
    const rel = this.relations.get(oid);
    if (!rel) throw new PgoutputError(`change for relation ${oid} before its Relation message`);
    return rel;
  }

  /** TupleData at `p`: kept columns become text / null; unchanged TOAST values are listed; others are skipped. */
  private tuple(buf: Buffer, p: number, end: number, keep: (string | null)[]): [Tuple, number] {
    need(p + 2, end, 0);
    const n = buf.readUInt16BE(p);
    p += 2;
    const row: TupleRow = {};
    let unchanged: string[] | null = null;
    for (let i = 0; i < n; i++) {
      need(p + 1, end, 0);
      const kind = buf[p++];
      const name = keep[i] ?? null;
      if (kind === 0x74 /* t */ || kind === 0x62 /* b */) {
        need(p + 4, end, 0);
        const len = buf.readUInt32BE(p);
        p += 4;
        need(p + len, end, 0);
        if (name !== null) {
          if (kind === 0x62) throw new PgoutputError(`binary value for column "${name}": the stream must be text`);
          row[name] = buf.toString('utf8', p, p + len);
        }
        p += len;
      } else if (kind === 0x6e /* n */) {
        if (name !== null) row[name] = null;
      } else if (kind === 0x75 /* u */) {
        if (name !== null) (unchanged ??= []).push(name);
      } else {
        throw new PgoutputError(`unknown tuple column kind 0x${(kind ?? 0).toString(16)}`);
      }
    }
    return [{ row, unchanged }, p];
  }
}

/** A change message must end exactly where its tuple data ends: anything else is a framing or format error. */
function checkEnd(at: number, end: number, what: string): void {
  if (at !== end) throw new PgoutputError(`malformed ${what} message: its data ends at ${at}, the message at ${end}`);
}

/**
 * A message is buf[start, end) of a read that holds more messages: every read must stay before `end`, or a short
 * message would silently take its values from the next one (or run off the buffer with a RangeError).
 */
function need(at: number, end: number, tag: number): void {
  if (at > end) {
    const what = tag === 0 ? 'tuple data' : `'${String.fromCharCode(tag)}' message`;
    throw new PgoutputError(`truncated pgoutput ${what}: needs ${at - end} more byte(s)`);
  }
}

function malformed(what: string, kind: number): PgoutputError {
  return new PgoutputError(`malformed ${what} message: unexpected tuple marker 0x${kind.toString(16)}`);
}

function lsn(buf: Buffer, p: number): number {
  const hi = buf.readUInt32BE(p);
  if (hi >= 0x200000) throw new PgoutputError(`WAL position beyond 2^53 (high word ${hi.toString(16)})`);
  return hi * 4294967296 + buf.readUInt32BE(p + 4);
}

/** A signed int64 that fits a double exactly (µs timestamps until year ~2255). */
function int64(buf: Buffer, p: number): number {
  return buf.readInt32BE(p) * 4294967296 + buf.readUInt32BE(p + 4);
}

function cstring(buf: Buffer, p: number, limit: number): [string, number] {
  const end = p < limit ? buf.indexOf(0, p) : -1;
  if (end < 0 || end >= limit) throw new PgoutputError('unterminated string in pgoutput message');
  return [buf.toString('utf8', p, end), end + 1];
}

/**
 * Test helper: encodes pgoutput protocol-2 messages byte for byte as PostgreSQL documents them ("Logical Replication
 * Message Formats"), written from the documentation and not from our decoder, so that decoder tests catch a decoder
 * that misreads the format. 64-bit fields (LSNs, timestamps) take bigints so that any value can be written exactly.
 *
 * Inside a Stream Start … Stream Stop block the server adds the (sub)transaction xid to Relation, Type, Insert,
 * Update, Delete, Truncate and Message: pass `xid` to those encoders exactly then.
 */

/** The 'u' TupleData kind: an unchanged TOAST value whose bytes the server did not send. */
export const UNCHANGED: unique symbol = Symbol('unchanged TOAST');

/** A TupleData column: text ('t'), null ('n'), unchanged TOAST ('u'), raw bytes as text ('t'), or binary ('b'). */
export type Value = string | null | typeof UNCHANGED | Buffer | { binary: Buffer };

export interface ColumnSpec {
  name: string;
  typeOid: number;
  typmod?: number;
  isKey?: boolean;
}

/** `16/B374D848` → the 64-bit XLogRecPtr. */
export function lsn(text: string): bigint {
  const [hi, lo] = text.split('/');
  if (hi === undefined || lo === undefined) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/** An RFC 3339 instant with up to µs → µs since the PostgreSQL epoch (2000-01-01T00:00:00Z), computed in bigint. */
export function pgMicros(iso: string): bigint {
  const m = /^(.*?)(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (!m) throw new Error(`not an RFC 3339 UTC instant: ${iso}`);
  const seconds = Date.parse(`${m[1]!}Z`);
  if (Number.isNaN(seconds)) throw new Error(`not an RFC 3339 UTC instant: ${iso}`);
  const frac = BigInt((m[2] ?? '').padEnd(6, '0'));
  return BigInt(seconds) * 1000n + frac - 946_684_800_000_000n;
}

class Writer {
  private readonly parts: Buffer[] = [];

  byte(v: number | string): this {
    this.parts.push(Buffer.from([typeof v === 'string' ? v.charCodeAt(0) : v]));
    return this;
  }

  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    this.parts.push(b);
    return this;
  }

  int32(v: number): this {
    const b = Buffer.alloc(4);
    if (v < 0) b.writeInt32BE(v);
    else b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }

  /** Int64, signed (timestamps may precede 2000) or unsigned (LSNs). */
  int64(v: bigint | number): this {
    const b = Buffer.alloc(8);
    const big = BigInt(v);
    if (big < 0n) b.writeBigInt64BE(big);
    else b.writeBigUInt64BE(big);
    this.parts.push(b);
    return this;
  }

  /** String: UTF-8 bytes and a terminating NUL. */
  cstring(s: string): this {
    this.parts.push(Buffer.from(s, 'utf8'), Buffer.from([0]));
    return this;
  }

  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  /** Int32 xid, present only inside a streaming block. */
  streamXid(xid: number | undefined): this {
    return xid === undefined ? this : this.int32(xid);
  }

  tuple(values: Value[]): this {
    this.int16(values.length);
    for (const v of values) {
      if (v === null) this.byte('n');
      else if (v === UNCHANGED) this.byte('u');
      else if (typeof v === 'string' || Buffer.isBuffer(v)) {
        const data = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
        this.byte('t').int32(data.length).bytes(data);
      } else {
        this.byte('b').int32(v.binary.length).bytes(v.binary);
      }
    }
    return this;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function begin(m: { finalLsn: bigint; commitTs: bigint; xid: number }): Buffer {
  return new Writer().byte('B').int64(m.finalLsn).int64(m.commitTs).int32(m.xid).done();
}

export function commit(m: { commitLsn: bigint; endLsn: bigint; commitTs: bigint; flags?: number }): Buffer {
  return new Writer()
    .byte('C')
    .byte(m.flags ?? 0)
    .int64(m.commitLsn)
    .int64(m.endLsn)
    .int64(m.commitTs)
    .done();
}

export function relation(m: {
  xid?: number;
  oid: number;
  schema: string;
  name: string;
  /** d default, n nothing, f full, i index. */
  replicaIdentity?: string;
  columns: ColumnSpec[];
}): Buffer {
  const w = new Writer()
    .byte('R')
    .streamXid(m.xid)
    .int32(m.oid)
    .cstring(m.schema)
    .cstring(m.name)
    .byte(m.replicaIdentity ?? 'd')
    .int16(m.columns.length);
  for (const c of m.columns) {
    w.byte(c.isKey ? 1 : 0)
      .cstring(c.name)
      .int32(c.typeOid)
      .int32(c.typmod ?? -1);
  }
  return w.done();
}

/** Type message ('Y'): sent before a Relation that uses a non-built-in type. */
export function type(m: { xid?: number; oid: number; schema: string; name: string }): Buffer {
  return new Writer().byte('Y').streamXid(m.xid).int32(m.oid).cstring(m.schema).cstring(m.name).done();
}

/** Origin message ('O'). */
export function origin(m: { lsn: bigint; name: string }): Buffer {
  return new Writer().byte('O').int64(m.lsn).cstring(m.name).done();
}

export function insert(m: { xid?: number; relOid: number; new: Value[] }): Buffer {
  return new Writer().byte('I').streamXid(m.xid).int32(m.relOid).byte('N').tuple(m.new).done();
}

/** Update: `key` sends a 'K' old tuple (replica identity key changed), `old` an 'O' one (REPLICA IDENTITY FULL). */
export function update(m: { xid?: number; relOid: number; key?: Value[]; old?: Value[]; new: Value[] }): Buffer {
  const w = new Writer().byte('U').streamXid(m.xid).int32(m.relOid);
  if (m.key) w.byte('K').tuple(m.key);
  else if (m.old) w.byte('O').tuple(m.old);
  return w.byte('N').tuple(m.new).done();
}

/** Delete: exactly one of `key` ('K') and `old` ('O'). */
export function del(m: { xid?: number; relOid: number; key?: Value[]; old?: Value[] }): Buffer {
  const w = new Writer().byte('D').streamXid(m.xid).int32(m.relOid);
  if (m.key) w.byte('K').tuple(m.key);
  else if (m.old) w.byte('O').tuple(m.old);
  else throw new Error('a Delete message carries a K or an O tuple');
  return w.done();
}

export function truncate(m: { xid?: number; relOids: number[]; cascade?: boolean; restartIdentity?: boolean }): Buffer {
  const w = new Writer()
    .byte('T')
    .streamXid(m.xid)
    .int32(m.relOids.length)
    .byte((m.cascade ? 1 : 0) | (m.restartIdentity ? 2 : 0));
  for (const oid of m.relOids) w.int32(oid);
  return w.done();
}

/** Logical decoding message (pg_logical_emit_message). */
export function message(m: {
  xid?: number;
  transactional: boolean;
  lsn: bigint;
  prefix: string;
  content: Buffer | string;
}): Buffer {
  const content = typeof m.content === 'string' ? Buffer.from(m.content, 'utf8') : m.content;
  return new Writer()
    .byte('M')
    .streamXid(m.xid)
    .byte(m.transactional ? 1 : 0)
    .int64(m.lsn)
    .cstring(m.prefix)
    .int32(content.length)
    .bytes(content)
    .done();
}

export function streamStart(m: { xid: number; first: boolean }): Buffer {
  return new Writer()
    .byte('S')
    .int32(m.xid)
    .byte(m.first ? 1 : 0)
    .done();
}

export function streamStop(): Buffer {
  return new Writer().byte('E').done();
}

export function streamCommit(m: { xid: number; commitLsn: bigint; endLsn: bigint; commitTs: bigint }): Buffer {
  return new Writer().byte('c').int32(m.xid).byte(0).int64(m.commitLsn).int64(m.endLsn).int64(m.commitTs).done();
}

/** Stream Abort (protocol 2 form): `subxid` equal to `xid` aborts the whole transaction. */
export function streamAbort(m: { xid: number; subxid: number }): Buffer {
  return new Writer().byte('A').int32(m.xid).int32(m.subxid).done();
}

/**
 * Several messages in one buffer, as a socket read delivers them to the decoder: `frames[i]` is message i's
 * [start, end). Optional filler bytes before, between and after make a decoder that reads past `end` visible.
 */
export function pack(messages: Buffer[], filler = 0): { buf: Buffer; frames: [number, number][] } {
  const parts: Buffer[] = [];
  const frames: [number, number][] = [];
  let at = 0;
  const fill = () => {
    if (filler > 0) {
      parts.push(Buffer.alloc(filler, 0xff));
      at += filler;
    }
  };
  fill();
  for (const m of messages) {
    frames.push([at, at + m.length]);
    parts.push(m);
    at += m.length;
    fill();
  }
  return { buf: Buffer.concat(parts), frames };
}

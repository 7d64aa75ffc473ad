/**
 * Makes a Parquet file's key-value metadata order canonical (sorted by key bytes), in place.
 *
 * parquet-wasm passes the writer's key-value metadata through a Rust HashMap whose seed changes on every call, so
 * the same metadata comes out in a different order from one writeParquet call to the next. The entries keep their
 * encoded bytes; only their order inside FileMetaData.key_value_metadata (field 5) changes, so the footer length
 * and every other offset in the file stay the same.
 */
import { CompactReader, T_BINARY, T_LIST, T_STRUCT } from './thrift-compact.ts';

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1
const KEY_VALUE_METADATA = 5;

interface Entry {
  key: Uint8Array;
  raw: Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    const d = (a[k] as number) - (b[k] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * Locates FileMetaData in a Parquet file: [start, end) of the thrift footer. With `tail`, `file` is only the end of
 * a file (its last written chunk): the leading magic is not there, and null is returned when the footer does not
 * lie wholly inside it.
 */
export function footerRange(file: Uint8Array, tail = false): { start: number; end: number } | null {
  const n = file.length;
  if (n < 12 || MAGIC.some((m, k) => file[n - 4 + k] !== m) || (!tail && MAGIC.some((m, k) => file[k] !== m))) {
    throw new Error('not a Parquet file (missing PAR1 magic)');
  }
  const len = new DataView(file.buffer, file.byteOffset + n - 8, 4).getUint32(0, true);
  const end = n - 8;
  const start = end - len;
  if (start < (tail ? 0 : 4)) {
    if (tail) return null;
    throw new Error('Parquet footer length out of range');
  }
  return { start, end };
}

/** Where FileMetaData.key_value_metadata lies in a footer: its list header, its entries, its end. */
function keyValueList(file: Uint8Array, tail: boolean) {
  const range = footerRange(file, tail);
  if (!range) throw new Error('Parquet footer is not inside the given tail');
  const r = new CompactReader(file, range.start, range.end);
  let lastId = 0;
  for (;;) {
    const { type, id } = r.fieldHeader(lastId);
    if (type === 0) return null;
    if (id !== KEY_VALUE_METADATA || type !== T_LIST) {
      r.skip(type);
      lastId = id;
      continue;
    }
    const listAt = r.pos;
    const { elemType, size } = r.listHeader();
    if (elemType !== T_STRUCT) throw new Error('Parquet footer: key_value_metadata is not a list of structs');
    const first = r.pos;
    const entries: Entry[] = [];
    for (let k = 0; k < size; k++) {
      const at = r.pos;
      let key = new Uint8Array(0);
      let fid = 0;
      for (;;) {
        const f = r.fieldHeader(fid);
        if (f.type === 0) break;
        if (f.id === 1 && f.type === T_BINARY) key = r.binary().slice();
        else r.skip(f.type);
        fid = f.id;
      }
      entries.push({ key, raw: file.slice(at, r.pos) });
    }
    return { range, listAt, first, end: r.pos, entries };
  }
}

const byKey = (a: Entry, b: Entry) => compareBytes(a.key, b.key) || compareBytes(a.raw, b.raw);

/** The file (or, with `tail`, its last chunk holding the whole footer), its key-value metadata sorted in place. */
export function sortKeyValueMetadata(file: Uint8Array, tail = false): Uint8Array {
  const kv = keyValueList(file, tail);
  if (!kv) return file;
  let p = kv.first;
  for (const e of kv.entries.sort(byKey)) {
    file.set(e.raw, p);
    p += e.raw.length;
  }
  return file;
}

/**
 * The file (or its tail holding the whole footer) with `metadata` added to its key-value metadata, every entry in
 * sorted order — the bytes a writer given that metadata up front would have written (a streamed file learns its last
 * seq only at the end). The footer's length changes: a new buffer is returned.
 */
export function withKeyValueMetadata(file: Uint8Array, metadata: Record<string, string>, tail = false): Uint8Array {
  const kv = keyValueList(file, tail);
  if (!kv) throw new Error('Parquet footer has no key_value_metadata list to add to');
  const names = new Set(Object.keys(metadata));
  const utf8 = new TextEncoder();
  const entries = [
    ...kv.entries.filter((e) => !names.has(new TextDecoder().decode(e.key))),
    ...Object.entries(metadata).map(([k, v]) => {
      const key = utf8.encode(k);
      return { key, raw: keyValueStruct(key, utf8.encode(v)) };
    }),
  ].sort(byKey);
  const list = [listHeader(entries.length, T_STRUCT), ...entries.map((e) => e.raw)];
  const listBytes = concat(list);
  const footer = concat([file.subarray(kv.range.start, kv.listAt), listBytes, file.subarray(kv.end, kv.range.end)]);
  const out = new Uint8Array(kv.range.start + footer.length + 8);
  out.set(file.subarray(0, kv.range.start), 0);
  out.set(footer, kv.range.start);
  new DataView(out.buffer).setUint32(kv.range.start + footer.length, footer.length, true);
  out.set(MAGIC, kv.range.start + footer.length + 4);
  return out;
}

/** KeyValue {1: binary key, 2: binary value} in the compact protocol. */
function keyValueStruct(key: Uint8Array, value: Uint8Array): Uint8Array {
  return concat([
    Uint8Array.of((1 << 4) | T_BINARY),
    varint(key.length),
    key,
    Uint8Array.of((1 << 4) | T_BINARY),
    varint(value.length),
    value,
    Uint8Array.of(0),
  ]);
}

function listHeader(size: number, elemType: number): Uint8Array {
  return size < 15 ? Uint8Array.of((size << 4) | elemType) : concat([Uint8Array.of(0xf0 | elemType), varint(size)]);
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

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

/** The file (or, with `tail`, its last chunk holding the whole footer), its key-value metadata sorted in place. */
export function sortKeyValueMetadata(file: Uint8Array, tail = false): Uint8Array {
  const range = footerRange(file, tail);
  if (!range) throw new Error('Parquet footer is not inside the given tail');
  const { start, end } = range;
  const r = new CompactReader(file, start, end);
  let lastId = 0;
  for (;;) {
    const { type, id } = r.fieldHeader(lastId);
    if (type === 0) return file;
    if (id !== KEY_VALUE_METADATA || type !== T_LIST) {
      r.skip(type);
      lastId = id;
      continue;
    }
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
    entries.sort((a, b) => compareBytes(a.key, b.key) || compareBytes(a.raw, b.raw));
    let p = first;
    for (const e of entries) {
      file.set(e.raw, p);
      p += e.raw.length;
    }
    return file;
  }
}

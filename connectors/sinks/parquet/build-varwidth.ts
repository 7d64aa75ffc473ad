/**
 * Variable-width Arrow columns (Utf8, Binary) built on one value buffer plus an Int32 offsets array, with no
 * per-value allocation. Short strings are UTF-8 encoded by a JS loop straight into the buffer (faster than a native
 * call per value for the typical few-dozen-character value); long ones go through TextEncoder.encodeInto.
 */
import { makeData, type Binary, type Data, type Utf8 } from 'apache-arrow';
import type { ColumnSlice } from './build-fixed.ts';
import { Validity } from './validity.ts';

const encoder = new TextEncoder();
/** Strings longer than this (UTF-16 units) are encoded natively. */
const JS_ENCODE_MAX = 128;
const MAX_OFFSET = 0x7fffffff;

class ByteBuffer {
  buf: Uint8Array;
  pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(capacity, 64));
  }

  /** Makes room for `extra` more bytes at pos. */
  ensure(extra: number, column: string): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    if (need > MAX_OFFSET) {
      throw new Error(`column ${column}: more than 2 GiB of data in one row group; lower rowGroupRows`);
    }
    const next = new Uint8Array(Math.min(MAX_OFFSET, Math.max(need, this.buf.length * 2)));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
}

/**
 * Writes s as UTF-8 at buf[p…] (room for 3 bytes per UTF-16 unit must exist) and returns the new position.
 * Matches TextEncoder: surrogate pairs → 4 bytes, lone surrogates → U+FFFD.
 */
function encodeUtf8(s: string, buf: Uint8Array, p: number): number {
  const n = s.length;
  for (let k = 0; k < n; k++) {
    let c = s.charCodeAt(k);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = k + 1 < n ? s.charCodeAt(k + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          k++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 63);
          buf[p++] = 0x80 | ((c >> 6) & 63);
          buf[p++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 63);
      buf[p++] = 0x80 | (c & 63);
    }
  }
  return p;
}

export function buildUtf8(slice: ColumnSlice<Utf8>): Data<Utf8> {
  const { values, start, length, name } = slice;
  const validity = new Validity(length);
  const offsets = new Int32Array(length + 1);
  let units = 0;
  for (let r = 0; r < length; r++) {
    const s = values[start + r];
    if (s == null) validity.setNull(r);
    else units += s.length;
  }
  // Sized for ASCII; grows (doubling) when multi-byte text needs more.
  const out = new ByteBuffer(Math.min(units + 16, MAX_OFFSET));
  for (let r = 0; r < length; r++) {
    const s = values[start + r];
    if (s != null) {
      const n = s.length;
      out.ensure(3 * n, name);
      if (n <= JS_ENCODE_MAX) {
        out.pos = encodeUtf8(s, out.buf, out.pos);
      } else {
        out.pos += encoder.encodeInto(s, out.buf.subarray(out.pos)).written;
      }
    }
    offsets[r + 1] = out.pos;
  }
  return makeData({
    type: slice.type,
    length,
    nullCount: validity.nullCount,
    nullBitmap: validity.bitmap(),
    valueOffsets: offsets,
    data: out.buf.subarray(0, out.pos),
  });
}

const HEX = new Int8Array(128).fill(-1);
for (let k = 0; k < 10; k++) HEX[48 + k] = k;
for (let k = 0; k < 6; k++) {
  HEX[65 + k] = 10 + k;
  HEX[97 + k] = 10 + k;
}

function hexDigit(c: number): number {
  return c < 128 ? (HEX[c] as number) : -1;
}

/** Binary from Postgres hex format '\x0a0b…'; anything else is null plus a quality issue. */
export function buildBinary(slice: ColumnSlice<Binary>): Data<Binary> {
  const { values, start, length, name, quality } = slice;
  const validity = new Validity(length);
  const offsets = new Int32Array(length + 1);
  let total = 0;
  for (let r = 0; r < length; r++) {
    const s = values[start + r];
    if (s != null) total += (s.length - 2) >> 1;
  }
  const out = new ByteBuffer(Math.max(0, Math.min(total, MAX_OFFSET)));
  for (let r = 0; r < length; r++) {
    const s = values[start + r];
    offsets[r] = out.pos;
    if (s == null) {
      validity.setNull(r);
      continue;
    }
    let reason: string | undefined;
    const n = s.length;
    if (n < 2 || s.charCodeAt(0) !== 92 /* \ */ || s.charCodeAt(1) !== 120 /* x */) {
      reason = 'not a Postgres hex bytea (\\x…)';
    } else if ((n & 1) !== 0) {
      reason = 'odd number of hex digits';
    } else {
      out.ensure((n - 2) >> 1, name);
      const buf = out.buf;
      let p = out.pos;
      for (let k = 2; k < n; k += 2) {
        const hi = hexDigit(s.charCodeAt(k));
        const lo = hexDigit(s.charCodeAt(k + 1));
        if (hi < 0 || lo < 0) {
          reason = 'invalid hex digit';
          break;
        }
        buf[p++] = (hi << 4) | lo;
      }
      if (reason === undefined) out.pos = p;
    }
    if (reason !== undefined) {
      validity.setNull(r);
      quality.report(name, start + r, s, reason);
    }
  }
  offsets[length] = out.pos;
  return makeData({
    type: slice.type,
    length,
    nullCount: validity.nullCount,
    nullBitmap: validity.bitmap(),
    valueOffsets: offsets,
    data: out.buf.subarray(0, out.pos),
  });
}

/**
 * Just enough of the Thrift compact protocol to walk a Parquet footer (FileMetaData): read field headers,
 * varints and binaries, and skip any value without knowing its schema.
 */

export const T_BOOL_TRUE = 1;
export const T_BOOL_FALSE = 2;
export const T_BYTE = 3;
export const T_I16 = 4;
export const T_I32 = 5;
export const T_I64 = 6;
export const T_DOUBLE = 7;
export const T_BINARY = 8;
export const T_LIST = 9;
export const T_SET = 10;
export const T_MAP = 11;
export const T_STRUCT = 12;
export const T_UUID = 13;

export class CompactReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  byte(): number {
    if (this.pos >= this.end) throw new Error('thrift: unexpected end of footer');
    return this.buf[this.pos++] as number;
  }

  /** Unsigned varint (≤ 2^53 is enough for lengths and sizes here). */
  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
      if (mul > 2 ** 63) throw new Error('thrift: varint too long');
    }
  }

  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  binary(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Error('thrift: binary past end of footer');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Reads a field header; returns [type, id] or type 0 at STOP. */
  fieldHeader(lastId: number): { type: number; id: number } {
    const b = this.byte();
    const type = b & 0x0f;
    if (type === 0) return { type: 0, id: 0 };
    const delta = b >> 4;
    const id = delta === 0 ? this.zigzag() : lastId + delta;
    return { type, id };
  }

  /** List/set header → element type and size. */
  listHeader(): { elemType: number; size: number } {
    const b = this.byte();
    const short = b >> 4;
    return { elemType: b & 0x0f, size: short === 15 ? this.varint() : short };
  }

  skip(type: number): void {
    switch (type) {
      case T_BOOL_TRUE:
      case T_BOOL_FALSE:
        return; // value lives in the field header
      case T_BYTE:
        this.pos += 1;
        return;
      case T_I16:
      case T_I32:
      case T_I64:
        this.varint();
        return;
      case T_DOUBLE:
        this.pos += 8;
        return;
      case T_BINARY:
        this.binary();
        return;
      case T_UUID:
        this.pos += 16;
        return;
      case T_LIST:
      case T_SET: {
        const { elemType, size } = this.listHeader();
        for (let k = 0; k < size; k++) {
          if (elemType === T_BOOL_TRUE || elemType === T_BOOL_FALSE) this.pos += 1;
          else this.skip(elemType);
        }
        return;
      }
      case T_MAP: {
        const size = this.varint();
        if (size === 0) return;
        const kv = this.byte();
        for (let k = 0; k < size; k++) {
          this.skipElem(kv >> 4);
          this.skipElem(kv & 0x0f);
        }
        return;
      }
      case T_STRUCT:
        this.skipStruct();
        return;
      default:
        throw new Error(`thrift: unknown compact type ${type}`);
    }
  }

  private skipElem(type: number): void {
    if (type === T_BOOL_TRUE || type === T_BOOL_FALSE) this.pos += 1;
    else this.skip(type);
  }

  skipStruct(): void {
    let lastId = 0;
    for (;;) {
      const { type, id } = this.fieldHeader(lastId);
      if (type === 0) return;
      this.skip(type);
      lastId = id;
    }
  }
}

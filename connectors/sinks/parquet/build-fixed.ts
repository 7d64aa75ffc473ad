/**
 * Fixed-width Arrow columns (ints, decimals, floats, bools, dates, times, timestamps) built straight onto
 * typed buffers with makeData. Rows [start, start+length) of one column's text values become one Data chunk.
 */
import {
  makeData,
  type Bool,
  type DataType,
  type DateDay,
  type Decimal,
  type Data,
  type Float32,
  type Float64,
  type Int16,
  type Int32,
  type Int64,
  type TimeMicrosecond,
  type TimestampMicrosecond,
} from 'apache-arrow';
import { Int64Writer } from './int64-words.ts';
import { parseDecimalInto } from './parse-decimal.ts';
import {
  parseBool,
  parseFloat32Into,
  parseFloat64Into,
  parseInt16Into,
  parseInt32Into,
  parseInt64Into,
} from './parse-number.ts';
import { parseDateInto, parseTimeInto, parseTimestampInto } from './parse-temporal.ts';
import type { QualitySink } from './quality.ts';
import { Validity } from './validity.ts';

/** A slice of one column: its text values and where the chunk starts. */
export interface ColumnSlice<T extends DataType = DataType> {
  name: string;
  type: T;
  values: readonly (string | null)[];
  start: number;
  length: number;
  quality: QualitySink;
}

/** Runs parse over every non-null value; a returned reason nulls the slot and files a quality issue. */
function fill(slice: ColumnSlice, parse: (s: string, r: number) => string | undefined): Validity {
  const { values, start, length, name, quality } = slice;
  const validity = new Validity(length);
  for (let r = 0; r < length; r++) {
    const s = values[start + r];
    if (s == null) {
      validity.setNull(r);
      continue;
    }
    const err = parse(s, r);
    if (err !== undefined) {
      validity.setNull(r);
      quality.report(name, start + r, s, err);
    }
  }
  return validity;
}

export function buildInt16(slice: ColumnSlice<Int16>): Data<Int16> {
  const data = new Int16Array(slice.length);
  const v = fill(slice, (s, r) => parseInt16Into(s, data, r));
  return makeData({ type: slice.type, length: slice.length, nullCount: v.nullCount, nullBitmap: v.bitmap(), data });
}

export function buildInt32(slice: ColumnSlice<Int32>): Data<Int32> {
  const data = new Int32Array(slice.length);
  const v = fill(slice, (s, r) => parseInt32Into(s, data, r));
  return makeData({ type: slice.type, length: slice.length, nullCount: v.nullCount, nullBitmap: v.bitmap(), data });
}

export function buildInt64(slice: ColumnSlice<Int64>): Data<Int64> {
  const w = new Int64Writer(slice.length);
  const v = fill(slice, (s, r) => parseInt64Into(s, w, r));
  return makeData({
    type: slice.type,
    length: slice.length,
    nullCount: v.nullCount,
    nullBitmap: v.bitmap(),
    data: w.big,
  });
}

export function buildDecimal(slice: ColumnSlice<Decimal>): Data<Decimal> {
  const { precision, scale } = slice.type;
  const data = new Uint32Array(slice.length * 4);
  const v = fill(slice, (s, r) => parseDecimalInto(s, precision, scale, data, r));
  return makeData({ type: slice.type, length: slice.length, nullCount: v.nullCount, nullBitmap: v.bitmap(), data });
}

export function buildFloat32(slice: ColumnSlice<Float32>): Data<Float32> {
  const data = new Float32Array(slice.length);
  const v = fill(slice, (s, r) => parseFloat32Into(s, data, r));
  return makeData({ type: slice.type, length: slice.length, nullCount: v.nullCount, nullBitmap: v.bitmap(), data });
}

export function buildFloat64(slice: ColumnSlice<Float64>): Data<Float64> {
  const data = new Float64Array(slice.length);
  const v = fill(slice, (s, r) => parseFloat64Into(s, data, r));
  return makeData({ type: slice.type, length: slice.length, nullCount: v.nullCount, nullBitmap: v.bitmap(), data });
}

export function buildBool(slice: ColumnSlice<Bool>): Data<Bool> {
  const data = new Uint8Array((slice.length + 7) >> 3);
  const v = fill(slice, (s, r) => {
    const b = parseBool(s);
    if (b < 0) return 'not a boolean';
    if (b === 1) data[r >> 3] = (data[r >> 3] as number) | (1 << (r & 7));
    return undefined;
  });
  return makeData({ type: slice.type, length: slice.length, nullCount: v.nullCount, nullBitmap: v.bitmap(), data });
}

export function buildDate(slice: ColumnSlice<DateDay>): Data<DateDay> {
  const data = new Int32Array(slice.length);
  const v = fill(slice, (s, r) => parseDateInto(s, data, r));
  return makeData({ type: slice.type, length: slice.length, nullCount: v.nullCount, nullBitmap: v.bitmap(), data });
}

export function buildTime(slice: ColumnSlice<TimeMicrosecond>): Data<TimeMicrosecond> {
  const w = new Int64Writer(slice.length);
  const v = fill(slice, (s, r) => parseTimeInto(s, w, r));
  return makeData({
    type: slice.type,
    length: slice.length,
    nullCount: v.nullCount,
    nullBitmap: v.bitmap(),
    data: w.big,
  });
}

export function buildTimestamp(slice: ColumnSlice<TimestampMicrosecond>): Data<TimestampMicrosecond> {
  const withZone = slice.type.timezone != null;
  const w = new Int64Writer(slice.length);
  const v = fill(slice, (s, r) => parseTimestampInto(s, withZone, w, r));
  return makeData({
    type: slice.type,
    length: slice.length,
    nullCount: v.nullCount,
    nullBitmap: v.bitmap(),
    data: w.big,
  });
}

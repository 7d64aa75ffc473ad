/**
 * Arrow (as read back from Parquet) → plain JS values for display, exact: 64-bit integers as decimal strings,
 * timestamps/dates/times as ISO text with every fractional digit, decimals as exact text, binary as hex, lists as
 * JS arrays of their converted elements (list<utf8> → string[]).
 */
import { DataType, makeVector, Type, type Data } from 'apache-arrow';
import { formatDate, formatDecimal, formatTimeOfDay, formatTimestamp, toHex, wordsToBigInt } from './format-value.ts';

/** The ColumnType-style name of an Arrow type (see columnTypeName); Arrow's own name for anything else. */
export function arrowTypeName(type: DataType): string {
  if (DataType.isInt(type) && type.isSigned && type.bitWidth >= 16) return `int${type.bitWidth}`;
  if (DataType.isFloat(type)) {
    if (type.precision === 1) return 'float32';
    if (type.precision === 2) return 'float64';
  }
  if (DataType.isDecimal(type) && type.bitWidth === 128) return `decimal(${type.precision},${type.scale})`;
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'utf8';
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return 'binary';
  if (DataType.isDate(type) && type.unit === 0) return 'date';
  if (DataType.isTime(type) && type.unit === 2) return 'time';
  if (DataType.isTimestamp(type) && type.unit === 2) return type.timezone ? 'timestamptz' : 'timestamp';
  if (DataType.isList(type)) return `list<${arrowTypeName(type.valueType as DataType)}>`;
  return String(type);
}

function bytesValue(v: unknown): unknown {
  return v instanceof Uint8Array ? toHex(v) : v;
}

/** Generic conversion for types without a dedicated exact path. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return toHex(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (v !== null && typeof v === 'object' && 'toJSON' in v && typeof v.toJSON === 'function') {
    return (v as { toJSON(): unknown }).toJSON();
  }
  return v;
}

/** Value i of an Arrow Data chunk (index relative to the chunk), or null. */
export function cellValue(data: Data, i: number, get: (i: number) => unknown): unknown {
  if (!data.getValid(i)) return null;
  const type = data.type as DataType;
  switch (type.typeId) {
    case Type.Int: {
      const v = (data.values as ArrayLike<number | bigint>)[i];
      return typeof v === 'bigint' ? v.toString() : v;
    }
    case Type.Decimal: {
      const stride = (type as unknown as { bitWidth: number }).bitWidth / 32;
      const words = (data.values as Uint32Array).subarray(i * stride, (i + 1) * stride);
      return formatDecimal(wordsToBigInt(words), (type as unknown as { scale: number }).scale);
    }
    case Type.Date: {
      const v = (data.values as ArrayLike<number | bigint>)[i] as number | bigint;
      if ((type as unknown as { unit: number }).unit === 0) return formatDate(Number(v));
      return formatTimestamp(BigInt(v), 1, false).slice(0, 10);
    }
    case Type.Time: {
      const v = (data.values as ArrayLike<number | bigint>)[i] as number | bigint;
      return formatTimeOfDay(BigInt(v), (type as unknown as { unit: number }).unit);
    }
    case Type.Timestamp: {
      const t = type as unknown as { unit: number; timezone: string | null };
      const v = (data.values as BigInt64Array)[i] as bigint;
      return formatTimestamp(v, t.unit, t.timezone != null && t.timezone !== '');
    }
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
    case Type.BinaryView:
      return bytesValue(get(i));
    case Type.List: {
      const offsets = data.valueOffsets as Int32Array;
      const child = data.children[0];
      if (!child) return [];
      const elements = makeVector(child);
      const out: unknown[] = [];
      const end = offsets[i + 1] as number;
      for (let k = offsets[i] as number; k < end; k++) out.push(cellValue(child, k, (j) => elements.get(j)));
      return out;
    }
    default:
      return plain(get(i));
  }
}

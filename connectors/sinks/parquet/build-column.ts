import type {
  Binary,
  Bool,
  Data,
  DataType,
  DateDay,
  Decimal,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
} from 'apache-arrow';
import type { List, TimeMicrosecond, TimestampMicrosecond, Utf8 } from 'apache-arrow';
import type { ScalarColumnType } from '../../../schemas/column-type.ts';
import type { ColumnSpec } from '../../../schemas/column-type.ts';
import {
  buildBool,
  buildDate,
  buildDecimal,
  buildFloat32,
  buildFloat64,
  buildInt16,
  buildInt32,
  buildInt64,
  buildTime,
  buildTimestamp,
  type ColumnSlice,
} from './build-fixed.ts';
import { buildList } from './build-list.ts';
import { buildBinary, buildUtf8 } from './build-varwidth.ts';
import type { QualitySink } from './quality.ts';

/** Builds rows [start, start+length) of one column as an Arrow Data chunk of `type` (from arrowTypeOf(spec.type)). */
export function buildColumn(
  spec: ColumnSpec,
  type: DataType,
  values: readonly (string | null)[],
  start: number,
  length: number,
  quality: QualitySink,
): Data {
  const slice: ColumnSlice = { name: spec.name, type, values, start, length, quality };
  switch (spec.type.kind) {
    case 'int16':
      return buildInt16(slice as ColumnSlice<Int16>);
    case 'int32':
      return buildInt32(slice as ColumnSlice<Int32>);
    case 'int64':
      return buildInt64(slice as ColumnSlice<Int64>);
    case 'decimal':
      return buildDecimal(slice as ColumnSlice<Decimal>);
    case 'float32':
      return buildFloat32(slice as ColumnSlice<Float32>);
    case 'float64':
      return buildFloat64(slice as ColumnSlice<Float64>);
    case 'bool':
      return buildBool(slice as ColumnSlice<Bool>);
    case 'utf8':
      return buildUtf8(slice as ColumnSlice<Utf8>);
    case 'binary':
      return buildBinary(slice as ColumnSlice<Binary>);
    case 'date':
      return buildDate(slice as ColumnSlice<DateDay>);
    case 'time':
      return buildTime(slice as ColumnSlice<TimeMicrosecond>);
    case 'timestamp':
      return buildTimestamp(slice as ColumnSlice<TimestampMicrosecond>);
    case 'list': {
      const element: { name: string; type: ScalarColumnType } = { name: spec.name, type: spec.type.element };
      const childType = (type as List).valueType;
      return buildList(slice as ColumnSlice<List>, (elements, q) =>
        buildColumn(element, childType, elements, 0, elements.length, q),
      );
    }
    default:
      throw new Error(`unsupported ColumnType ${JSON.stringify(spec.type)}`);
  }
}

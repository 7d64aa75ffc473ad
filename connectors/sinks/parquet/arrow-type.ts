import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  List,
  TimeMicrosecond,
  TimestampMicrosecond,
  Utf8,
  type DataType,
} from 'apache-arrow';
import type { ColumnType } from '../../../schemas/column-type.ts';

/** Checks a decimal(p,s) fits Decimal128: 1 ≤ p ≤ 38, 0 ≤ s ≤ p. */
export function checkDecimal(precision: number, scale: number): void {
  if (!Number.isInteger(precision) || precision < 1 || precision > 38) {
    throw new Error(`unsupported decimal precision ${precision}: Parquet DECIMAL via Decimal128 needs 1..38`);
  }
  if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
    throw new Error(`unsupported decimal scale ${scale} for precision ${precision}: needs 0..precision`);
  }
}

/**
 * A List with a nullable child field named 'element': arrow-rs (parquet-wasm) names the Parquet leaf after the Arrow
 * child field, so this gives the standard three-level LIST layout `optional group <col> (LIST) { repeated group list
 * { optional <type> element } }` (arrow-rs's default 'item' is legal but not the spec's name). DuckDB reads a list of
 * UTF8 as VARCHAR[], of INT32 as INTEGER[], and so on.
 */
export function listType(element: DataType): List {
  return new List(new Field('element', element, true));
}

/** The Arrow type a column is written as. Throws for a ColumnType this writer does not support. */
export function arrowTypeOf(t: ColumnType): DataType {
  switch (t.kind) {
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'decimal':
      checkDecimal(t.precision, t.scale);
      return new Decimal(t.scale, t.precision, 128);
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'utf8':
      return new Utf8();
    case 'binary':
      return new Binary();
    case 'date':
      return new DateDay();
    case 'time':
      return new TimeMicrosecond();
    case 'timestamp':
      if (t.tz !== null && t.tz !== 'UTC') throw new Error(`unsupported timestamp zone ${JSON.stringify(t.tz)}`);
      return new TimestampMicrosecond(t.tz);
    case 'list':
      if (!t.element || (t.element as ColumnType).kind === 'list') {
        throw new Error(`unsupported ColumnType ${JSON.stringify(t)}: a list of scalars only`);
      }
      return listType(arrowTypeOf(t.element));
    default:
      throw new Error(`unsupported ColumnType ${JSON.stringify(t)}`);
  }
}

/**
 * List<Utf8> columns (ColumnType { kind: 'list', element: { kind: 'utf8' } }, e.g. `_unchanged`). Each value's text
 * form is a JSON array of strings ('["notes","photo"]'; '[]' is an empty list, null is SQL NULL). The arrays are
 * flattened into one element array whose UTF-8 child is built by buildUtf8; the list itself is an Int32 offsets
 * array into it plus a validity bitmap. A value that is not a JSON array of strings is null plus a quality issue.
 */
import { makeData, type Data, type List, type Utf8 } from 'apache-arrow';
import type { ColumnSlice } from './build-fixed.ts';
import { buildUtf8 } from './build-varwidth.ts';
import { Validity } from './validity.ts';

const MAX_OFFSET = 0x7fffffff;

/** The elements of a JSON array of strings, or the reason the text is not one. */
export function parseStringList(s: string): string[] | { reason: string } {
  if (s === '[]') return [];
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return { reason: 'not valid JSON (expected a JSON array of strings)' };
  }
  if (!Array.isArray(v)) return { reason: 'not a JSON array (expected a JSON array of strings)' };
  for (let k = 0; k < v.length; k++) {
    if (typeof v[k] !== 'string') return { reason: `list element ${k} is not a string` };
  }
  return v as string[];
}

export function buildUtf8List(slice: ColumnSlice<List<Utf8>>): Data<List<Utf8>> {
  const { values, start, length, name, quality } = slice;
  const validity = new Validity(length);
  const offsets = new Int32Array(length + 1);
  const elements: string[] = [];
  for (let r = 0; r < length; r++) {
    const s = values[start + r];
    if (s == null) {
      validity.setNull(r);
    } else {
      const parsed = parseStringList(s);
      if (Array.isArray(parsed)) {
        if (elements.length + parsed.length > MAX_OFFSET) {
          throw new Error(`column ${name}: more than 2^31 list elements in one row group; lower rowGroupRows`);
        }
        for (const e of parsed) elements.push(e);
      } else {
        validity.setNull(r);
        quality.report(name, start + r, s, parsed.reason);
      }
    }
    offsets[r + 1] = elements.length;
  }
  const child = buildUtf8({
    name,
    type: slice.type.valueType,
    values: elements,
    start: 0,
    length: elements.length,
    quality,
  });
  return makeData({
    type: slice.type,
    length,
    nullCount: validity.nullCount,
    nullBitmap: validity.bitmap(),
    valueOffsets: offsets,
    child,
  });
}

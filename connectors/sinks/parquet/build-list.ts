/**
 * LIST columns (ColumnType { kind: 'list', element }: Postgres arrays, and `_unchanged`). Each value's text form is a
 * JSON array of the elements' own text forms, or null for a NULL element ('["1","2",null]'; '[]' is an empty list;
 * null is SQL NULL). The arrays are flattened into one element array whose child column is built by the element
 * type's own builder (passed in, so that this file does not depend on the dispatcher); the list itself is an Int32
 * offsets array into it plus a validity bitmap. A value that is not such an array — not JSON, a nested (multi-
 * dimensional) array, a number — is null plus a quality issue; an element its type cannot hold is a null element plus
 * a quality issue on the row.
 */
import { makeData, type Data, type List } from 'apache-arrow';
import type { ColumnSlice } from './build-fixed.ts';
import { QualitySink } from './quality.ts';
import { Validity } from './validity.ts';

const MAX_OFFSET = 0x7fffffff;

/** The elements of a JSON array of strings and nulls, or the reason the text is not one. */
export function parseTextList(s: string): (string | null)[] | { reason: string } {
  if (s === '[]') return [];
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return { reason: 'not valid JSON (expected a JSON array of element texts)' };
  }
  if (!Array.isArray(v)) return { reason: 'not a JSON array (expected a JSON array of element texts)' };
  for (let k = 0; k < v.length; k++) {
    const e: unknown = v[k];
    if (e === null || typeof e === 'string') continue;
    return {
      reason: Array.isArray(e)
        ? 'a multi-dimensional array has no one-dimensional LIST value'
        : `list element ${k} is not a string or null`,
    };
  }
  return v as (string | null)[];
}

/** Builds the child column of `values` (the flattened elements), reporting element issues to `quality`. */
export type ElementBuilder = (values: (string | null)[], quality: QualitySink) => Data;

export function buildList(slice: ColumnSlice<List>, buildElements: ElementBuilder): Data<List> {
  const { values, start, length, name, quality } = slice;
  const validity = new Validity(length);
  const offsets = new Int32Array(length + 1);
  const elements: (string | null)[] = [];
  /** Row of each element, to attribute an element's quality issue to its row. */
  const rowOf: number[] = [];
  for (let r = 0; r < length; r++) {
    const s = values[start + r];
    if (s == null) {
      validity.setNull(r);
    } else {
      const parsed = parseTextList(s);
      if (Array.isArray(parsed)) {
        if (elements.length + parsed.length > MAX_OFFSET) {
          throw new Error(`column ${name}: more than 2^31 list elements in one row group; lower rowGroupRows`);
        }
        for (const e of parsed) {
          elements.push(e);
          rowOf.push(start + r);
        }
      } else {
        validity.setNull(r);
        quality.report(name, start + r, s, parsed.reason);
      }
    }
    offsets[r + 1] = elements.length;
  }
  const elementQuality = new QualitySink();
  const child = buildElements(elements, elementQuality);
  for (const q of elementQuality.issues) {
    quality.report(
      name,
      rowOf[q.row]!,
      q.raw,
      `list element ${q.row - (offsets[rowOf[q.row]! - start] ?? 0)}: ${q.reason}`,
    );
  }
  return makeData({
    type: slice.type,
    length,
    nullCount: validity.nullCount,
    nullBitmap: validity.bitmap(),
    valueOffsets: offsets,
    child,
  });
}

import type { ChangeEvent, ColumnSpec } from '../../schemas/index.ts';
import type { ResourceSchema } from '../ports/index.ts';
import type { FieldMask } from './field-masks.ts';
import { unrepresentable as whyUnrepresentable } from './representable.ts';

/** The system columns every batch file ends with (DESIGN.md, Batch output). */
export const SYSTEM_COLUMNS: ColumnSpec[] = [
  { name: '_op', type: { kind: 'utf8' } },
  { name: '_seq', type: { kind: 'int64' } },
  { name: '_commit_ts', type: { kind: 'timestamp', tz: 'UTC' } },
];

/**
 * Added after the system columns only when some row of the file has a granted column whose unchanged TOAST value
 * the source did not send: the names of those columns (their values are NULL in the row, meaning "not sent", not
 * SQL NULL). NULL in rows without any.
 */
export const UNCHANGED_COLUMN: ColumnSpec = { name: '_unchanged', type: { kind: 'list', element: { kind: 'utf8' } } };

/**
 * Added last, only when some value of the file has no value in its column's type (see representable.ts): a JSON
 * object of column → the raw text that was written as NULL, e.g. {"amount":"NaN"}. NULL in rows without any.
 */
export const QUALITY_COLUMN: ColumnSpec = { name: '_quality', type: { kind: 'utf8', json: true } };

export interface BatchRows {
  columns: ColumnSpec[];
  values: (string | null)[][];
  seqs: string[];
  rows: number;
  ops: { c: number; u: number; d: number; t: number };
  commitTs: { min: string; max: string };
  /** Values a format-aware mask could not parse (they fell back to hash). */
  maskFallbacks: { column: string; row: number; reason: string }[];
  /** Non-null values written per strategy (the fallback counts as hash). */
  masked: Record<string, number>;
  /** Values written as NULL because their type cannot hold them (their raw text is in `_quality`). */
  unrepresentable: { column: string; row: number; reason: string }[];
}

/**
 * Turns one schema version's run of change events into column-major, masked rows: the granted fields in the
 * subscription's order, then `_op`, `_seq`, `_commit_ts` (and `_unchanged` when used). An insert or update carries
 * the new row; a truncate (`_op = t`) carries no values; a delete
 * carries the old row when the source has it (REPLICA IDENTITY FULL) and otherwise the key only, with the other
 * fields NULL.
 */
export function buildBatchRows(events: ChangeEvent[], schema: ResourceSchema, masks: FieldMask[]): BatchRows {
  const columns: ColumnSpec[] = masks.map((m) => {
    const source = schema.columns.find((c) => c.name === m.field);
    return { name: m.field, type: m.outputType(source?.type ?? { kind: 'utf8' }) };
  });
  columns.push(...SYSTEM_COLUMNS);
  const values: (string | null)[][] = columns.map(() => new Array<string | null>(events.length));
  const seqs: string[] = new Array<string>(events.length);
  const ops = { c: 0, u: 0, d: 0, t: 0 };
  const granted = new Set(masks.map((m) => m.field));
  const unchanged: (string | null)[] = new Array<string | null>(events.length).fill(null);
  let anyUnchanged = false;
  const maskFallbacks: BatchRows['maskFallbacks'] = [];
  const unrepresentable: BatchRows['unrepresentable'] = [];
  const quality: (string | null)[] = new Array<string | null>(events.length).fill(null);
  const masked: Record<string, number> = {};
  let min = '';
  let max = '';
  const sys = masks.length;
  events.forEach((e, r) => {
    const row = e.op === 'd' ? { ...e.key, ...(e.before ?? {}) } : (e.after ?? {});
    let rowQuality: Record<string, string> | null = null;
    masks.forEach((m, c) => {
      const raw = row[m.field] ?? null;
      const out = m.apply(raw);
      if (out.fallback) maskFallbacks.push({ column: m.field, row: r, reason: out.reason ?? 'unparseable' });
      let value = out.value;
      if (value !== null) {
        const reason = whyUnrepresentable(columns[c]!.type, value);
        if (reason) {
          unrepresentable.push({ column: m.field, row: r, reason });
          (rowQuality ??= {})[m.field] = value;
          value = null;
        } else {
          const strategy = out.fallback ?? m.strategy;
          masked[strategy] = (masked[strategy] ?? 0) + 1;
        }
      }
      values[c]![r] = value;
    });
    if (rowQuality) quality[r] = JSON.stringify(rowQuality);
    values[sys]![r] = e.op;
    values[sys + 1]![r] = e.seq;
    values[sys + 2]![r] = e.commitTs;
    seqs[r] = e.seq;
    if (e.op !== 'r') ops[e.op]++;
    const notSent = e.unchanged?.filter((c) => granted.has(c));
    if (notSent?.length) {
      unchanged[r] = JSON.stringify(notSent);
      anyUnchanged = true;
    }
    if (min === '' || e.commitTs < min) min = e.commitTs;
    if (e.commitTs > max) max = e.commitTs;
  });
  if (anyUnchanged) {
    columns.push(UNCHANGED_COLUMN);
    values.push(unchanged);
  }
  if (unrepresentable.length > 0) {
    columns.push(QUALITY_COLUMN);
    values.push(quality);
  }
  return {
    columns,
    values,
    seqs,
    rows: events.length,
    ops,
    commitTs: { min, max },
    maskFallbacks,
    masked,
    unrepresentable,
  };
}

import type { ChangeEvent, ColumnSpec, Row } from '../../schemas/index.ts';
import type { QualityCheck, QualityFailure, RowChecker } from '../quality/index.ts';
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
 * Added last, only when some row of the file needs it: a JSON object of column → the raw text of a value that has no
 * value in its column's type and was written as NULL (representable.ts), e.g. {"amount":"NaN"}, and, under the
 * quality policy `flag`, `"_checks": {column: [failed checks]}` (no values). NULL in rows without any.
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
  /** Quality-check failures of granted or key columns: `row` in the file, or -1 when the row was held back. */
  qualityFailures: { column: string; check: QualityCheck; seq: string; row: number }[];
  /** Rows held back by the quality policy `hold` (reported in the manifest, not delivered). */
  held: number;
  /** Events the subscription's row filter left out (transitions become inserts or deletes). */
  filteredOut: number;
  /** Events folded into a later row of the same key (`latest` mode). */
  netted: number;
  /** Whether some row needed `_unchanged` / `_quality` (see {@link OptionalColumns}). */
  needs: OptionalColumns;
}

/**
 * Which of the optional columns a file has. Without it, `buildBatchRows` adds each one when some row needs it; with
 * it (a file written in row groups must fix its columns at the first one) exactly these, and `needs` tells whether
 * a row needed one that is not there (the file is then written again with it).
 */
export interface OptionalColumns {
  unchanged: boolean;
  quality: boolean;
}

/** How a subscription treats a resource's rows: its filter and the provider's quality policy. */
export interface RowRules {
  /**
   * The subscription's compiled row filter: true = in, false or null (unknown) = out. Evaluated on the before and
   * the after image: an update moving a row out of the filter is delivered as a delete, one moving it in as an
   * insert (DESIGN: needs the before image — REPLICA IDENTITY FULL — unless the filter uses key columns only).
   */
  filter?: { test: (row: Row) => boolean | null; keyOnly: boolean };
  /** The resource's quality checks and what to do with a failing row (default flag). */
  quality?: { check: RowChecker; onFailure: 'deliver' | 'flag' | 'hold' };
}

const NONE: readonly QualityFailure[] = Object.freeze([]);
const MAYBE_UNREPRESENTABLE = new Set(['decimal', 'date', 'timestamp', 'list']);

type Routed = { op: ChangeEvent['op']; image: Row } | null;

const deletedImage = (e: ChangeEvent): Row => ({ ...e.key, ...(e.before ?? {}) });

/** Where an event goes under a filter (see {@link RowRules.filter}); without one, everywhere as it is. */
export function routeEvent(e: ChangeEvent, filter: RowRules['filter']): Routed {
  if (e.op === 't') return { op: 't', image: {} };
  if (!filter) return { op: e.op, image: e.op === 'd' ? deletedImage(e) : (e.after ?? {}) };
  switch (e.op) {
    case 'c':
    case 'r':
      return filter.test(e.after ?? {}) === true ? { op: e.op, image: e.after ?? {} } : null;
    case 'd': {
      // Without the old row a non-key filter cannot be decided: the delete is delivered (never lose a delete).
      const image = deletedImage(e);
      const decidable = filter.keyOnly || e.before != null;
      return !decidable || filter.test(image) === true ? { op: 'd', image } : null;
    }
    case 'u': {
      const after = e.after ?? {};
      const nowIn = filter.test(after) === true;
      const old = filter.keyOnly ? (e.before ?? e.key) : e.before;
      const wasIn = old != null ? filter.test(old) === true : nowIn; // no before image: no transition can be seen
      if (wasIn && nowIn) return { op: 'u', image: after };
      if (nowIn) return { op: 'c', image: after };
      if (wasIn) return { op: 'd', image: { ...e.key, ...(old ?? {}) } };
      return null;
    }
  }
}

/**
 * Turns one schema version's run of change events into column-major, masked rows: the granted fields in the
 * subscription's order, then `_op`, `_seq`, `_commit_ts` (and `_unchanged`, `_quality` when used). An insert or
 * update carries the new row; a truncate (`_op = t`) carries no values; a delete carries the old row when the
 * source has it (REPLICA IDENTITY FULL) and otherwise the key only, with the other fields NULL. The row filter and
 * the quality policy decide per event whether and as what it is delivered ({@link RowRules}); `select` (the `latest`
 * mode) then keeps only the events it names, with the op it gives.
 */
export function buildBatchRows(
  events: ChangeEvent[],
  schema: ResourceSchema,
  masks: FieldMask[],
  rules: RowRules = {},
  optional?: OptionalColumns,
  select?: (e: ChangeEvent, op: ChangeEvent['op']) => ChangeEvent['op'] | null,
  seqOverride?: string,
): BatchRows {
  const columns: ColumnSpec[] = masks.map((m) => {
    const source = schema.columns.find((c) => c.name === m.field);
    return { name: m.field, type: m.outputType(source?.type ?? { kind: 'utf8' }) };
  });
  columns.push(...SYSTEM_COLUMNS);
  const values: (string | null)[][] = columns.map(() => []);
  const seqs: string[] = [];
  const ops = { c: 0, u: 0, d: 0, t: 0 };
  const granted = new Set(masks.map((m) => m.field));
  const visible = new Set([...granted, ...schema.key]);
  const unchanged: (string | null)[] = [];
  let anyUnchanged = false;
  const maskFallbacks: BatchRows['maskFallbacks'] = [];
  const unrepresentable: BatchRows['unrepresentable'] = [];
  const qualityFailures: BatchRows['qualityFailures'] = [];
  const quality: (string | null)[] = [];
  let anyQuality = false;
  const masked: Record<string, number> = {};
  let held = 0;
  let filteredOut = 0;
  let netted = 0;
  let min = '';
  let max = '';
  const sys = masks.length;
  const policy = rules.quality?.onFailure ?? 'flag';
  // decided once per column, not per value: clear values pass as they are; only the clear values of these types can
  // lack a value in their delivered type (masked outputs are text, binary or null)
  const clear = masks.map((m) => m.strategy === 'clear');
  const checkType = columns.slice(0, sys).map((c, i) => clear[i]! && MAYBE_UNREPRESENTABLE.has(c.type.kind));
  const counts = masks.map(() => 0); // non-null values written, per column
  const fallbacks = masks.map(() => 0); // of which hashed instead of partially masked or generalized
  for (const e of events) {
    const routed = routeEvent(e, rules.filter);
    if (!routed) {
      filteredOut++;
      continue;
    }
    const { image: row } = routed;
    // `latest` mode: only a key's last event, as its net effect (net-effect.ts)
    const op = select ? select(e, routed.op) : routed.op;
    if (op === null) {
      netted++;
      continue;
    }
    let failed = rules.quality && op !== 't' ? rules.quality.check(row) : NONE;
    if (failed.length > 0) failed = failed.filter((f) => visible.has(f.column));
    if (failed.length > 0 && policy === 'hold') {
      held++;
      for (const f of failed) qualityFailures.push({ column: f.column, check: f.check, seq: e.seq, row: -1 });
      continue;
    }
    const r = seqs.length;
    let rowQuality: Record<string, unknown> | null = null;
    if (failed.length > 0) {
      // `type` failures are the unrepresentable values below: their raw text is in _quality already
      const named = failed.filter((f) => f.check !== 'type');
      for (const f of named) qualityFailures.push({ column: f.column, check: f.check, seq: e.seq, row: r });
      if (policy === 'flag' && named.length > 0) {
        const checks: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
        for (const f of named) (checks[f.column] ??= []).push(f.check);
        rowQuality = { _checks: checks };
      }
    }
    for (let c = 0; c < masks.length; c++) {
      const m = masks[c]!;
      // own properties only: a column named like an Object.prototype member (constructor, toString) is a column
      const raw = Object.hasOwn(row, m.field) ? (row[m.field] ?? null) : null;
      let value: string | null;
      if (clear[c]) value = raw;
      else {
        const out = m.apply(raw);
        value = out.value;
        if (out.fallback) {
          maskFallbacks.push({ column: m.field, row: r, reason: out.reason ?? 'unparseable' });
          if (value !== null) fallbacks[c]!++;
        }
      }
      if (value !== null) {
        const reason = checkType[c] ? whyUnrepresentable(columns[c]!.type, value) : null;
        if (reason) {
          unrepresentable.push({ column: m.field, row: r, reason });
          (rowQuality ??= {})[m.field] = value;
          value = null;
        } else counts[c]!++;
      }
      values[c]!.push(value);
    }
    quality.push(rowQuality ? JSON.stringify(rowQuality) : null);
    if (rowQuality) anyQuality = true;
    values[sys]!.push(op);
    values[sys + 1]!.push(seqOverride ?? e.seq);
    values[sys + 2]!.push(e.commitTs);
    seqs.push(e.seq);
    if (op !== 'r') ops[op]++;
    // an update delivered as an insert or a delete carries what it carries: unchanged columns only matter for updates
    const notSent = op === 'u' || op === 'c' ? e.unchanged?.filter((c) => granted.has(c)) : undefined;
    if (notSent?.length) {
      unchanged.push(JSON.stringify(notSent));
      anyUnchanged = true;
    } else unchanged.push(null);
    if (min === '' || e.commitTs < min) min = e.commitTs;
    if (e.commitTs > max) max = e.commitTs;
  }
  masks.forEach((m, c) => {
    const own = counts[c]! - fallbacks[c]!;
    if (own > 0) masked[m.strategy] = (masked[m.strategy] ?? 0) + own;
    if (fallbacks[c]! > 0) masked.hash = (masked.hash ?? 0) + fallbacks[c]!;
  });
  if (optional ? optional.unchanged : anyUnchanged) {
    columns.push(UNCHANGED_COLUMN);
    values.push(unchanged);
  }
  if (optional ? optional.quality : anyQuality) {
    columns.push(QUALITY_COLUMN);
    values.push(quality);
  }
  return {
    columns,
    values,
    seqs,
    rows: seqs.length,
    ops,
    commitTs: { min, max },
    maskFallbacks,
    masked,
    unrepresentable,
    qualityFailures,
    held,
    filteredOut,
    netted,
    needs: { unchanged: anyUnchanged, quality: anyQuality },
  };
}

/**
 * The platform's data-quality checks in the joint operation model (per resource; pure and deterministic, so that
 * the stream, snapshot scans and every subscription's delivery reach the same verdict for the same row):
 *
 * | check          | fails when                                                                            |
 * | -------------- | ------------------------------------------------------------------------------------- |
 * | `null`         | a key column, or a field marked `required`, is NULL                                   |
 * | `type`         | a value has no value in its delivered type (numeric NaN/±Infinity, ±infinity dates, … — representable.ts) |
 * | `length`       | a text value is longer (in characters) than the column's length from the database     |
 * | `check-digit`  | a `cn_id_card` value is not a valid GB 11643 resident ID (length, date, check digit)   |
 * | `code-table`   | a value of a field with a `codeTable` is not one of its codes                         |
 * | `duplicate-key`| (scans only) a key appears on more than one row                                       |
 *
 * A failure names the column and the check, never the value.
 */
import type { ColumnType, Row } from '../../schemas/index.ts';
import { unrepresentable } from '../delivery/representable.ts';
import { residentIdProblem } from '../masking/gb11643.ts';

export type QualityCheck = 'null' | 'type' | 'length' | 'check-digit' | 'code-table' | 'duplicate-key';

/** Every check, in report order. */
export const QUALITY_CHECKS: readonly QualityCheck[] = Object.freeze([
  'null',
  'type',
  'length',
  'check-digit',
  'code-table',
  'duplicate-key',
] as const);

export interface QualityFailure {
  column: string;
  check: QualityCheck;
}

/** What the checks need to know of a column (from the catalog: config and database). */
export interface QualityColumn {
  name: string;
  type?: ColumnType;
  length?: number;
  tag?: string;
  required?: boolean;
  codeTable?: Readonly<Record<string, string>>;
}

export interface QualityRules {
  key: readonly string[];
  columns: readonly QualityColumn[];
}

/** One row's checks: the failures, empty when the row passes. */
export type RowChecker = (row: Row) => QualityFailure[];

type ColumnCheck = (value: string | null, out: QualityFailure[]) => void;

/**
 * Compiles a resource's rules into one function per row: every applicable check of every column is decided here
 * once, so the per-row work is only the checks themselves. Columns absent from a row (an unchanged TOAST value,
 * or not granted) are not checked.
 */
export function compileQualityChecks(rules: QualityRules): RowChecker {
  const key = new Set(rules.key);
  const checks: { name: string; run: ColumnCheck }[] = [];
  const names = new Set([...rules.key, ...rules.columns.map((c) => c.name)]);
  for (const name of names) {
    const col = rules.columns.find((c) => c.name === name) ?? { name };
    const parts: ColumnCheck[] = [];
    if (key.has(name) || col.required) {
      parts.push((v, out) => {
        if (v === null) out.push({ column: name, check: 'null' });
      });
    }
    const type = col.type;
    if (
      type &&
      (type.kind === 'decimal' || type.kind === 'date' || type.kind === 'timestamp' || type.kind === 'list')
    ) {
      parts.push((v, out) => {
        if (v !== null && unrepresentable(type, v) !== null) out.push({ column: name, check: 'type' });
      });
    }
    const max = col.length;
    if (max !== undefined && (type === undefined || type.kind === 'utf8')) {
      parts.push((v, out) => {
        // code points, not UTF-16 units; cheap path when even 2 units per character fit
        if (v !== null && v.length > max && [...v].length > max) out.push({ column: name, check: 'length' });
      });
    }
    if (col.tag === 'cn_id_card') {
      parts.push((v, out) => {
        if (v !== null && residentIdProblem(v.length === 18 ? v : v.trimEnd()) !== null)
          out.push({ column: name, check: 'check-digit' });
      });
    }
    const codes = col.codeTable;
    if (codes) {
      const allowed = new Set(Object.keys(codes));
      parts.push((v, out) => {
        if (v !== null && !allowed.has(v.trimEnd())) out.push({ column: name, check: 'code-table' });
      });
    }
    if (parts.length === 1) checks.push({ name, run: parts[0]! });
    else if (parts.length > 1) {
      checks.push({
        name,
        run: (v, out) => {
          for (let i = 0; i < parts.length; i++) parts[i]!(v, out);
        },
      });
    }
  }
  return (row) => {
    const out: QualityFailure[] = [];
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      if (Object.hasOwn(row, c.name)) c.run(row[c.name]!, out);
    }
    return out;
  };
}

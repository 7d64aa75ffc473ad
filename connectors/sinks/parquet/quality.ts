import type { QualityIssue } from './types.ts';

/** Collects values that were written as null because they have no value in their column's Parquet type. */
export class QualitySink {
  readonly issues: QualityIssue[] = [];

  report(column: string, row: number, raw: string, reason: string): void {
    this.issues.push({ column, row, raw, reason });
  }
}

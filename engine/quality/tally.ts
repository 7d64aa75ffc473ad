import type { QualityCheck, QualityFailure } from './checks.ts';

/** How many rows failed one check on one column, with a few of their keys (masked: never raw). */
export interface QualityCount {
  check: QualityCheck;
  column: string;
  failures: number;
  /** Up to {@link SAMPLE_KEYS} keys of failing rows through the subscriber-independent hash (DESIGN.md). */
  sampleKeys: string[];
}

/** A resource's quality as checked by a scan of its table or over a sample of its stream. */
export interface QualityReport {
  resource: string;
  /** `scan`: every row of the table read by `sluice quality --scan`; `stream`: the changes checked so far. */
  source: 'scan' | 'stream';
  rowsChecked: number;
  rowsFailed: number;
  counts: QualityCount[];
  /** Null rate of each key and required column among the rows checked. */
  nullRates: Record<string, number>;
  startedAt: string;
  updatedAt: string;
}

export const SAMPLE_KEYS = 5;

/** Accumulates check results into a {@link QualityReport}. */
export class QualityTally {
  private rows = 0;
  private failedRows = 0;
  private readonly counts = new Map<string, QualityCount>();
  private readonly nulls = new Map<string, number>();
  private readonly startedAt: string;

  constructor(
    private readonly resource: string,
    private readonly source: QualityReport['source'],
    private readonly nullColumns: readonly string[],
    from?: QualityReport,
  ) {
    this.startedAt = from?.startedAt ?? new Date().toISOString();
    if (from) {
      this.rows = from.rowsChecked;
      this.failedRows = from.rowsFailed;
      for (const c of from.counts)
        this.counts.set(`${c.check}\u0000${c.column}`, { ...c, sampleKeys: [...c.sampleKeys] });
      for (const [col, rate] of Object.entries(from.nullRates))
        this.nulls.set(col, Math.round(rate * from.rowsChecked));
    }
  }

  /** One checked row: its failures and its masked key (only computed when there is a failure). */
  add(failures: readonly QualityFailure[], maskedKey: () => string): void {
    this.rows++;
    for (const f of failures) if (f.check === 'null') this.nulls.set(f.column, (this.nulls.get(f.column) ?? 0) + 1);
    if (failures.length === 0) return;
    this.failedRows++;
    let key: string | undefined;
    for (const f of failures) this.count(f.check, f.column, 1, () => (key ??= maskedKey()));
  }

  /** Failures counted elsewhere (a scan's duplicate-key query). */
  count(check: QualityCheck, column: string, n: number, maskedKey?: () => string): void {
    const id = `${check}\u0000${column}`;
    let c = this.counts.get(id);
    if (!c) this.counts.set(id, (c = { check, column, failures: 0, sampleKeys: [] }));
    c.failures += n;
    if (maskedKey && c.sampleKeys.length < SAMPLE_KEYS) {
      const k = maskedKey();
      if (!c.sampleKeys.includes(k)) c.sampleKeys.push(k);
    }
  }

  get failures(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c.failures;
    return n;
  }

  report(): QualityReport {
    return {
      resource: this.resource,
      source: this.source,
      rowsChecked: this.rows,
      rowsFailed: this.failedRows,
      counts: [...this.counts.values()].sort((a, b) =>
        a.check === b.check ? (a.column < b.column ? -1 : 1) : a.check < b.check ? -1 : 1,
      ),
      nullRates: Object.fromEntries(
        this.nullColumns.map((c) => [c, this.rows === 0 ? 0 : (this.nulls.get(c) ?? 0) / this.rows]),
      ),
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
    };
  }
}

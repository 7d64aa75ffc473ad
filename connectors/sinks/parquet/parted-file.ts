import { rm } from 'node:fs/promises';
import { ParquetStreamWriter, type StreamOptions } from './stream-writer.ts';
import type { QualityIssue } from './types.ts';

export interface PartResult {
  /** The temp path it was written to (the sink publishes it under its part name). */
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * One batch file written as one or more Parquet parts of about `partBytes` each (DESIGN.md: `<stem>.p001.parquet`, …):
 * a part is closed at a row-group boundary once the part's bytes through the row group before last reach the limit
 * — a number the encoder has already handed out, so the same rows always split at the same places and re-created
 * parts are byte-identical (a part may pass the limit by up to two row groups). Closed parts keep only their
 * footer until `finish`, which writes every part's footer with the batch's key-value metadata (and, when there are
 * several, `sluice.part` / `sluice.parts`). The first part is written to `path`, part n to `path.p<n>`.
 */
export class PartedFile {
  private readonly parts: ParquetStreamWriter[] = [];
  private readonly rows: number[] = [];
  private groups = 0; // row groups in the current part

  private constructor(
    private readonly path: string,
    private readonly options: StreamOptions,
    private readonly partBytes: number | undefined,
  ) {}

  static async create(path: string, options: StreamOptions, partBytes?: number): Promise<PartedFile> {
    const f = new PartedFile(path, options, partBytes);
    await f.openPart();
    return f;
  }

  /** The next row group (see ParquetStreamWriter.prepareGroup), in a new part when the current one is full. */
  async prepareGroup(
    values: (string | null)[][],
    rows: number,
  ): Promise<{ issues: QualityIssue[]; submit: () => Promise<void> }> {
    if (this.partBytes !== undefined && this.groups >= 2) {
      const bytes = await this.current().bytesThrough(this.groups - 2);
      if (bytes >= this.partBytes) {
        await this.current().end();
        await this.openPart();
      }
    }
    const prepared = this.current().prepareGroup(values, 0, rows);
    this.groups++;
    this.rows[this.rows.length - 1]! += rows;
    return prepared;
  }

  async finish(metadata: Record<string, string>): Promise<{ parts: PartResult[]; quality: QualityIssue[] }> {
    const n = this.parts.length;
    const parts: PartResult[] = [];
    const quality: QualityIssue[] = [];
    for (let i = 0; i < n; i++) {
      const extra: Record<string, string> = n > 1 ? { 'sluice.part': String(i + 1), 'sluice.parts': String(n) } : {};
      const r = await this.parts[i]!.finish({ ...metadata, ...extra });
      parts.push({ path: this.pathOf(i), rows: this.rows[i]!, bytes: r.bytes, sha256: r.sha256 });
      quality.push(...r.quality);
    }
    return { parts, quality };
  }

  /** Stops every part and removes their files. */
  async abort(): Promise<void> {
    for (let i = 0; i < this.parts.length; i++) {
      await this.parts[i]!.abort();
      await rm(this.pathOf(i), { force: true });
    }
  }

  private current(): ParquetStreamWriter {
    return this.parts[this.parts.length - 1]!;
  }

  private pathOf(i: number): string {
    return i === 0 ? this.path : `${this.path}.p${i + 1}`;
  }

  private async openPart(): Promise<void> {
    this.parts.push(await ParquetStreamWriter.create(this.pathOf(this.parts.length), this.options));
    this.rows.push(0);
    this.groups = 0;
  }
}

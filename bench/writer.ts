/**
 * Benchmark: our Parquet writer (the delivery path: text values → the encoder thread → row groups of 64k, ZSTD,
 * streamed to disk with its sha256) against DuckDB's `COPY … TO … (FORMAT parquet, COMPRESSION zstd)` on the same
 * rows, with DuckDB single-threaded (`SET threads = 1`) and with its default, in the same run. Each writer runs in a
 * child process of its own, so the peak RSS is its own: reported as the growth while writing over the RSS with the
 * input already in memory (and the absolute peak). Rows: REFERENCE's shape (int64, 3 strings, double, timestamptz),
 * 1M by default; DuckDB reads them from a Parquet file into a table before the timed COPY.
 *
 *   npm run bench -- writer
 *   BENCH_WRITER_ROWS=200000 BENCH_RUNS=1 npm run bench -- writer
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROWS = Number(process.env.BENCH_WRITER_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CHILD = fileURLToPath(new URL('./writer-child.ts', import.meta.url));

export interface WriterRun {
  ms: number;
  bytes: number;
  rssGrowthMb: number;
  peakRssMb: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function child(args: string[]): WriterRun {
  const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD, ...args], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as WriterRun;
}

export async function benchWriter() {
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-writer-'));
  try {
    const source = join(work, 'rows.parquet');
    child(['ours', String(ROWS), source]); // the rows DuckDB reads (also warms the file cache)
    const runs: Record<'ours' | 'duck1' | 'duck', WriterRun[]> = { ours: [], duck1: [], duck: [] };
    for (let i = 0; i < RUNS; i++) {
      runs.ours.push(child(['ours', String(ROWS), join(work, `ours-${i}.parquet`)]));
      runs.duck1.push(child(['duckdb', source, join(work, `duck1-${i}.parquet`), '1']));
      runs.duck.push(child(['duckdb', source, join(work, `duck-${i}.parquet`), '0']));
    }
    const summary = (k: keyof typeof runs) => ({
      ms: median(runs[k].map((r) => r.ms)),
      bytes: median(runs[k].map((r) => r.bytes)),
      rssGrowthMb: median(runs[k].map((r) => r.rssGrowthMb)),
      peakRssMb: median(runs[k].map((r) => r.peakRssMb)),
    });
    return { rows: ROWS, runs: RUNS, ours: summary('ours'), duck1: summary('duck1'), duck: summary('duck'), raw: runs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function printWriter(r: Awaited<ReturnType<typeof benchWriter>>): void {
  const rate = (ms: number) => Math.round(r.rows / (ms / 1000)).toLocaleString('en-US');
  console.log(
    `\nParquet writer, ${r.rows.toLocaleString('en-US')} rows (int64, 3 strings, double, timestamptz; ZSTD), median of ${r.runs}:`,
  );
  console.log('| writer | s | rows/s | vs DuckDB 1 thread | file MB | RSS growth MB | peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|');
  const line = (name: string, x: WriterRun) =>
    console.log(
      `| ${name} | ${(x.ms / 1000).toFixed(2)} | ${rate(x.ms)} | ${(r.duck1.ms / x.ms).toFixed(2)} | ${(x.bytes / 2 ** 20).toFixed(1)} | ${x.rssGrowthMb} | ${x.peakRssMb} |`,
    );
  line('DuckDB COPY, threads = 1 (reference)', r.duck1);
  line('DuckDB COPY, default threads', r.duck);
  line('Sluice (encoder thread, 64k row groups)', r.ours);
  console.log(`aim: ours ≥ 0.5 of single-threaded DuckDB — ${(r.duck1.ms / r.ours.ms).toFixed(2)}`);
}

/**
 * Benchmark: the initial snapshot of a large table (default 5M rows) to Parquet, on real components (embedded
 * PostgreSQL provider + state DB, the watermark snapshot, the Postgres bus, masked Parquet files), beside references
 * measured in the same run on the same table:
 *
 *   (a) `COPY relief_recipients TO STDOUT`, drained by the client: what the server can hand out at all;
 *   (b) the keyset chunk reads alone (the same SQL the snapshot runs, text values, rows as objects): our read path
 *       without the bus;
 *   (c) the snapshot into the bus (read, reconcile, append: what `sluice snapshots` counts as done);
 *   (d) bus → masked Parquet files (one cycle of the subscription).
 *
 * Rows/s of (c), of (c)+(d) end to end, the ratios to (a), and the peak RSS of the engine's process (sampled every
 * 50 ms) are printed; (b), (c) and (d) say where the time goes.
 *
 *   npm run bench -- snapshot
 *   BENCH_SNAPSHOT_ROWS=1000000 npm run bench -- snapshot
 *   BENCH_MARK=1 node --cpu-prof --import tsx bench/run.ts snapshot   # prints hrtime (µs) around (d): the window of
 *                                                                     # the CPU profile that is delivery alone
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { connectReader, readChunk } from '../connectors/sources/postgres/snapshot-reader.ts';
import { createLogger } from '../ops/log/logger.ts';
import { startEngine } from '../ops/runtime/engine.ts';
import { RELIEF_DDL, reliefConfig } from '../test/helpers/config.ts';
import { startPostgres, waitFor } from '../test/helpers/postgres.ts';

const N = Number(process.env.BENCH_SNAPSHOT_ROWS ?? 5_000_000);
const CHUNK = Number(process.env.BENCH_SNAPSHOT_CHUNK ?? 10_000);

export interface SnapshotBench {
  rows: number;
  copyMs: number;
  chunkReadMs: number;
  toBusMs: number;
  toParquetMs: number;
  files: number;
  peakRssMb: number;
  /** Peak RSS while the snapshot went into the bus, (c), and while it was delivered, (d). */
  peakBusRssMb: number;
  peakParquetRssMb: number;
  readyRssMb: number;
}

export async function benchSnapshot(): Promise<SnapshotBench> {
  const server = await startPostgres('sluice-bench-snap-', { max_wal_size: '4GB', checkpoint_timeout: '30min' });
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-snap-out-'));
  try {
    const { client: provider, url: providerUrl } = await server.database('provider');
    await provider.query(RELIEF_DDL);
    console.error(`snapshot bench: loading ${N} rows…`);
    for (let i = 0; i < N; i += 500_000) {
      await provider.query(
        `insert into relief_recipients (id, name, id_card, mobile, amount, big, paid_at)
         select g, '王' || g, '11010519491231002X', '138' || lpad(g::text, 8, '0'), g * 1.25, g * 1000003, now()
           from generate_series($1::bigint, $2::bigint) g`,
        [i + 1, Math.min(i + 500_000, N)],
      );
    }
    await provider.query('vacuum analyze relief_recipients');
    const columns = ['id', 'name', 'id_card', 'mobile', 'amount', 'big', 'paid_at', 'notes'];

    // (a) COPY TO STDOUT, drained
    const copyClient = new pg.Client({ connectionString: providerUrl });
    await copyClient.connect();
    const c0 = performance.now();
    await pipeline(
      copyClient.query(copyTo(`copy (select ${columns.join(', ')} from relief_recipients) to stdout`)),
      new Writable({ write: (_chunk, _enc, done) => done() }),
    );
    const copyMs = performance.now() - c0;
    await copyClient.end();

    // (b) the keyset chunk reads alone
    const reader = await connectReader(providerUrl);
    const r0 = performance.now();
    let after: (string | null)[] | null = null;
    let read = 0;
    for (;;) {
      const chunk = await readChunk(reader, {
        table: { schema: 'public', name: 'relief_recipients' },
        key: [{ name: 'id', type: 'bigint' }],
        columns,
        after,
        limit: CHUNK,
      });
      read += chunk.rows.length;
      if (chunk.rows.length < CHUNK) break;
      after = chunk.last;
    }
    const chunkReadMs = performance.now() - r0;
    await reader.end();
    if (read !== N) throw new Error(`chunk reads saw ${read} rows, expected ${N}`);

    // (c) + (d): the engine, from start
    const { client: state, url: stateUrl } = await server.database('state');
    const cfg = reliefConfig({ dataDir: join(work, 'data'), providerUrl, stateUrl, outDir: join(work, 'out') });
    cfg.providers[0]!.connector.snapshot = { chunkRows: CHUNK };
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    global.gc?.();
    const s0 = performance.now();
    const engine = await startEngine(cfg, { logger: createLogger({ level: process.env.SLUICE_LOG_LEVEL ?? 'warn' }) });
    const readyRss = process.memoryUsage().rss;
    try {
      await waitFor(
        'the snapshot on the bus',
        async () => {
          const { rows } = await state.query<{ seq: string }>(
            "select seq from sluice_bus_heads where resource = 'relief-recipients'",
          );
          return Number(rows[0]?.seq ?? 0) >= N;
        },
        1_800_000,
        20,
      );
      const toBusMs = performance.now() - s0;
      const peakBus = peak;
      peak = 0;
      const p0 = performance.now();
      if (process.env.BENCH_MARK) console.error(`MARK d-start ${process.hrtime.bigint() / 1000n}`);
      const result = await engine.runCycle('audit-relief', new Date());
      if (process.env.BENCH_MARK) console.error(`MARK d-end ${process.hrtime.bigint() / 1000n}`);
      const toParquetMs = performance.now() - p0;
      if (result.rows !== N) throw new Error(`delivered ${result.rows} rows, expected ${N}`);
      return {
        rows: N,
        copyMs,
        chunkReadMs,
        toBusMs,
        toParquetMs,
        files: result.files.length,
        peakRssMb: Math.round(Math.max(peak, peakBus) / 2 ** 20),
        peakBusRssMb: Math.round(peakBus / 2 ** 20),
        peakParquetRssMb: Math.round(peak / 2 ** 20),
        readyRssMb: Math.round(readyRss / 2 ** 20),
      };
    } finally {
      clearInterval(sampler);
      await engine.drain();
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export function printSnapshot(r: SnapshotBench): void {
  const rate = (ms: number) => Math.round(r.rows / (ms / 1000)).toLocaleString('en-US');
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const rows = [
    ['(a) COPY … TO STDOUT, drained (reference)', r.copyMs],
    ['(b) keyset chunk reads alone', r.chunkReadMs],
    ['(c) snapshot into the bus (read, reconcile, append)', r.toBusMs],
    ['(d) bus → masked Parquet (one cycle)', r.toParquetMs],
    ['(c)+(d) snapshot to Parquet, end to end', r.toBusMs + r.toParquetMs],
  ] as const;
  console.log(`\nSnapshot of ${r.rows.toLocaleString('en-US')} rows (chunks of ${CHUNK}), one run:`);
  console.log('| path | s | rows/s | vs (a) |');
  console.log('|---|---|---|---|');
  for (const [name, ms] of rows) console.log(`| ${name} | ${s(ms)} | ${rate(ms)} | ${(r.copyMs / ms).toFixed(2)} |`);
  console.log(
    `${r.files} Parquet files; engine process RSS ${r.readyRssMb} MB when ready, peak ${r.peakRssMb} MB ` +
      `(into the bus ${r.peakBusRssMb} MB, to Parquet ${r.peakParquetRssMb} MB; sampled every 50 ms)`,
  );
}

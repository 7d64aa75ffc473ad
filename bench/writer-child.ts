/**
 * One writer of bench/writer.ts in a process of its own (so its RSS is its own); prints one JSON line.
 *   ours <rows> <out.parquet>                  the delivery path: encoder thread, 64k row groups, pipelined groups
 *   duckdb <rows.parquet> <out.parquet> <threads: 1, or 0 for DuckDB's default>
 */
import { readFileSync, statSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { syntheticInput } from '../connectors/sinks/parquet/bench-encode.ts';
import { EncoderThread } from '../connectors/sinks/parquet/encoder-thread.ts';

const GROUP = 65_536;

/** Samples RSS every 10 ms from `start()`; `growthMb()` is the highest sample over the RSS at start. */
function rssWatch() {
  let base = 0;
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    start() {
      base = peak = process.memoryUsage().rss;
      timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    },
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      return {
        rssGrowthMb: Math.round((peak - base) / 2 ** 20),
        peakRssMb: Math.round((hwm ? Number(hwm[1]) * 1024 : peak) / 2 ** 20),
      };
    },
  };
}

const [mode, a, b, c] = process.argv.slice(2);
const watch = rssWatch();
let ms: number;
let out: string;
if (mode === 'ours') {
  const input = syntheticInput(Number(a));
  out = b!;
  const thread = new EncoderThread();
  // the engine's encoder thread is up long before a cycle: start it (and load its code) before timing
  const warm = await thread.create(`${out}.warm`, { columns: input.columns, metadata: {}, rowGroupRows: GROUP });
  await warm.writeGroup(
    input.values.map((col) => col.slice(0, 10)),
    10,
  );
  await warm.finish({});
  watch.start();
  const t0 = performance.now();
  const f = await thread.create(out, {
    columns: input.columns,
    metadata: {},
    compression: 'zstd',
    rowGroupRows: GROUP,
  });
  // as the cycle does: the next group is cut while one is encoded, one in flight
  let inflight: Promise<unknown> | null = null;
  for (let s = 0; s < input.rows; s += GROUP) {
    const n = Math.min(GROUP, input.rows - s);
    const group = input.values.map((col) => col.slice(s, s + n));
    await inflight;
    inflight = f.writeGroup(group, n);
  }
  await inflight;
  await f.finish(input.metadata);
  ms = performance.now() - t0;
  await thread.close();
} else if (mode === 'duckdb') {
  out = b!;
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  if (c === '1') await conn.run('SET threads = 1');
  await conn.run(`create table t as select * from read_parquet('${a!}')`);
  watch.start();
  const t0 = performance.now();
  await conn.run(`copy t to '${out}' (format parquet, compression zstd)`);
  ms = performance.now() - t0;
  conn.closeSync();
  db.closeSync();
} else throw new Error(`unknown mode ${mode}`);
const mem = watch.stop();
process.stdout.write(`${JSON.stringify({ ms: Math.round(ms), bytes: statSync(out).size, ...mem })}\n`);

/**
 * Benchmark: time for N changes (default 100k; a mixed workload of 60 % inserts, 30 % updates, 10 % deletes in
 * transactions of 1,000 changes) to go from commit on the provider to a delivered Parquet file, on real components
 * (embedded PostgreSQL provider + state DB, pgoutput slot, Postgres bus, masked Parquet).
 * References measured in the same run: the provider's own commit time, PostgreSQL's server-side pgoutput decode of
 * the same WAL (pg_logical_slot_peek_binary_changes on a second slot), and DuckDB writing the same rows to Parquet.
 *
 *   npm run bench                       # 3 runs of 100k changes
 *   BENCH_CHANGES=20000 BENCH_RUNS=1 npm run bench
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLogger } from '../ops/log/logger.ts';
import { startEngine } from '../ops/runtime/engine.ts';
import { RELIEF_DDL, reliefConfig } from '../test/helpers/config.ts';
import { startPostgres, waitFor } from '../test/helpers/postgres.ts';

const N = Number(process.env.BENCH_CHANGES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TX_ROWS = 1000;
const PRELOAD = 20_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;

export async function benchCommitToParquet() {
  const server = await startPostgres('sluice-bench-');
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-out-'));
  const { client: provider } = await server.database('provider');
  await provider.query(RELIEF_DDL);
  const { client: state } = await server.database('state');
  const engine = await startEngine(
    reliefConfig({
      dataDir: join(work, 'data'),
      providerUrl: server.url('provider'),
      stateUrl: server.url('state'),
      outDir: join(work, 'out'),
    }),
    { logger: createLogger({ level: process.env.SLUICE_LOG_LEVEL ?? 'warn' }) },
  );
  let nextId = 1;
  const live: number[] = [];
  const head = async () => {
    const { rows: r } = await state.query<{ seq: string }>(
      "select seq from sluice_bus_heads where resource = 'relief-recipients'",
    );
    return Number(r[0]?.seq ?? 0);
  };
  const insertRows = async (n: number): Promise<number[]> => {
    const ids = Array.from({ length: n }, () => nextId++);
    await provider.query(
      `insert into relief_recipients (id, name, id_card, mobile, amount, big, paid_at, diagnosis)
       select g, '王' || g, '11010519491231002X', '138' || lpad(g::text, 8, '0'), g * 1.25, g * 1000003, now(), 'none'
         from unnest($1::bigint[]) g`,
      [ids],
    );
    return ids;
  };
  let prng = 7;
  const pick = (): number => {
    prng = (prng * 1103515245 + 12345) % 2147483648;
    return prng % live.length;
  };
  /** One transaction of `n` changes: 60 % inserts, 30 % updates, 10 % deletes of rows that exist. */
  const mixedTransaction = async (n: number) => {
    const updates = Math.floor(n * 0.3);
    const deletes = Math.floor(n * 0.1);
    const inserts = n - updates - deletes;
    const updated = new Set<number>();
    while (updated.size < updates) updated.add(live[pick()]!);
    const deleted: number[] = [];
    for (let d = 0; d < deletes; d++) {
      let i = pick();
      while (updated.has(live[i]!)) i = pick();
      deleted.push(live[i]!);
      live[i] = live[live.length - 1]!;
      live.pop();
    }
    await provider.query('begin');
    const fresh = await insertRows(inserts);
    await provider.query(
      'update relief_recipients set amount = amount + 1, paid_at = now() where id = any($1::bigint[])',
      [[...updated]],
    );
    await provider.query('delete from relief_recipients where id = any($1::bigint[])', [deleted]);
    await provider.query('commit');
    live.push(...fresh);
  };
  const duck = await DuckDBInstance.create(':memory:');
  const dc = await duck.connect();
  const rows: Record<string, number>[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      // rows to update and delete: inserted and delivered before the clock starts
      const before = await head();
      const seed = await insertRows(PRELOAD);
      await waitFor('the preload on the bus', async () => (await head()) >= before + PRELOAD, 300_000);
      await engine.runCycle('audit-relief', new Date());
      const base = await head();
      live.push(...seed);
      await provider.query(`select pg_create_logical_replication_slot('bench_ref', 'pgoutput')`);
      const t0 = performance.now();
      for (let i = 0; i < N; i += TX_ROWS) await mixedTransaction(Math.min(TX_ROWS, N - i));
      const tCommitted = performance.now();
      await waitFor(
        'all changes on the bus',
        async () => {
          const { rows: r } = await state.query<{ seq: string }>(
            "select seq from sluice_bus_heads where resource = 'relief-recipients'",
          );
          return Number(r[0]?.seq ?? 0) >= base + N;
        },
        300_000,
      );
      const tBus = performance.now();
      const result = await engine.runCycle('audit-relief', new Date());
      const tFile = performance.now();
      if (result.rows !== N) throw new Error(`expected ${N} rows, delivered ${result.rows}`);

      const d0 = performance.now();
      const { rows: peek } = await provider.query<{ n: string }>(
        `select count(*) as n from pg_logical_slot_peek_binary_changes('bench_ref', null, null, 'proto_version', '1', 'publication_names', 'sluice_civil_affairs')`,
      );
      const serverDecode = performance.now() - d0;
      await provider.query(`select pg_drop_replication_slot('bench_ref')`);

      const w0 = performance.now();
      await dc.run(
        `copy (select range::bigint as id, '王' || range as name, '110105********002X' as id_card, sha256(range::varchar) as mobile,
                      (range * 1.25)::decimal(20,4) as amount, range * 1000003 as big, now() as paid_at, 'c' as _op, range as _seq, now() as _commit_ts
                 from range(${N})) to '${join(work, `duck-${run}.parquet`)}' (format parquet, compression zstd)`,
      );
      const duckWrite = performance.now() - w0;
      rows.push({
        commitMs: tCommitted - t0,
        cdcDrainAfterCommitMs: tBus - tCommitted,
        cycleMs: tFile - tBus,
        endToEndMs: tFile - t0,
        serverDecodeMs: serverDecode,
        duckdbWriteMs: duckWrite,
        walMessages: Number(peek[0]?.n ?? 0),
      });
    }
  } finally {
    dc.closeSync();
    duck.closeSync();
    await engine.drain();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const m = (k: string) => median(rows.map((r) => r[k]!));
  return {
    changes: N,
    runs: RUNS,
    median: {
      providerCommit: m('commitMs'),
      endToEnd: m('endToEndMs'),
      cdcLagAfterLastCommit: m('cdcDrainAfterCommitMs'),
      cycle: m('cycleMs'),
      serverDecode: m('serverDecodeMs'),
      duckdbWrite: m('duckdbWriteMs'),
    },
    runsRaw: rows,
  };
}

export function printCommitToParquet(r: Awaited<ReturnType<typeof benchCommitToParquet>>): void {
  const x = r.median;
  console.log(
    `\ncommit → Parquet, ${r.changes} changes (60 % insert, 30 % update, 10 % delete; 1000-change transactions), median of ${r.runs} run(s):`,
  );
  console.log(
    `  end to end (first commit → file renamed)   ${ms(x.endToEnd)}   (${Math.round((r.changes / x.endToEnd) * 1000)} changes/s)`,
  );
  console.log(
    `    provider commit time (reference)         ${ms(x.providerCommit)}   ratio end-to-end / commit = ${(x.endToEnd / x.providerCommit).toFixed(2)}`,
  );
  console.log(`    CDC lag after the last commit             ${ms(x.cdcLagAfterLastCommit)}`);
  console.log(
    `    cycle: bus → masked Parquet + manifest     ${ms(x.cycle)}   ratio / DuckDB Parquet write = ${(x.cycle / x.duckdbWrite).toFixed(1)}×`,
  );
  console.log(
    `  references: server-side pgoutput decode ${ms(x.serverDecode)}, DuckDB Parquet write ${ms(x.duckdbWrite)}`,
  );
  console.log(JSON.stringify(r.runsRaw));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printCommitToParquet(await benchCommitToParquet());
}

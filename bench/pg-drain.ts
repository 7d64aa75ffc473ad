/**
 * Benchmark: draining a logical-replication backlog, our connector against the streaming ceiling.
 *
 * A PostgreSQL 15 provider (Debian binaries, random loopback port) gets a backlog of 500k mixed changes (60% insert,
 * 30% update, 10% delete, 100 rows per transaction) on one table (bigint key, text, numeric, timestamptz, int).
 * Slots for every reader and run are created before the backlog is written, so each drains the same WAL:
 *
 *   (a)  pg_recvlogical 15, pgoutput proto 1, to /dev/null, stopping at the last commit (--endpos)
 *   (b)  ReplicationStream with a consumer that only counts frames (I/U/D) — the batched streaming ceiling
 *   (c') PostgresSource → pumpSource → a null bus (decoder and assembler cost, nothing stored)
 *   (c)  PostgresSource → pumpSource → PostgresBus in a separate state DB (embedded PostgreSQL 18), as in production
 *
 * Each is timed from its start until it has everything up to the last backlog commit: (a) exits at --endpos, (b) sees
 * the last commit frame after 500k changes, (c)/(c') have all 500k events appended and a checkpoint at that commit
 * confirmed to the provider; the event mix is checked (and, for (c), what the bus stored). Next to each time: CPU
 * seconds of the client, of the provider (its walsender) and of the state DB (the bus backends), from /proc.
 *
 * Then one transaction inserting 1M rows into a second table (streaming on, logical_decoding_work_mem 64MB): the
 * connector runs in a child process; time from the commit returning to all 1M events durable in the bus, and the
 * child's peak RSS (VmHWM), bounded if under 400 MB.
 *
 *   npm run bench -- drain          # this benchmark only (npm run bench runs all; ~3 min here)
 *   tsx bench/pg-drain.ts           # the same
 *   BENCH_DRAIN_CHANGES=100000 BENCH_DRAIN_RUNS=1 BENCH_BIG_ROWS=200000 npm run bench -- drain   # a quick one
 *
 * BENCH_DRAIN_CHANGES (500000), BENCH_DRAIN_TX_ROWS (100), BENCH_DRAIN_RUNS (3: medians), BENCH_BIG_ROWS (1000000),
 * BENCH_BIG_RUNS (1 — about 45 s each here; 0 skips it), PG15_BIN (/usr/lib/postgresql/15/bin).
 * Results are printed and written to bench/results/pg-drain.json (not committed). As root the PG 15 server runs as
 * user postgres. Every server, slot and temp dir is removed at the end, also on failure or Ctrl-C.
 */
import { spawn, spawnSync, fork, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  readLsn,
  lsnToNumber,
  numberToLsn,
  ReplicationStream,
} from '../connectors/sources/postgres/replication-stream.ts';
import { migrate } from '../connectors/state/postgres/migrate.ts';
import { freePort } from '../ops/net/free-port.ts';
import { createLogger } from '../ops/log/logger.ts';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.ts';
import { drainWithConnector, now, type ConnectorResult, type ConnectorRun } from './pg-drain-connector.ts';

const PG15_BIN = process.env.PG15_BIN ?? '/usr/lib/postgresql/15/bin';
const CHANGES = Number(process.env.BENCH_DRAIN_CHANGES ?? 500_000);
const RUNS = Number(process.env.BENCH_DRAIN_RUNS ?? 3);
const TX_ROWS = Number(process.env.BENCH_DRAIN_TX_ROWS ?? 100);
const BIG_ROWS = Number(process.env.BENCH_BIG_ROWS ?? 1_000_000);
const BIG_RUNS = Number(process.env.BENCH_BIG_RUNS ?? 1);
const RSS_BOUND_MB = 400;
const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, 'results', 'pg-drain.json');

const TXS = Math.round(CHANGES / TX_ROWS);
const INS = Math.round(TX_ROWS * 0.6);
const UPD = Math.round(TX_ROWS * 0.3);
const DEL = TX_ROWS - INS - UPD;
const TOTAL = TXS * TX_ROWS;
/** Rows present before the slots exist: the targets of the backlog's updates (1..) and deletes (after those). */
const SEED = TXS * (UPD + DEL);
const COLUMNS = ['name', 'amount', 'updated_at', 'qty'];
const DDL = (table: string) =>
  `create table ${table} (id bigint primary key, name text not null, amount numeric(14,2) not null,
     updated_at timestamptz not null, qty int not null) with (autovacuum_enabled = off)`;
const ROWS = (from: string, to: string) =>
  `select g, 'name-' || g, (g % 100000) * 1.25, now(), (g % 1000)::int from generate_series(${from}::bigint, ${to}::bigint) g`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// CPU accounting from /proc: this process (and its reaped children, e.g. pg_recvlogical), and each server's
// postmaster with its reaped children (walsenders and backends count once they have exited).

let clkTck = 0;
function procCpuSeconds(pid: number | 'self'): number {
  clkTck ||= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / clkTck; // utime stime cutime cstime
}
interface Cpu {
  client: number;
  provider: number;
  state: number;
}
let cpuPids = { provider: 0, state: 0 };
function cpuNow(): Cpu {
  return {
    client: procCpuSeconds('self'),
    provider: procCpuSeconds(cpuPids.provider),
    state: procCpuSeconds(cpuPids.state),
  };
}
/** CPU seconds since `before`, once the server processes of the reader had time to exit. */
async function cpuSince(before: Cpu): Promise<Cpu> {
  await sleep(300);
  const after = cpuNow();
  return {
    client: after.client - before.client,
    provider: after.provider - before.provider,
    state: after.state - before.state,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: every server and temp dir is registered here and removed at the end, on failure, and on SIGINT/SIGTERM.

const cleanups: (() => Promise<void>)[] = [];
async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!().catch((e: unknown) => console.error('cleanup failed:', e));
}
let interrupted: Promise<void> | null = null;
function onSignal(sig: NodeJS.Signals) {
  console.error(`\n${sig}: cleaning up`);
  interrupted ??= cleanupAll().finally(() => process.exit(130));
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL 15 provider (Debian binaries; they refuse to run as root, so run them as user postgres).

interface Pg15 {
  port: number;
  pid: number;
  url(db: string): string;
  config(db: string): pg.ClientConfig;
  stop(): Promise<void>;
}

function postgresOwner(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root and no "postgres" user for PostgreSQL 15');
  return { uid, gid };
}

async function startPg15(): Promise<Pg15> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-pg15-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const owner = postgresOwner();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const init = spawnSync(
    join(PG15_BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { cwd: dir, encoding: 'utf8', ...(owner ?? {}) },
  );
  if (init.status !== 0) throw new Error(`initdb (PG 15) failed: ${init.stderr || init.error?.message}`);
  const port = await freePort();
  const logFile = join(dir, 'server.log');
  const logFd = openSync(logFile, 'a');
  if (owner) chownSync(logFile, owner.uid, owner.gid);
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    wal_level: 'logical',
    max_wal_senders: '40',
    max_replication_slots: '40',
    max_connections: '100',
  };
  const server = spawn(
    join(PG15_BIN, 'postgres'),
    ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    { cwd: dir, stdio: ['ignore', logFd, logFd], ...(owner ?? {}) },
  );
  closeSync(logFd);
  let exited = false;
  const exit = new Promise<void>((resolve) => server.once('exit', () => ((exited = true), resolve())));
  const stop = async () => {
    if (exited) return;
    server.kill('SIGINT'); // fast shutdown
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 15_000).unref());
    if (await Promise.race([exit.then(() => true), timeout])) return;
    server.kill('SIGQUIT');
    await exit;
  };
  cleanups.push(stop);
  const config = (db: string): pg.ClientConfig => ({ host: '127.0.0.1', port, user: 'postgres', database: db });
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`PostgreSQL 15 exited during start; see ${logFile}`);
    const c = new pg.Client(config('postgres'));
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      await c.end().catch(() => {});
      if (i > 300) throw new Error(`PostgreSQL 15 did not start within 30 s; see ${logFile}`);
      await sleep(100);
    }
  }
  return { port, pid: server.pid!, url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}`, config, stop };
}

// ---------------------------------------------------------------------------------------------------------------
// The backlog.

/** Writes TXS transactions of INS inserts, UPD updates and DEL deletes each; 50 transactions per round trip. */
async function writeBacklog(c: pg.Client): Promise<number> {
  const t0 = performance.now();
  const perQuery = 50;
  for (let t = 0; t < TXS; t += perQuery) {
    let sql = '';
    for (let k = t; k < Math.min(t + perQuery, TXS); k++) {
      const ins = SEED + k * INS + 1;
      const upd = k * UPD + 1;
      const del = TXS * UPD + k * DEL + 1;
      sql += `begin;
        insert into bench_drain ${ROWS(String(ins), String(ins + INS - 1))};
        update bench_drain set name = name || '+', amount = amount + 1, updated_at = now(), qty = qty + 1
          where id between ${upd} and ${upd + UPD - 1};
        delete from bench_drain where id between ${del} and ${del + DEL - 1};
        commit;\n`;
    }
    await c.query(sql);
  }
  return performance.now() - t0;
}

// ---------------------------------------------------------------------------------------------------------------
// The readers.

/** (a) pg_recvlogical to /dev/null until `endpos`. */
async function drainRecvlogical(provider: Pg15, slot: string, endpos: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(
    join(PG15_BIN, 'pg_recvlogical'),
    [
      '--start',
      '-S',
      slot,
      '-d',
      'bench',
      '-h',
      '127.0.0.1',
      '-p',
      String(provider.port),
      '-U',
      'postgres',
      '-w',
      '-f',
      '/dev/null',
      '-o',
      'proto_version=1',
      '-o',
      'publication_names=bench_pub',
      '--no-loop',
      '-E',
      endpos,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`pg_recvlogical exited with ${code}: ${stderr.trim()}`);
  return ms;
}

/**
 * (b) The minimal batched reader: ReplicationStream, consumer counting Insert/Update/Delete frames. Done at the first
 * Commit after all changes; returns the time, the change count, and that commit's WAL position (= its end LSN).
 */
async function drainFrames(provider: Pg15, slot: string) {
  const t0 = performance.now();
  let changes = 0;
  let lastCommit = 0;
  let finish: () => void = () => {};
  let fail: (e: Error) => void = () => {};
  const done = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const stream = await ReplicationStream.open(
    provider.config('bench'),
    {
      slot,
      startLsn: '0/0',
      pluginOptions: { proto_version: '2', publication_names: 'bench_pub', streaming: 'on', messages: 'true' },
    },
    (chunk) => {
      const { buf, frames } = chunk;
      for (let i = 0; i < frames.length; i += 3) {
        const tag = buf[frames[i]!];
        if (tag === 0x49 /* I */ || tag === 0x55 /* U */ || tag === 0x44 /* D */) changes++;
        else if (tag === 0x43 /* C */ && changes >= TOTAL) {
          lastCommit = readLsn(buf, frames[i]! + 10); // end LSN; equals the frame's walStart
          finish();
        }
      }
      if (chunk.replyRequested) stream.sendStatus(lastCommit);
    },
    (e) => (e ? fail(e) : undefined),
  );
  const timer = setTimeout(() => fail(new Error(`frames reader: ${changes}/${TOTAL} changes after 180 s`)), 180_000);
  try {
    await done;
  } finally {
    clearTimeout(timer);
  }
  const ms = performance.now() - t0;
  stream.sendStatus(lastCommit);
  await stream.close();
  return { ms, changes, lastCommit };
}

/** (c) and (c'): the connector, in-process. Returns its drain time and checks the event mix. */
async function drainConnector(run: ConnectorRun, state: pg.Client | null) {
  const log = createLogger({ level: process.env.SLUICE_LOG_LEVEL ?? 'warn', bindings: { bench: run.sourceId } });
  const before = cpuNow();
  const r = await drainWithConnector(run, log);
  const cpu = await cpuSince(before);
  checkMix(run.sourceId, r.appended, r.ops);
  if (state) {
    const { rows } = await state.query<{ op: string; n: string }>(
      `select event->>'op' as op, count(*) as n from sluice_bus_events group by 1`,
    );
    checkMix(
      `${run.sourceId} (stored)`,
      rows.reduce((s, x) => s + Number(x.n), 0),
      Object.fromEntries(rows.map((x) => [x.op, Number(x.n)])),
    );
  }
  return { ms: r.doneAt - r.startedAt, startMs: r.readyAt - r.startedAt, cpu };
}

type ReaderKey = 'a' | 'b' | 'n' | 'c';
type Run = Record<ReaderKey, { ms: number; cpu: Cpu }> & { connectorStartMs: number; allConfirmed: boolean };

function readPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Drops a slot once its walsender has gone (it lingers for a moment after the client disconnects). */
async function dropSlot(c: pg.Client, slot: string): Promise<void> {
  for (let i = 0; ; i++) {
    const { rows } = await c.query<{ active: boolean }>(
      'select active from pg_replication_slots where slot_name = $1',
      [slot],
    );
    if (rows.length === 0) return;
    if (!rows[0]!.active || i > 100) {
      await c.query('select pg_drop_replication_slot($1)', [slot]);
      return;
    }
    await sleep(50);
  }
}

function checkMix(who: string, total: number, ops: Record<string, number>): void {
  const want = { c: TXS * INS, u: TXS * UPD, d: TXS * DEL };
  if (total !== TOTAL || ops.c !== want.c || ops.u !== want.u || ops.d !== want.d) {
    throw new Error(`${who}: expected ${TOTAL} events ${JSON.stringify(want)}, got ${total} ${JSON.stringify(ops)}`);
  }
}

/** The 1M-row transaction: the connector in a child process; commit → all durable, and the child's VmHWM. */
async function bigTransaction(provider: Pg15, providerClient: pg.Client, stateServer: TestPostgres, run: number) {
  const { client: state, url: stateUrl } = await stateServer.database(`big_${run}`);
  await migrate(state);
  const spoolDir = mkdtempSync(join(tmpdir(), 'sluice-bench-spool-'));
  cleanups.push(async () => rmSync(spoolDir, { recursive: true, force: true }));
  const cfg: ConnectorRun = {
    providerUrl: provider.url('bench'),
    stateUrl,
    sourceId: `bench-big-${run}`,
    table: 'public.bench_big',
    key: ['id'],
    columns: COLUMNS,
    expected: BIG_ROWS,
    targetLsn: 0,
    spoolDir,
    timeoutMs: 300_000,
  };
  const child: ChildProcess = fork(join(HERE, 'pg-drain-connector.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DRAIN_CHILD: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  cleanups.push(kill);
  type Msg =
    | { type: 'ready' }
    | { type: 'result'; result: ConnectorResult; vmHwmKb: number; cpuSeconds: number }
    | { type: 'error'; message: string };
  const messages: Msg[] = [];
  let wake: () => void = () => {};
  child.on('message', (m: Msg) => (messages.push(m), wake()));
  child.once('exit', () => wake());
  const next = async (): Promise<Msg> => {
    while (messages.length === 0) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('connector child exited early');
      await new Promise<void>((r) => (wake = r));
    }
    const m = messages.shift()!;
    if (m.type === 'error') throw new Error(`connector child: ${m.message}`);
    return m;
  };
  await next(); // ready: the slot exists
  const before = cpuNow();
  const t0 = now();
  await providerClient.query(`insert into bench_big ${ROWS('1', String(BIG_ROWS))}`);
  const committedAt = now();
  const m = await next();
  if (m.type !== 'result') throw new Error(`unexpected message ${m.type}`);
  await exited;
  const cpu = await cpuSince(before);
  const { rows } = await state.query<{ n: string }>('select count(*) as n from sluice_bus_events');
  if (Number(rows[0]!.n) !== BIG_ROWS || m.result.appended !== BIG_ROWS) {
    throw new Error(`1M transaction: bus holds ${rows[0]!.n} events, appended ${m.result.appended}, want ${BIG_ROWS}`);
  }
  await dropSlot(providerClient, `sluice_bench_big_${run}`);
  await providerClient.query('truncate bench_big');
  return {
    insertMs: committedAt - t0,
    commitToDurableMs: m.result.doneAt - committedAt,
    commitToFirstAppendMs: (m.result.firstAppendAt ?? m.result.doneAt) - committedAt,
    peakRssMb: m.vmHwmKb / 1024,
    cpuSeconds: { connector: m.cpuSeconds, provider: cpu.provider, stateDb: cpu.state },
  };
}

// ---------------------------------------------------------------------------------------------------------------

export async function benchPgDrain() {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const provider = await startPg15();
    const stateServer = await startPostgres('sluice-bench-state-');
    cleanups.push(() => stateServer.stop());
    const admin = new pg.Client(provider.config('postgres'));
    await admin.connect();
    await admin.query('create database bench');
    await admin.end();
    const p = new pg.Client(provider.config('bench'));
    await p.connect();
    cleanups.push(() => p.end());
    const { rows: ver } = await p.query<{ v: string }>("select current_setting('server_version') as v");

    // table and seed rows before any slot; publications before the slots (pgoutput reads them as of the WAL)
    await p.query(DDL('bench_drain'));
    await p.query(DDL('bench_big'));
    await p.query(`insert into bench_drain ${ROWS('1', String(SEED))}`);
    await p.query('create publication bench_pub for table bench_drain');
    const slots: { a: string; b: string; c: string; n: string }[] = [];
    for (let r = 0; r < RUNS; r++) {
      const s = { a: `drain_a_${r}`, b: `drain_b_${r}`, c: `bench-c-${r}`, n: `bench-n-${r}` };
      for (const id of [s.c, s.n])
        await p.query(`create publication sluice_${id.replaceAll('-', '_')} for table bench_drain`);
      for (const slot of [s.a, s.b, ...[s.c, s.n].map((id) => `sluice_${id.replaceAll('-', '_')}`)]) {
        await p.query(`select pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
      }
      slots.push(s);
    }
    await p.query('checkpoint');
    process.stderr.write(`pg-drain: writing ${fmtInt(TOTAL)} changes in ${fmtInt(TXS)} transactions … `);
    const writeMs = await writeBacklog(p);
    const { rows: wal } = await p.query<{ lsn: string; bytes: string }>(
      `select pg_current_wal_lsn()::text as lsn,
              pg_wal_lsn_diff(pg_current_wal_lsn(), (select min(restart_lsn) from pg_replication_slots))::bigint::text as bytes`,
    );
    process.stderr.write(`${(writeMs / 1000).toFixed(1)} s, ${(Number(wal[0]!.bytes) / 2 ** 20).toFixed(0)} MB WAL\n`);

    cpuPids = { provider: provider.pid, state: readPid(stateServer.cluster.dataDir) };
    const runs: Run[] = [];
    let lastCommit = 0;
    for (let r = 0; r < RUNS; r++) {
      const s = slots[r]!;
      let before = cpuNow();
      const b = await drainFrames(provider, s.b);
      const bCpu = await cpuSince(before);
      if (b.changes !== TOTAL) throw new Error(`frames reader counted ${b.changes} changes, want ${TOTAL}`);
      if (lastCommit && b.lastCommit !== lastCommit) throw new Error('frames reader: last commit differs between runs');
      lastCommit = b.lastCommit;
      before = cpuNow();
      const a = await drainRecvlogical(provider, s.a, numberToLsn(lastCommit));
      const aCpu = await cpuSince(before);
      const spoolDir = mkdtempSync(join(tmpdir(), 'sluice-bench-spool-'));
      cleanups.push(async () => rmSync(spoolDir, { recursive: true, force: true }));
      const common = {
        providerUrl: provider.url('bench'),
        table: 'public.bench_drain',
        key: ['id'],
        columns: COLUMNS,
        expected: TOTAL,
        targetLsn: lastCommit,
        spoolDir,
        timeoutMs: 180_000,
      };
      const n = await drainConnector({ ...common, stateUrl: null, sourceId: s.n }, null);
      const { client: state, url: stateUrl } = await stateServer.database(`drain_c_${r}`);
      await migrate(state);
      const c = await drainConnector({ ...common, stateUrl, sourceId: s.c }, state);
      const { rows: confirmed } = await p.query<{ slot: string; lsn: string }>(
        'select slot_name as slot, confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = any($1)',
        [[s.a, s.b, ...[s.c, s.n].map((id) => `sluice_${id.replaceAll('-', '_')}`)]],
      );
      for (const row of confirmed) await dropSlot(p, row.slot);
      runs.push({
        a: { ms: a, cpu: aCpu },
        b: { ms: b.ms, cpu: bCpu },
        n: { ms: n.ms, cpu: n.cpu },
        c: { ms: c.ms, cpu: c.cpu },
        connectorStartMs: c.startMs,
        // every reader's slot ended confirmed at (or past) the last backlog commit
        allConfirmed: confirmed.length === 4 && confirmed.every((x) => lsnToNumber(x.lsn) >= lastCommit),
      });
      process.stderr.write(
        `pg-drain: run ${r + 1}/${RUNS}: (a) ${(a / 1000).toFixed(2)} s, (b) ${(b.ms / 1000).toFixed(2)} s, ` +
          `(c') ${(n.ms / 1000).toFixed(2)} s, (c) ${(c.ms / 1000).toFixed(2)} s\n`,
      );
    }

    const big: Awaited<ReturnType<typeof bigTransaction>>[] = [];
    for (let r = 0; r < BIG_RUNS; r++) {
      big.push(await bigTransaction(provider, p, stateServer, r));
      const x = big[big.length - 1]!;
      process.stderr.write(
        `pg-drain: ${fmtInt(BIG_ROWS)}-row transaction ${r + 1}/${BIG_RUNS}: insert ${(x.insertMs / 1000).toFixed(2)} s, ` +
          `commit → durable ${(x.commitToDurableMs / 1000).toFixed(2)} s, peak RSS ${x.peakRssMb.toFixed(0)} MB\n`,
      );
    }

    const reader = (name: string, k: ReaderKey) => {
      const ms = median(runs.map((x) => x[k].ms));
      const cpu = (f: keyof Cpu) => median(runs.map((x) => x[k].cpu[f]));
      return {
        reader: name,
        seconds: ms / 1000,
        changesPerSec: TOTAL / (ms / 1000),
        vsFrames: median(runs.map((x) => x.b.ms)) / ms,
        cpuSeconds: { client: cpu('client'), provider: cpu('provider'), stateDb: cpu('state') },
      };
    };
    const readers = {
      a: reader('(a) pg_recvlogical → /dev/null', 'a'),
      b: reader('(b) ReplicationStream, frames only', 'b'),
      n: reader("(c') PostgresSource → null bus", 'n'),
      c: reader('(c) PostgresSource → PostgresBus', 'c'),
    };
    const result = {
      benchmark: 'pg-drain',
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg() },
      provider: `PostgreSQL ${ver[0]!.v}`,
      backlog: {
        changes: TOTAL,
        transactions: TXS,
        perTransaction: { insert: INS, update: UPD, delete: DEL },
        writeSeconds: writeMs / 1000,
        walMb: Number(wal[0]!.bytes) / 2 ** 20,
        lastCommitLsn: numberToLsn(lastCommit),
      },
      runs: RUNS,
      median: Object.values(readers),
      ratioCtoB: readers.c.vsFrames,
      ratioCnullToB: readers.n.vsFrames,
      runsRaw: runs,
      bigTransaction:
        big.length === 0
          ? null
          : {
              rows: BIG_ROWS,
              runs: BIG_RUNS,
              medianCommitToDurableSeconds: median(big.map((x) => x.commitToDurableMs)) / 1000,
              medianInsertSeconds: median(big.map((x) => x.insertMs)) / 1000,
              medianCommitToFirstAppendSeconds: median(big.map((x) => x.commitToFirstAppendMs)) / 1000,
              maxPeakRssMb: Math.max(...big.map((x) => x.peakRssMb)),
              rssBoundMb: RSS_BOUND_MB,
              bounded: big.every((x) => x.peakRssMb < RSS_BOUND_MB),
              runsRaw: big,
            },
    };
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    if (interrupted) await interrupted; // the signal handler cleans up and exits
    await cleanupAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function printPgDrain(r: Awaited<ReturnType<typeof benchPgDrain>>): void {
  const b = r.backlog;
  console.log(
    `\nlogical drain, ${fmtInt(b.changes)} changes (${b.perTransaction.insert}/${b.perTransaction.update}/${b.perTransaction.delete} ` +
      `insert/update/delete per transaction, ${fmtInt(b.transactions)} transactions, ${b.walMb.toFixed(0)} MB WAL), ` +
      `${r.provider} provider, median of ${r.runs} run(s):`,
  );
  const cols = ['seconds', 'changes/s', 'vs (b)', 'CPU s: client', 'provider', 'state DB'];
  console.log(`  ${'reader'.padEnd(36)} ${cols.map((c) => c.padStart(c.length > 9 ? c.length : 9)).join(' ')}`);
  for (const x of r.median) {
    const cells = [
      x.seconds.toFixed(2),
      fmtInt(x.changesPerSec),
      x.vsFrames.toFixed(2),
      x.cpuSeconds.client.toFixed(1),
      x.cpuSeconds.provider.toFixed(1),
      x.cpuSeconds.stateDb.toFixed(1),
    ];
    console.log(`  ${x.reader.padEnd(36)} ${cells.map((c, i) => c.padStart(Math.max(9, cols[i]!.length))).join(' ')}`);
  }
  console.log(
    '  (CPU: this process or pg_recvlogical; provider = its walsender and other exited backends; state DB = bus backends)',
  );
  console.log(
    `  ratio (c)/(b) = ${r.ratioCtoB.toFixed(2)} (aim ≥ 0.6); (c')/(b) = ${r.ratioCnullToB.toFixed(2)}; ` +
      `backlog written in ${b.writeSeconds.toFixed(1)} s (${fmtInt(b.changes / b.writeSeconds)} changes/s)`,
  );
  const t = r.bigTransaction;
  if (t)
    console.log(
      `  ${fmtInt(t.rows)}-row transaction (streaming on): commit → all durable in the bus ${t.medianCommitToDurableSeconds.toFixed(2)} s ` +
        `(median of ${t.runs}; insert ${t.medianInsertSeconds.toFixed(2)} s), connector peak RSS ${t.maxPeakRssMb.toFixed(0)} MB ` +
        `(max; ${t.bounded ? 'bounded' : 'NOT bounded'}, < ${t.rssBoundMb} MB); ` +
        `first event in the bus ${t.medianCommitToFirstAppendSeconds.toFixed(2)} s after the commit; CPU s (last run): ` +
        `connector ${t.runsRaw.at(-1)!.cpuSeconds.connector.toFixed(1)}, provider ${t.runsRaw.at(-1)!.cpuSeconds.provider.toFixed(1)}, ` +
        `state DB ${t.runsRaw.at(-1)!.cpuSeconds.stateDb.toFixed(1)}`,
    );
  console.log(`  results: ${RESULTS}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printPgDrain(await benchPgDrain());
}

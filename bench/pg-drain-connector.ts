/**
 * The connector side of bench/pg-drain.ts: PostgresSource → pumpSource → PostgresBus (or a null bus), timed until a
 * given number of events is durable and confirmed. Used in-process for the backlog drain, and as a child process
 * (this file as the entry point) for the 1M-row transaction, so that its peak RSS (VmHWM) is the connector's own.
 *
 * Child protocol (fork with `--import tsx`, IPC): env DRAIN_CHILD = JSON of ConnectorRun; the child sends
 * `{ type: 'ready' }` once the source started (its slot exists), then `{ type: 'result', result, vmHwmKb, cpuSeconds }` or
 * `{ type: 'error', message }` and exits.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { PostgresBus } from '../connectors/bus/postgres/postgres-bus.ts';
import { PostgresSource } from '../connectors/sources/postgres/postgres-source.ts';
import { lsnToNumber } from '../connectors/sources/postgres/replication-stream.ts';
import { PostgresStateStore } from '../connectors/state/postgres/postgres-state-store.ts';
import type { AppendResult, Bus, Logger, ResourceShape } from '../engine/ports/index.ts';
import { pumpSource } from '../engine/runtime/pump.ts';
import { createLogger } from '../ops/log/logger.ts';
import type { ChangeEvent, SourceEvent } from '../schemas/index.ts';

export interface ConnectorRun {
  providerUrl: string;
  /** State database (already migrated) for the Postgres bus; null = a null bus that only counts. */
  stateUrl: string | null;
  /** Source id: slot and publication are `sluice_<id with - as _>`. */
  sourceId: string;
  table: string;
  key: string[];
  columns: string[];
  /** Done once this many events are durable in the bus … */
  expected: number;
  /** … and a checkpoint at or past this WAL position was confirmed (0: any checkpoint). */
  targetLsn: number;
  spoolDir: string;
  timeoutMs: number;
}

/** Absolute timestamps in ms (performance.timeOrigin based: comparable across processes, sub-ms resolution). */
export interface ConnectorResult {
  startedAt: number;
  readyAt: number;
  firstAppendAt: number | null;
  doneAt: number;
  appended: number;
  ops: Record<string, number>;
  confirmed: string | null;
}

export const now = () => performance.timeOrigin + performance.now();

class NullBus implements Bus {
  async append(_source: string, events: SourceEvent[]): Promise<AppendResult> {
    return { appended: events.length, heads: {} };
  }
  async sourcePosition(): Promise<string | null> {
    return null;
  }
  async sourceCheckpoint(): Promise<string | null> {
    return null;
  }
  async head(): Promise<bigint> {
    return 0n;
  }
  async *read(): AsyncIterable<ChangeEvent[]> {
    return;
  }
  async trim(): Promise<{ trimmed: bigint; events: number }> {
    return { trimmed: 0n, events: 0 };
  }
  async trimmed(): Promise<bigint> {
    return 0n;
  }
  async close(): Promise<void> {}
}

/** Starts the connector, calls `onReady` once its slot exists, and resolves when `expected` events are durable. */
export async function drainWithConnector(
  run: ConnectorRun,
  log: Logger,
  onReady: () => void | Promise<void> = () => {},
): Promise<ConnectorResult> {
  const startedAt = now();
  const pool = run.stateUrl ? new pg.Pool({ connectionString: run.stateUrl, max: 10 }) : null;
  pool?.on('error', () => {});
  const inner: Bus = pool ? new PostgresBus(pool) : new NullBus();
  const state = pool ? new PostgresStateStore(pool) : null;
  let appended = 0;
  let firstAppendAt: number | null = null;
  const ops: Record<string, number> = {};
  let done: (t: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (done = resolve));

  const bus: Bus = {
    async append(source, events, opts) {
      const r = await inner.append(source, events, opts);
      if (r.appended > 0) firstAppendAt ??= now();
      appended += r.appended;
      for (const e of events) ops[e.op] = (ops[e.op] ?? 0) + 1;
      return r;
    },
    sourcePosition: (s) => inner.sourcePosition(s),
    sourceCheckpoint: (s) => inner.sourceCheckpoint(s),
    head: (r) => inner.head(r),
    read: (r, a, b, o) => inner.read(r, a, b, o),
    trim: (r, o) => inner.trim(r, o),
    trimmed: (r) => inner.trimmed(r),
    close: () => inner.close(),
  };

  class ObservedSource extends PostgresSource {
    override async commit(checkpoint: string): Promise<void> {
      await super.commit(checkpoint);
      if (appended >= run.expected && checkpoint && lsnToNumber(checkpoint) >= run.targetLsn) done(now());
    }
  }
  const source = new ObservedSource({
    id: run.sourceId,
    url: run.providerUrl,
    resources: [{ id: 'drain', table: run.table, key: run.key, columns: run.columns }],
    logger: log,
    spoolDir: run.spoolDir,
  });
  const register = async (shapes: ResourceShape[]) => {
    const versions: number[] = [];
    for (const { layout: _, ...shape } of shapes) versions.push(state ? await state.registerSchema(shape) : 0);
    return versions;
  };

  const abort = new AbortController();
  let pump: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  try {
    const first = await new Promise<unknown>((onFirstAttempt) => {
      pump = pumpSource(source, bus, log, abort.signal, { register, onFirstAttempt });
    });
    if (first) throw first;
    const readyAt = now();
    await onReady();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const s = source.status();
        reject(
          new Error(
            `connector did not finish within ${run.timeoutMs} ms: ${appended}/${run.expected} events appended, ` +
              `source ${s.state}, confirmed ${s.confirmed}, received ${s.received}${s.error ? `, error: ${s.error}` : ''}`,
          ),
        );
      }, run.timeoutMs);
    });
    const doneAt = await Promise.race([finished, timeout]);
    return { startedAt, readyAt, firstAppendAt, doneAt, appended, ops, confirmed: source.status().confirmed };
  } finally {
    clearTimeout(timer);
    abort.abort();
    await pump;
    await source.close();
    await pool?.end();
  }
}

function vmHwmKb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

if (import.meta.url === `file://${process.argv[1]}` && process.send) {
  const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  const run = JSON.parse(process.env.DRAIN_CHILD ?? '{}') as ConnectorRun;
  const log = createLogger({ level: process.env.SLUICE_LOG_LEVEL ?? 'warn', bindings: { bench: 'pg-drain-child' } });
  try {
    const result = await drainWithConnector(run, log, () => send({ type: 'ready' }));
    const cpu = process.cpuUsage();
    await send({ type: 'result', result, vmHwmKb: vmHwmKb(), cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  } catch (e) {
    await send({ type: 'error', message: (e as Error).stack ?? String(e) });
  }
  process.disconnect();
}

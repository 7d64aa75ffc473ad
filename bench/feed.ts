/**
 * Benchmark: live feeds (issue 7) on real components — embedded PostgreSQL (provider and state DB), a pgoutput slot,
 * the Postgres bus, the engine as its own process (`sluice run`, so its CPU is its own), a `nats-server` with
 * JetStream, and an HTTP receiver that verifies every Standard Webhooks signature.
 *
 * 1. Latency from commit to receipt at fixed rates (default 1k and 5k changes/s), measured Sequin's way: receipt time
 *    − the row's `updated_at` (here `paid_at`, set by `clock_timestamp()` in the inserting statement, which commits
 *    at once). The load is inserts of rate/100 rows every 10 ms, each its own transaction; p50/p99/max over every
 *    event of a run.
 * 2. The maximum sustained rate and where it saturates: the feed paused, a backlog of N changes is committed (the
 *    time it takes to reach the bus is the CDC ingest rate); the feed resumed, the time for all of it to be received
 *    is the feed's publish rate. References in the same run: a plain JetStream client publishing the same bodies
 *    pipelined, and a plain client POSTing the same signed batches one at a time, to the same receivers. CPU per
 *    process (engine, PostgreSQL, nats-server, this process) shows which one is the bottleneck.
 *
 *   npm run bench -- feed
 *   BENCH_FEED_RATES=1000,5000,10000 BENCH_FEED_SECONDS=10 BENCH_FEED_BACKLOG=100000 BENCH_RUNS=3 npm run bench -- feed
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { stringify } from 'yaml';
import type { Config, SubscriptionConfig } from '../schemas/index.ts';
import { RELIEF_DDL, reliefConfig } from '../test/helpers/config.ts';
import { engineReady, exitWithin, spawnSluice, type EngineProcess } from '../test/helpers/engine-process.ts';
import { startNats, type TestNats } from '../test/helpers/nats.ts';
import { startPostgres, waitFor, type TestPostgres } from '../test/helpers/postgres.ts';
import { startReceiver, type ReceivedEvent, type Receiver } from '../test/helpers/webhook-receiver.ts';

const RATES = (process.env.BENCH_FEED_RATES ?? '1000,5000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_FEED_SECONDS ?? 10);
const BACKLOG = Number(process.env.BENCH_FEED_BACKLOG ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const TICK_MS = 10;
const SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
const FIELDS = ['id', 'name', 'amount', 'paid_at'];

type Transport = 'nats' | 'webhook';

export interface RateResult {
  transport: Transport;
  targetRate: number;
  offeredRate: number;
  events: number;
  p50: number;
  p99: number;
  max: number;
  engineCores: number;
}

export interface DrainResult {
  transport: Transport;
  events: number;
  /** CDC ingest: backlog committed → all on the bus (feed paused). */
  ingestRate: number;
  /** Feed: resumed → all received. */
  feedRate: number;
  /** The plain client's rate for the same messages (same receiver). */
  referenceRate: number;
  /** Cores used while the feed drained, per process. */
  cores: Record<string, number>;
  engineRssMb: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const median = (xs: number[]) => pct(xs, 50);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) of the processes whose command is `comm` (all of them), or of one pid. */
function cpuSeconds(what: { comm: string } | { pid: number }): number {
  const pids =
    'pid' in what
      ? [what.pid]
      : readdirSync('/proc')
          .filter((d) => /^\d+$/.test(d))
          .map(Number)
          .filter((pid) => {
            try {
              return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === what.comm;
            } catch {
              return false;
            }
          });
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]); // utime, stime (fields 14 and 15)
    } catch {
      // the process ended
    }
  }
  return ticks / 100;
}

/** CPU of the engine, PostgreSQL, nats-server and this process since `start()`, as cores over the wall time. */
function cpuMeter(enginePid: number) {
  const read = () => ({
    engine: cpuSeconds({ pid: enginePid }),
    postgres: cpuSeconds({ comm: 'postgres' }),
    'nats-server': cpuSeconds({ comm: 'nats-server' }),
    'bench (load + receivers)': process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  });
  const t0 = performance.now();
  const c0 = read();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const c = read();
    return Object.fromEntries(
      Object.entries(c).map(([k, v]) => [k, Number(((v - c0[k as keyof typeof c0]) / wall).toFixed(2))]),
    );
  };
}

const vmHwmMb = (pid: number) =>
  Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** Receipt latencies by row id (first receipt only): the receivers call `receive` for every event they get. */
class Latencies {
  private readonly at = new Map<number, number>();
  receive(e: ReceivedEvent): void {
    const id = Number((e.data.key as { id: string }).id);
    if (this.at.has(id) || !e.data.after) return;
    this.at.set(id, Date.now() - Date.parse(String(e.data.after.paid_at)));
  }
  count(from: number, to: number): number {
    let n = 0;
    for (let id = from; id <= to; id++) if (this.at.has(id)) n++;
    return n;
  }
  of(from: number, to: number): number[] {
    const out: number[] = [];
    for (let id = from; id <= to; id++) {
      const v = this.at.get(id);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
}

/** One transport's engine on its own provider and state databases, its receiver, and a load generator. */
async function transportSetup(server: TestPostgres, transport: Transport, nats: TestNats, receiver: Receiver) {
  const name = `feedbench_${transport}`;
  const { client: provider, url: providerUrl } = await server.database(`${name}_provider`);
  await provider.query(RELIEF_DDL);
  const { client: state, url: stateUrl } = await server.database(`${name}_state`);
  const work = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  const cfg: Config = reliefConfig({
    dataDir: join(work, 'data'),
    providerUrl,
    stateUrl,
    outDir: join(work, 'out'),
  });
  cfg.providers[0]!.id = `feedbench-${transport}`;
  for (const r of cfg.resources) r.provider = cfg.providers[0]!.id;
  const sub: SubscriptionConfig = {
    ...cfg.subscriptions[0]!,
    id: `feed-${transport}`,
    fields: FIELDS,
    masks: {},
    delivery:
      transport === 'nats'
        ? { mode: 'feed', nats: { url: nats.url, maxAge: '1h' } }
        : { mode: 'feed', webhook: { url: receiver.url, secret: SECRET } },
  };
  cfg.subscriptions = [sub];
  const configFile = join(work, 'sluice.yaml');
  writeFileSync(configFile, stringify(cfg));
  const engine = spawnSluice(['run', '-c', configFile]);
  const apiUrl = await engineReady(engine, cfg.dataDir!);
  let nextId = 1;
  const insert = async (n: number) => {
    const first = nextId;
    nextId += n;
    await provider.query(
      `insert into relief_recipients (id, name, amount, paid_at)
       select g, 'name ' || g, g * 1.25, clock_timestamp() from generate_series($1::bigint, $2::bigint) g`,
      [first, first + n - 1],
    );
    return { first, last: first + n - 1 };
  };
  return { provider, state, engine, apiUrl, work, sub: sub.id, insert, next: () => nextId };
}

async function busHead(state: pg.Client): Promise<number> {
  const { rows } = await state.query<{ seq: string }>(
    "select seq from sluice_bus_heads where resource = 'relief-recipients'",
  );
  return Number(rows[0]?.seq ?? 0);
}

async function post(apiUrl: string, path: string): Promise<void> {
  const res = await fetch(`${apiUrl}${path}`, { method: 'POST' });
  if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status} ${await res.text()}`);
}

/** Consumes a subject with an ordered consumer from the stream's start, handing every event to `receive`. */
async function natsReceiver(url: string, subject: string, receive: (e: ReceivedEvent) => void) {
  const nc = await connect({ servers: url });
  const js = jetstream(nc);
  await waitFor('the feed stream', async () =>
    (await jetstreamManager(nc)).streams.info('SLUICE_FEED').catch(() => null),
  );
  const consumer = await js.consumers.get('SLUICE_FEED', { filter_subjects: subject });
  const messages = await consumer.consume({ max_messages: 2000 });
  const done = (async () => {
    for await (const m of messages) receive(m.json<ReceivedEvent>());
  })();
  return {
    close: async () => {
      await messages.close();
      await done;
      await nc.close();
    },
  };
}

/** Inserts at `rate` rows/s for `seconds` (rate/100 rows every 10 ms, catching up on late ticks). */
async function load(insert: (n: number) => Promise<{ first: number; last: number }>, rate: number, seconds: number) {
  const t0 = performance.now();
  let sent = 0;
  let first = 0;
  let last = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate) - sent;
    if (due > 0) {
      const r = await insert(due);
      if (first === 0) first = r.first;
      last = r.last;
      sent += due;
    }
    await sleep(TICK_MS);
  }
  return { first, last, offeredRate: sent / ((performance.now() - t0) / 1000) };
}

/** A plain JetStream client publishing `bodies` pipelined (1,000 outstanding acks), with message ids. */
async function rawNatsRate(nc: NatsConnection, bodies: string[]): Promise<number> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['bench.raw'] });
  const js = jetstream(nc);
  const t0 = performance.now();
  for (let i = 0; i < bodies.length; i += 1000) {
    await Promise.all(bodies.slice(i, i + 1000).map((b, j) => js.publish('bench.raw', b, { msgID: `raw:${i + j}` })));
  }
  const rate = bodies.length / ((performance.now() - t0) / 1000);
  await jsm.streams.delete('BENCH_RAW');
  return rate;
}

/** A plain client POSTing the bodies as signed `application/cloudevents-batch+json` batches of 100, one at a time. */
async function rawWebhookRate(url: string, bodies: string[]): Promise<number> {
  const wh = new Webhook(SECRET);
  const t0 = performance.now();
  for (let i = 0; i < bodies.length; i += 100) {
    const payload = `[${bodies.slice(i, i + 100).join(',')}]`;
    const id = `raw-${i}`;
    const at = new Date();
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents-batch+json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': wh.sign(id, at, payload),
      },
      body: payload,
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`raw POST: HTTP ${res.status}`);
  }
  return bodies.length / ((performance.now() - t0) / 1000);
}

async function benchTransport(server: TestPostgres, transport: Transport, nats: TestNats) {
  const lat = new Latencies();
  const bodies: string[] = [];
  const keep = (e: ReceivedEvent) => {
    if (bodies.length < BACKLOG) bodies.push(JSON.stringify(e));
  };
  const receiver = await startReceiver(SECRET, (events) => {
    for (const e of events) lat.receive(e);
    if (transport === 'webhook') events.forEach(keep);
    return 'ok';
  });
  const x = await transportSetup(server, transport, nats, receiver);
  let nr: { close: () => Promise<void> } | undefined;
  const rates: RateResult[] = [];
  const drains: DrainResult[] = [];
  try {
    const warm = await x.insert(1000);
    if (transport === 'nats') {
      nr = await natsReceiver(nats.url, `sluice.feed.audit-office.${x.sub}`, (e) => {
        lat.receive(e);
        keep(e);
      });
    }
    await waitFor('the warm-up received', async () => lat.count(warm.first, warm.last) === 1000, 60_000);
    for (let run = 0; run < RUNS; run++) {
      for (const rate of RATES) {
        const cpu = cpuMeter(x.engine.child.pid!);
        const r = await load(x.insert, rate, SECONDS);
        const n = r.last - r.first + 1;
        await waitFor(`${n} events received at ${rate}/s`, async () => lat.count(r.first, r.last) === n, 120_000, 20);
        const engineCores = cpu().engine!;
        const l = lat.of(r.first, r.last);
        rates.push({
          transport,
          targetRate: rate,
          offeredRate: Math.round(r.offeredRate),
          events: n,
          p50: pct(l, 50),
          p99: pct(l, 99),
          max: Math.max(...l),
          engineCores,
        });
        await sleep(500);
      }
      // maximum sustained rate: a backlog committed while the feed is paused, then drained
      await post(x.apiUrl, `/v1/subscriptions/${x.sub}/pause`);
      const base = await busHead(x.state);
      const i0 = performance.now();
      const first = x.next();
      for (let i = 0; i < BACKLOG; i += 10_000) await x.insert(Math.min(10_000, BACKLOG - i));
      await waitFor('the backlog on the bus', async () => (await busHead(x.state)) >= base + BACKLOG, 600_000, 20);
      const ingestRate = BACKLOG / ((performance.now() - i0) / 1000);
      const cpu = cpuMeter(x.engine.child.pid!);
      const d0 = performance.now();
      await post(x.apiUrl, `/v1/subscriptions/${x.sub}/resume`);
      await waitFor('the backlog received', async () => lat.count(first, first + BACKLOG - 1) === BACKLOG, 600_000, 20);
      const feedRate = BACKLOG / ((performance.now() - d0) / 1000);
      const cores = cpu();
      const sample = bodies.slice(0, BACKLOG);
      while (sample.length < BACKLOG) sample.push(sample[sample.length % bodies.length]!);
      let referenceRate: number;
      if (transport === 'nats') {
        const nc = await connect({ servers: nats.url });
        referenceRate = await rawNatsRate(nc, sample);
        await nc.close();
      } else {
        referenceRate = await rawWebhookRate(receiver.url, sample);
      }
      drains.push({
        transport,
        events: BACKLOG,
        ingestRate: Math.round(ingestRate),
        feedRate: Math.round(feedRate),
        referenceRate: Math.round(referenceRate),
        cores,
        engineRssMb: Math.round(vmHwmMb(x.engine.child.pid!)),
      });
      receiver.taken.length = 0;
    }
  } finally {
    await nr?.close();
    await stopEngine(x.engine);
    await receiver.close();
    rmSync(x.work, { recursive: true, force: true });
  }
  return { rates, drains };
}

async function stopEngine(p: EngineProcess): Promise<void> {
  p.child.kill('SIGTERM');
  await exitWithin(p, 30_000);
}

export async function benchFeed() {
  const server = await startPostgres('sluice-bench-feed-');
  const nats = await startNats();
  try {
    const nat = await benchTransport(server, 'nats', nats);
    const hook = await benchTransport(server, 'webhook', nats);
    return { rates: [...nat.rates, ...hook.rates], drains: [...nat.drains, ...hook.drains], runs: RUNS };
  } finally {
    await nats.stop();
    await server.stop();
  }
}

export function printFeed(r: Awaited<ReturnType<typeof benchFeed>>): void {
  console.log(`\nfeed latency, commit → receipt (receipt time − the row's clock_timestamp()), ${SECONDS} s per rate:`);
  console.log('  transport  target/s  offered/s   events    p50 ms   p99 ms   max ms  engine cores');
  const groups = new Map<string, RateResult[]>();
  for (const x of r.rates)
    groups.set(`${x.transport} ${x.targetRate}`, [...(groups.get(`${x.transport} ${x.targetRate}`) ?? []), x]);
  for (const xs of groups.values()) {
    const m = (k: keyof RateResult) => median(xs.map((x) => x[k] as number));
    console.log(
      `  ${xs[0]!.transport.padEnd(9)} ${String(xs[0]!.targetRate).padStart(9)} ${String(m('offeredRate')).padStart(10)} ${String(m('events')).padStart(8)} ${m('p50').toFixed(0).padStart(9)} ${m('p99').toFixed(0).padStart(8)} ${m('max').toFixed(0).padStart(8)} ${m('engineCores').toFixed(2).padStart(13)}`,
    );
  }
  console.log(`\nmaximum sustained feed rate: a backlog of ${BACKLOG} changes (median of ${r.runs} run(s)):`);
  for (const t of ['nats', 'webhook'] as const) {
    const xs = r.drains.filter((d) => d.transport === t);
    if (xs.length === 0) continue;
    const m = (k: 'ingestRate' | 'feedRate' | 'referenceRate') => median(xs.map((x) => x[k]));
    const cores = xs[Math.floor(xs.length / 2)]!.cores;
    console.log(
      `  ${t.padEnd(8)} feed ${m('feedRate')} events/s (plain client ${m('referenceRate')}/s: ratio ${(m('feedRate') / m('referenceRate')).toFixed(2)}); CDC ingest ${m('ingestRate')} changes/s; sustained ≈ ${Math.min(m('feedRate'), m('ingestRate'))}/s`,
    );
    console.log(
      `           cores while draining: ${Object.entries(cores)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; engine peak RSS ${xs.at(-1)!.engineRssMb} MB`,
    );
  }
  console.log(JSON.stringify(r));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printFeed(await benchFeed());
}

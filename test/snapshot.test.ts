import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresSource, type PostgresSourceOptions } from '../connectors/sources/postgres/postgres-source.ts';
import { silentLogger } from '../engine/ports/index.ts';
import { pumpSource } from '../engine/runtime/pump.ts';
import { MemoryBus } from '../engine/testing/memory-bus.ts';
import { prng } from '../engine/testing/prng.ts';
import type { ChangeEvent, Row } from '../schemas/index.ts';
import { startPostgres, waitFor, type TestPostgres } from './helpers/postgres.ts';

// Snapshots with the watermark method against a real server: chunked keyset reads reconciled with the stream while
// other sessions insert, update and delete; a resource's final state replayed from the bus equals the table's.

interface Ctx {
  server: TestPostgres;
  url: string;
  admin: pg.Pool;
  work: string;
  n: number;
}

let ctx: Ctx;

test.before(async () => {
  const server = await startPostgres('sluice-snapshot-', { wal_sender_timeout: '10s' });
  const { url } = await server.database('provider');
  const admin = new pg.Pool({ connectionString: url, max: 6 });
  admin.on('error', () => {}); // idle connections end when the server stops at the end
  ctx = { server, url, admin, work: mkdtempSync(join(tmpdir(), 'sluice-snapshot-')), n: 0 };
});

test.after.always(async () => {
  await ctx?.admin.end();
  await ctx?.server.stop();
  if (ctx) rmSync(ctx.work, { recursive: true, force: true });
});

/** A table of `rows` rows, a source for it with small chunks, pumped into a memory bus. */
async function attach(rows: number, opts: Partial<PostgresSourceOptions> = {}) {
  const k = ++ctx.n;
  const table = `people${k}`;
  const resource = `people${k}`;
  await ctx.admin.query(`create table ${table} (id bigint primary key, name text, n int not null)`);
  await ctx.admin.query(`insert into ${table} select g, 'name ' || g, 0 from generate_series(1, ${rows}) g`);
  const bus = new MemoryBus();
  const make = () =>
    new PostgresSource({
      id: `snap${k}`,
      url: ctx.url,
      logger: silentLogger,
      resources: [{ id: resource, table, key: ['id'], columns: ['name', 'n'] }],
      spoolDir: join(ctx.work, `snap${k}`),
      heartbeatIntervalMs: 0,
      chunkRows: 500,
      ...opts,
    });
  const abort = new AbortController();
  const source = make();
  const pumping = pumpSource(source, bus, silentLogger, abort.signal, {
    register: async (shapes) => shapes.map(() => 1),
    retry: { minMs: 100, maxMs: 1000 },
  });
  const stop = async () => {
    abort.abort();
    await pumping;
    await source.close();
  };
  return { table, resource, bus, source, stop, make };
}

/** Every event of the resource in seq order. */
async function events(bus: MemoryBus, resource: string): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  for await (const page of bus.read(resource, 0n, await bus.head(resource))) out.push(...page);
  return out;
}

/** The state a subscriber builds by applying the events in order. */
function replay(evs: ChangeEvent[]): Map<string, Row> {
  const state = new Map<string, Row>();
  for (const e of evs) {
    if (e.op === 't') state.clear();
    else if (e.op === 'd') state.delete(e.key.id!);
    else {
      if (e.before && e.before.id !== e.key.id) state.delete(e.before.id!);
      state.set(e.key.id!, e.after!);
    }
  }
  return state;
}

/** Keys whose replayed state differs from the table's (at most 20, for the message). */
function differences(replayed: Map<string, Row>, table: Map<string, Row>): string[] {
  const out: string[] = [];
  for (const id of new Set([...replayed.keys(), ...table.keys()])) {
    const a = JSON.stringify(replayed.get(id) ?? null);
    const b = JSON.stringify(table.get(id) ?? null);
    if (a !== b) out.push(`${id}: bus ${a}, table ${b}`);
  }
  return out.slice(0, 20);
}

async function tableState(table: string): Promise<Map<string, Row>> {
  const { rows } = await ctx.admin.query<{ id: string; name: string | null; n: string }>(
    `select id::text, name, n::text from ${table} order by id`,
  );
  return new Map(rows.map((r) => [r.id, { id: r.id, name: r.name, n: r.n }]));
}

/** Waits until the bus holds the change that sets the marker row (everything before it is in too). */
async function caughtUp(bus: MemoryBus, table: string, resource: string) {
  await ctx.admin.query(
    `insert into ${table} values (0, 'marker', 0) on conflict (id) do update set n = ${table}.n + 1`,
  );
  const { rows } = await ctx.admin.query<{ n: string }>(`select n::text from ${table} where id = 0`);
  await waitFor(
    'the marker on the bus',
    async () => (await events(bus, resource)).some((e) => e.key.id === '0' && e.after?.n === rows[0]!.n),
    30_000,
  );
}

function snapshotsOf(source: PostgresSource) {
  return source.status().snapshots ?? [];
}

test('an initial snapshot under concurrent inserts, updates and deletes: final state exact, no key twice', async (t) => {
  t.timeout(120_000);
  const rows = 20_000;
  const a = await attach(rows);
  try {
    // writers: random changes over the whole key range while the chunks are read
    const rnd = prng(7);
    let stop = false;
    let changes = 0;
    const writer = async () => {
      while (!stop) {
        const id = 1 + Math.floor(rnd() * rows * 1.1);
        const roll = rnd();
        if (roll < 0.5) await ctx.admin.query(`update ${a.table} set n = n + 1, name = 'w' || n where id = $1`, [id]);
        else if (roll < 0.75) await ctx.admin.query(`delete from ${a.table} where id = $1`, [id]);
        else {
          await ctx.admin.query(
            `insert into ${a.table} values ($1, 'new', 1) on conflict (id) do update set n = excluded.n + ${a.table}.n`,
            [id],
          );
        }
        changes++;
      }
    };
    const writers = [writer(), writer(), writer()];
    await waitFor('the snapshot to finish', async () => snapshotsOf(a.source).some((s) => s.state === 'DONE'), 90_000);
    stop = true;
    await Promise.all(writers);
    await caughtUp(a.bus, a.table, a.resource);
    const evs = await events(a.bus, a.resource);
    const reads = evs.filter((e) => e.op === 'r');
    const readKeys = new Set(reads.map((e) => e.key.id));
    t.is(readKeys.size, reads.length, 'no key is read twice');
    t.true(changes > 100, `writers made ${changes} changes during the snapshot`);
    // a key is read or streamed, never both: no r row restates a key the stream had already carried
    const streamed = new Set<string>();
    const restated = [];
    for (const e of evs) {
      if (e.op === 'r' && streamed.has(e.key.id!)) restated.push(e.key.id);
      else if (e.op !== 'r') streamed.add(e.key.id!);
    }
    t.deepEqual(restated, []);
    const progress = snapshotsOf(a.source).find((s) => s.state === 'DONE')!;
    t.is(progress.reason, 'initial');
    t.is(progress.rows, reads.length, 'progress counts the rows delivered');
    t.true(progress.skipped > 0, 'some keys changed while their chunk was read and came from the stream instead');
    t.is(progress.estimated !== null, true);
    // seq order: every r row has a seq like any change, strictly increasing
    const seqs = evs.map((e) => BigInt(e.seq));
    t.true(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!));
    t.deepEqual(differences(replay(evs), await tableState(a.table)), [], 'the replayed bus equals the table');
  } finally {
    await a.stop();
  }
});

test('a snapshot restarted mid-way resumes after the last stored chunk', async (t) => {
  t.timeout(120_000);
  const rows = 12_000;
  const a = await attach(rows, { chunkRows: 1000, maxBufferedEvents: 4000 });
  let second: Awaited<ReturnType<typeof restart>> | null = null;
  async function restart() {
    const abort = new AbortController();
    const source = a.make();
    const pumping = pumpSource(source, a.bus, silentLogger, abort.signal, {
      register: async (shapes) => shapes.map(() => 1),
      retry: { minMs: 100, maxMs: 1000 },
    });
    return { source, stop: async () => (abort.abort(), await pumping, await source.close()) };
  }
  try {
    await waitFor('a few chunks', async () => (snapshotsOf(a.source)[0]?.chunks ?? 0) >= 3, 60_000);
    await a.stop();
    const before = (await events(a.bus, a.resource)).filter((e) => e.op === 'r').length;
    t.true(before >= 3000 && before < rows, `${before} rows stored before the restart`);
    second = await restart();
    await waitFor(
      'the snapshot to finish',
      async () => snapshotsOf(second!.source).some((s) => s.state === 'DONE'),
      60_000,
    );
    const reads = (await events(a.bus, a.resource)).filter((e) => e.op === 'r');
    t.is(reads.length, rows, 'every row exactly once across the restart');
    t.is(new Set(reads.map((e) => e.key.id)).size, rows);
    const done = snapshotsOf(second.source).find((s) => s.state === 'DONE')!;
    t.is(done.rows, rows);
    t.is(done.chunks, Math.ceil((rows + 1) / 1000), 'chunks counted across the restart, none read twice');
  } finally {
    await second?.stop();
  }
});

test('snapshotMode never attaches without reading; a requested backfill targets its subscription', async (t) => {
  t.timeout(60_000);
  const a = await attach(1200, { snapshotMode: 'never' });
  try {
    await waitFor('streaming', async () => a.source.status().state === 'STREAMING', 30_000);
    await caughtUp(a.bus, a.table, a.resource);
    t.is((await events(a.bus, a.resource)).filter((e) => e.op === 'r').length, 0, 'nothing read with mode never');
    const run = await a.source.snapshot({ resource: a.resource, subscription: 'audit-later', reason: 'backfill' });
    t.is(run.state, 'RUNNING');
    const again = await a.source.snapshot({ resource: a.resource, subscription: 'audit-later', reason: 'backfill' });
    t.is(again.id, run.id, 'asking twice returns the run in progress');
    await waitFor(
      'the backfill',
      async () => snapshotsOf(a.source).some((s) => s.id === run.id && s.state === 'DONE'),
      30_000,
    );
    const reads = (await events(a.bus, a.resource)).filter((e) => e.op === 'r');
    t.is(reads.length, 1201);
    t.true(reads.every((e) => e.target === 'audit-later'));
    await t.throwsAsync(a.source.snapshot({ resource: 'nope', reason: 'resnapshot' }), {
      message: /no resource "nope"/,
    });
  } finally {
    await a.stop();
  }
});

test('a table without a unique key cannot be snapshotted, and says why', async (t) => {
  t.timeout(60_000);
  await ctx.admin.query('create table nokey (id int, v text)');
  await ctx.admin.query(`insert into nokey values (1, 'a')`);
  await ctx.admin.query('alter table nokey replica identity full');
  const bus = new MemoryBus();
  const source = new PostgresSource({
    id: 'nokey',
    url: ctx.url,
    logger: silentLogger,
    resources: [{ id: 'nokey', table: 'nokey', key: ['id'], columns: ['v'] }],
    spoolDir: join(ctx.work, 'nokey'),
    heartbeatIntervalMs: 0,
  });
  const abort = new AbortController();
  const pumping = pumpSource(source, bus, silentLogger, abort.signal, {
    register: async (shapes) => shapes.map(() => 1),
  });
  try {
    await waitFor('the run to fail', async () => snapshotsOf(source).some((s) => s.state === 'FAILED'), 30_000);
    const failed = snapshotsOf(source)[0]!;
    t.regex(failed.error!, /no primary key or unique index is exactly \(id\)/);
    t.is(source.status().state, 'STREAMING', 'the stream goes on');
  } finally {
    abort.abort();
    await pumping;
    await source.close();
  }
});

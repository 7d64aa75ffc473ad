import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresSource, type PostgresSourceOptions } from '../connectors/sources/postgres/postgres-source.ts';
import { silentLogger } from '../engine/ports/index.ts';
import { MemoryBus } from '../engine/testing/memory-bus.ts';
import type { ChangeEvent } from '../schemas/index.ts';
import { DEBIAN_PG15_BIN, startPostgres, waitFor, type TestPostgres } from './helpers/postgres.ts';

// The Postgres source against a real server, at the port level: streamed transactions (protocol 2, streaming on —
// the server streams anything over logical_decoding_work_mem, 64 kB here), positions shared by many events, the
// confirmed position while a transaction is open, and the stall alert.

interface Ctx {
  label: string;
  server: TestPostgres;
  url: string;
  /** A pool: the tests of one server run concurrently. */
  admin: pg.Pool;
  work: string;
  n: number;
}

/**
 * Short enough that a test sees a missing status update (the backpressure test pauses for 3×), long enough that a
 * loaded CI machine does not end streams by itself.
 */
const WAL_SENDER_TIMEOUT_S = 4;

/** A fresh table and a source for it (own slot), started. */
async function fresh(ctx: Ctx, opts: Partial<PostgresSourceOptions> = {}) {
  const k = ++ctx.n;
  const id = `s${k}`;
  const table = `t${k}`;
  const resource = `r${k}`;
  await ctx.admin.query(`create table ${table} (id int primary key, v text)`);
  const spoolDir = join(ctx.work, id);
  /** A source for this table and slot (a second one stands for the engine after a restart). */
  const make = () =>
    new PostgresSource({
      id,
      url: ctx.url,
      logger: silentLogger,
      resources: [{ id: resource, table: `public.${table}`, key: ['id'], columns: ['v'] }],
      spoolDir,
      heartbeatIntervalMs: 0,
      snapshotMode: 'never', // the stream alone (test/snapshot.test.ts has snapshots)
      ...opts,
    });
  const source = make();
  const abort = new AbortController();
  await source.start(abort.signal, { lastPosition: null, checkpoint: null });
  return { id, table, resource, source, abort, spoolDir, slot: source.slot, make };
}

/**
 * {@link pump}, restarted from what the bus holds when the stream fails — as the engine's pump does (on a loaded
 * machine the short wal_sender_timeout of these servers can end a stream). `current()` is the source in use.
 */
function resilientPump(
  first: PostgresSource,
  make: () => PostgresSource,
  bus: MemoryBus,
  signal: AbortSignal,
  log: (m: string) => void,
) {
  let source = first;
  let restarts = 0;
  const running = (async () => {
    for (;;) {
      try {
        return await pump(source, bus, signal);
      } catch (e) {
        if (signal.aborted) return;
        restarts++;
        log(`stream failed (${(e as Error).message}); restarted from the bus`);
        await source.close();
        source = make();
        await source.start(signal, {
          lastPosition: await bus.sourcePosition(source.id),
          checkpoint: await bus.sourceCheckpoint(source.id),
        });
      }
    }
  })();
  return { running, current: () => source, restarts: () => restarts };
}

/** Moves batches into the bus and confirms them, like the engine's pump, until stopped. */
function pump(source: PostgresSource, bus: MemoryBus, signal: AbortSignal, maxEvents = 10_000) {
  return (async () => {
    for await (const batch of source.read({ maxEvents, signal })) {
      await bus.append(source.id, batch.events, batch.checkpoint ? { checkpoint: batch.checkpoint } : {});
      if (batch.checkpoint) await source.commit(batch.checkpoint);
    }
  })();
}

async function events(bus: MemoryBus, resource: string): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  for await (const page of bus.read(resource, 0n, await bus.head(resource))) out.push(...page);
  return out;
}

async function slotConfirmed(ctx: Ctx, slot: string): Promise<string> {
  const { rows } = await ctx.admin.query<{ lsn: string }>(
    'select confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = $1',
    [slot],
  );
  return rows[0]!.lsn;
}

async function lsnLessThan(ctx: Ctx, a: string, b: string): Promise<boolean> {
  const { rows } = await ctx.admin.query<{ lt: boolean }>('select $1::pg_lsn < $2::pg_lsn as lt', [a, b]);
  return rows[0]!.lt;
}

const pad = "repeat('x', 200)";

const spoolFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).length : 0);

const VERSIONS = [
  ['PostgreSQL 18 (embedded)', undefined],
  ['PostgreSQL 15 (Debian)', DEBIAN_PG15_BIN],
] as const;

for (const [label, binDir] of VERSIONS) {
  const ctx = { label, n: 0 } as Ctx;

  test.before(async () => {
    // 64 kB (the minimum) makes ordinary transactions stream; a short sender timeout makes backpressure bite
    ctx.server = await startPostgres(
      'sluice-stream-',
      { logical_decoding_work_mem: '64kB', wal_sender_timeout: `${WAL_SENDER_TIMEOUT_S}s` },
      binDir,
    );
    ctx.url = (await ctx.server.database('provider')).url;
    ctx.admin = new pg.Pool({ connectionString: ctx.url, max: 4 });
    ctx.admin.on('error', () => {}); // an idle connection ended by the server's shutdown is not a test failure
    ctx.work = mkdtempSync(join(tmpdir(), 'sluice-stream-'));
  });

  test.after.always(async () => {
    await ctx.admin?.end();
    await ctx.server?.stop();
    if (ctx.work) rmSync(ctx.work, { recursive: true, force: true });
  });

  test(`${ctx.label}: events sharing one commit LSN are all delivered, also when the engine dies between fragments of one transaction`, async (t) => {
    const { id, table, resource, source, abort, make } = await fresh(ctx, { spillAfter: 5 });
    const bus = new MemoryBus();
    await ctx.admin.query(`insert into ${table} select g, 'v' || g from generate_series(1, 10) g`);
    // the 10-event transaction is spooled (past spillAfter) and handed out in fragments of 3
    const it = source.read({ maxEvents: 3, signal: abort.signal })[Symbol.asyncIterator]();
    const first = (await it.next()).value!;
    t.is(first.events.length, 3);
    t.is(first.checkpoint, '', 'a fragment is not a checkpoint');
    await bus.append(id, first.events);
    // "crash": the source goes away before the rest; nothing was confirmed
    await source.close();
    const again = make();
    const stop = new AbortController();
    await again.start(stop.signal, { lastPosition: await bus.sourcePosition(id), checkpoint: null });
    const running = pump(again, bus, stop.signal, 3);
    try {
      await waitFor('all 10 events in the bus', async () => (await bus.head(resource)) >= 10n);
      const stored = await events(bus, resource);
      t.deepEqual(
        stored.map((e) => e.key.id),
        Array.from({ length: 10 }, (_, i) => String(i + 1)),
        'each row once, in order',
      );
      const lsns = new Set(stored.map((e) => e.position.split(':')[0]));
      t.is(lsns.size, 1, 'all ten share one commit LSN');
      t.deepEqual(
        stored.map((e) => Number(e.position.split(':')[1])),
        [...Array(10).keys()],
      );
    } finally {
      stop.abort();
      await again.close();
      await running.catch(() => {});
      abort.abort();
    }
  });

  test(`${ctx.label}: a 48 MB value — one message over hundreds of socket reads — arrives whole, and the stream goes on`, async (t) => {
    const { table, resource, source, abort, make } = await fresh(ctx);
    const bus = new MemoryBus();
    const p = resilientPump(source, make, bus, abort.signal, (m) => t.log(m));
    try {
      const size = 48 << 20;
      await ctx.admin.query(`insert into ${table} values (1, repeat('ab', ${size / 2}))`);
      await ctx.admin.query(`insert into ${table} values (2, 'after')`);
      await waitFor('both rows in the bus', async () => (await bus.head(resource)) >= 2n, 60_000);
      const [big, next] = await events(bus, resource);
      t.is(big!.after!.v!.length, size);
      t.true(big!.after!.v === 'ab'.repeat(size / 2), 'the value is exactly the one written');
      t.is(next!.after!.v, 'after');
      t.true(p.restarts() <= 3, `${p.restarts()} restarts`);
    } finally {
      abort.abort();
      await p.current().close();
      await p.running.catch(() => {});
    }
  });

  test(`${ctx.label}: streamed transactions: interleaved, a rolled-back savepoint dropped, nothing before commit, the confirmed position never inside an open one`, async (t) => {
    const { table, resource, source, abort, slot, spoolDir, make } = await fresh(ctx);
    const bus = new MemoryBus();
    const p = resilientPump(source, make, bus, abort.signal, (m) => t.log(m));
    const c1 = new pg.Client({ connectionString: ctx.url });
    const c2 = new pg.Client({ connectionString: ctx.url });
    await c1.connect();
    await c2.connect();
    try {
      await c1.query('begin');
      await c1.query(`insert into ${table} select g, ${pad} from generate_series(1, 2000) g`);
      await c2.query('begin');
      await c2.query(`insert into ${table} select g, ${pad} from generate_series(10001, 12000) g`);
      await c1.query('savepoint s');
      await c1.query(`insert into ${table} select g, ${pad} from generate_series(5001, 5500) g`);
      await c1.query('rollback to savepoint s');
      await c1.query(`insert into ${table} select g, 'after rollback' from generate_series(2001, 2010) g`);
      // c1 and c2 are streamed (each far over 64 kB): they wait in the spool, not in the bus
      await waitFor('streamed transactions in the spool', async () => spoolFiles(spoolDir) >= 2, 10_000);
      // Before c1 reached us, an idle keepalive may confirm past c1's first change: that is safe, the server replays
      // every transaction committing after the confirmed position (restart_lsn stays before c1). Once c1 is known
      // (spooled), nothing may confirm past its start, so the slot stays before this point until c1 commits.
      const c1Known = (await ctx.admin.query<{ l: string }>('select pg_current_wal_lsn()::text as l')).rows[0]!.l;
      t.is(await bus.head(resource), 0n, 'nothing is delivered before its commit');
      await c2.query('commit');
      await ctx.admin.query(`insert into ${table} values (20001, 'small')`);
      await waitFor('c2 and the small insert in the bus', async () => (await bus.head(resource)) >= 2001n);
      // c2's commit and the small insert are durable, but c1 is still open: the slot stays before c1's changes
      await waitFor('a status update to reach the server', async () => {
        const confirmed = await slotConfirmed(ctx, slot);
        return (await lsnLessThan(ctx, '0/0', confirmed)) && confirmed;
      });
      await new Promise((r) => setTimeout(r, 300));
      t.true(
        await lsnLessThan(ctx, await slotConfirmed(ctx, slot), c1Known),
        'confirmed never passes an open transaction (c2 and the small insert commit after this point)',
      );
      await c1.query('commit');
      await waitFor('c1 in the bus', async () => (await bus.head(resource)) >= 4011n);
      const stored = await events(bus, resource);
      const ids = stored.map((e) => Number(e.key.id));
      const expected = [
        ...Array.from({ length: 2000 }, (_, i) => 10001 + i), // c2 committed first
        20001,
        ...Array.from({ length: 2010 }, (_, i) => 1 + i), // then c1, without the rolled-back savepoint
      ];
      t.deepEqual(ids, expected);
      t.is(stored.at(-1)!.after?.v, 'after rollback');
      t.is(new Set(stored.map((e) => e.txId)).size, 3);
      await waitFor('the spool to be emptied', async () => spoolFiles(spoolDir) === 0, 5000);
    } finally {
      await c1.end();
      await c2.end();
      abort.abort();
      await p.current().close();
      await p.running.catch(() => {});
    }
  });

  test(`${ctx.label}: backpressure — reading paused for 3× wal_sender_timeout, the stream survives and nothing is lost`, async (t) => {
    const { table, resource, source, abort } = await fresh(ctx, { maxBufferedEvents: 20 });
    const bus = new MemoryBus();
    try {
      // 300 single-row transactions: far more than the 20 events the source may hold, so it stops reading
      for (let i = 1; i <= 300; i++) await ctx.admin.query(`insert into ${table} values (${i}, 'v')`);
      const it = source.read({ maxEvents: 1000, signal: abort.signal })[Symbol.asyncIterator]();
      let batch = (await it.next()).value!;
      // nobody consumes: the walsender would time out after WAL_SENDER_TIMEOUT_S without our status updates
      await new Promise((r) => setTimeout(r, 3 * WAL_SENDER_TIMEOUT_S * 1000));
      t.is(source.status().state, 'STREAMING', source.status().error ?? '');
      for (;;) {
        await bus.append(source.id, batch.events, { checkpoint: batch.checkpoint });
        await source.commit(batch.checkpoint);
        if ((await bus.head(resource)) >= 300n) break;
        batch = (await it.next()).value!;
      }
      t.deepEqual(
        (await events(bus, resource)).map((e) => Number(e.key.id)),
        Array.from({ length: 300 }, (_, i) => i + 1),
      );
      t.is(source.status().state, 'STREAMING');
    } finally {
      abort.abort();
      await source.close();
    }
  });

  test(`${ctx.label}: stall alert: the confirmed position does not move while WAL grows; it clears once it moves`, async (t) => {
    const { table, source, abort } = await fresh(ctx, { statusIntervalMs: 200, stallAfterMs: 800 });
    const it = source.read({ maxEvents: 100, signal: abort.signal })[Symbol.asyncIterator]();
    try {
      await ctx.admin.query(`insert into ${table} values (1, 'a')`);
      const batch = (await it.next()).value!;
      t.is(batch.events.length, 1);
      // the batch is never confirmed (a stuck bus); the provider keeps writing
      let next = 1000;
      let writes = Promise.resolve();
      const writer = setInterval(() => {
        writes = writes.then(() => ctx.admin.query(`insert into ${table} values (${++next}, 'b')`).then(() => {}));
      }, 100);
      try {
        await waitFor('the stall alert', async () => source.status().stalled, 10_000);
      } finally {
        clearInterval(writer);
        await writes;
      }
      // the unconfirmed batch's commit is a little younger than the last move of the confirmed position
      t.true(source.status().lagSeconds! >= 0.5, `lag while stalled: ${source.status().lagSeconds}`);
      await source.commit(batch.checkpoint);
      await waitFor('the alert to clear', async () => !source.status().stalled, 5000);
    } finally {
      abort.abort();
      await source.close();
    }
  });
}

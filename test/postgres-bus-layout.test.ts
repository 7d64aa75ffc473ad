import test from 'ava';
import pg from 'pg';
import { MAX_ROW_EVENTS, PostgresBus } from '../connectors/bus/postgres/postgres-bus.ts';
import { decodeRow } from '../connectors/bus/postgres/row-codec.ts';
import { migrate } from '../connectors/state/postgres/migrate.ts';
import { PostgresStateStore } from '../connectors/state/postgres/postgres-state-store.ts';
import { MIGRATIONS } from '../connectors/state/postgres/migrations.ts';
import { testPosition } from '../engine/testing/bus-conformance.ts';
import { EngineMetrics } from '../ops/metrics/metrics.ts';
import type { SourceEvent } from '../schemas/index.ts';
import { DEBIAN_PG15_BIN, startPostgres, type TestPostgres } from './helpers/postgres.ts';

/**
 * The Postgres bus's storage (migrations 3 and 4), on the embedded PostgreSQL 18 and on Debian's PostgreSQL 15: one row per
 * resource per append chunk in sluice_bus_batches (compact rows, row-codec.ts) (lz4-compressed where the server has lz4, else stored raw), the
 * per-event view sluice_bus_events, the move of per-event rows written before migration 3, appends of one bus after
 * another writer moved the source or a head, and the subscription lag gauge that reads the next undelivered event out
 * of its batch row. Behaviour is covered by the bus conformance suite.
 */

const servers: Record<string, TestPostgres | undefined> = {};
let counter = 0;

test.before(async () => {
  [servers['PG 18'], servers['PG 15']] = await Promise.all([
    startPostgres('sluice-bus-layout-'),
    startPostgres('sluice-bus-layout-15-', {}, DEBIAN_PG15_BIN),
  ]);
});

test.after.always(async () => {
  await Promise.all(Object.values(servers).map((s) => s?.stop()));
});

async function freshPool(label: string, opts: { migrated?: boolean } = {}): Promise<pg.Pool> {
  const server = servers[label];
  if (!server) throw new Error(`${label} did not start`);
  const name = `layout_${process.pid}_${++counter}`;
  await server.cluster.ensureDatabase(name);
  const pool = new pg.Pool({ connectionString: server.url(name), max: 4 });
  pool.on('error', () => {}); // a connection still closing when the server stops at the end is no failure
  if (opts.migrated ?? true) {
    const c = await pool.connect();
    try {
      await migrate(c);
    } finally {
      c.release();
    }
  }
  return pool;
}

const event = (resource: string, position: string, over: Partial<SourceEvent> = {}): SourceEvent => ({
  resource,
  op: 'c',
  key: { id: position },
  after: { id: position, note: 'n' },
  position,
  commitTs: '2025-12-03T16:00:00.123456Z',
  txId: '731',
  schemaVersion: 1,
  ...over,
});

for (const label of ['PG 18', 'PG 15']) {
  test(`${label} › an append is stored as one row per resource per chunk of at most MAX_ROW_EVENTS events`, async (t) => {
    const pool = await freshPool(label);
    try {
      const bus = new PostgresBus(pool);
      const n = 2 * MAX_ROW_EVENTS + 500;
      const events = Array.from({ length: n + 3 }, (_, k) =>
        k < n ? event('people', testPosition(0x10n, k)) : event('firms', testPosition(0x10n, k)),
      );
      await bus.append('src', events);
      await bus.append('src', [event('people', testPosition(0x11n, 0))]);
      const { rows } = await pool.query<{ resource: string; first_seq: string; last_seq: string; n: number }>(
        `select resource, first_seq, last_seq, json_array_length(events -> 'ev') as n, source
         from sluice_bus_batches order by resource, first_seq`,
      );
      t.deepEqual(
        rows.map((r) => [r.resource, r.first_seq, r.last_seq, r.n]),
        [
          ['firms', '1', '3', 3],
          ['people', '1', '2000', 2000],
          ['people', '2001', '4000', 2000],
          ['people', '4001', '4500', 500],
          ['people', '4501', '4501', 1],
        ],
      );
      // each stored event is the event without its resource; its seq is the row's first_seq + its index; column
      // names are stored once per row (row-codec.ts)
      const { rows: stored } = await pool.query<{ events: unknown; text: string }>(
        `select events, events::text as text from sluice_bus_batches where resource = 'people' and first_seq = 2001`,
      );
      const { resource: _, ...want } = events[2001]!;
      t.deepEqual(decodeRow(stored[0]!.events, 1, 1), [want]);
      t.like(stored[0]!.events, { v: 2, keys: ['id'], cols: ['id', 'note'] });
      t.is(stored[0]!.text.split('"note"').length - 1, 1);
      // lz4 where the server has it (Debian's 15), else no compression and out of line (the embedded 18)
      const { rows: col } = await pool.query<{ storage: string; compression: string }>(
        `select attstorage as storage, attcompression as compression from pg_attribute
          where attrelid = 'sluice_bus_batches'::regclass and attname = 'events'`,
      );
      const lz4 = await pool
        .query('create temp table lz4_probe (j json compression lz4)')
        .then(() => true)
        .catch(() => false);
      t.is(lz4, label === 'PG 15');
      t.deepEqual(col[0], lz4 ? { storage: 'x', compression: 'l' } : { storage: 'e', compression: '' });
    } finally {
      await pool.end();
    }
  });

  test(`${label} › readers of the same rows share one decoding (several subscriptions of a resource at one tick)`, async (t) => {
    const pool = await freshPool(label);
    try {
      const bus = new PostgresBus(pool);
      await bus.append(
        'src',
        Array.from({ length: 3000 }, (_, k) => event('people', testPosition(0x20n, k))),
      );
      const read = async (from: bigint, to: bigint) => {
        const out = [];
        for await (const page of bus.read('people', from, to, { pageSize: 700 })) out.push(...page);
        return out;
      };
      const a = await read(0n, 3000n);
      const b = await read(0n, 3000n);
      const c = await read(1999n, 2500n); // starts inside the first row, ends inside the second
      t.is(a.length, 3000);
      t.true(
        a.every((e, i) => e === b[i]),
        'the same event objects: decoded once',
      );
      t.deepEqual(
        c.map((e) => e.seq),
        Array.from({ length: 501 }, (_, i) => String(2000 + i)),
      );
      t.is(c[0], a[1999]);
      // a fresh bus (another process) decodes from the table and gets equal events
      const fresh = [];
      for await (const page of new PostgresBus(pool).read('people', 0n, 3000n)) fresh.push(...page);
      t.deepEqual(fresh, a);
    } finally {
      await pool.end();
    }
  });

  test(`${label} › the sluice_bus_events view shows one row per event with its seq, position and event`, async (t) => {
    const pool = await freshPool(label);
    try {
      const bus = new PostgresBus(pool);
      await bus.append('src-a', [event('people', testPosition(1n, 0)), event('people', testPosition(1n, 1))]);
      await bus.append('src-b', [event('orders', testPosition(1n, 0)), event('people', testPosition(2n, 0))]);
      const { rows } = await pool.query<{
        resource: string;
        seq: string;
        source: string;
        position: string;
        op: string;
      }>(
        `select resource, seq::text, source, position, event->>'op' as op, appended_at is not null as at
         from sluice_bus_events order by resource, seq`,
      );
      t.deepEqual(
        rows.map((r) => [r.resource, r.seq, r.source, r.position, r.op]),
        [
          ['orders', '1', 'src-b', testPosition(1n, 0), 'c'],
          ['people', '1', 'src-a', testPosition(1n, 0), 'c'],
          ['people', '2', 'src-a', testPosition(1n, 1), 'c'],
          ['people', '3', 'src-b', testPosition(2n, 0), 'c'],
        ],
      );
    } finally {
      await pool.end();
    }
  });

  test(`${label} › the view decodes every kind of compact event into the event as appended`, async (t) => {
    const pool = await freshPool(label);
    try {
      const bus = new PostgresBus(pool);
      const p = (k: number) => testPosition(3n, k);
      const events: SourceEvent[] = [
        event('people', p(0)),
        event('people', p(1), { op: 'u', after: { id: p(1) }, unchanged: ['note'], txId: '732' }),
        event('people', p(2), { op: 'd', key: { id: p(0) }, after: undefined, schemaVersion: 2 }),
        event('people', p(3), { op: 'd', key: { id: p(1) }, before: { id: p(1), note: null }, after: undefined }),
        event('people', p(4), { op: 'u', key: { id: 'old' }, before: null }),
        event('people', p(5), { op: 't', key: {}, after: undefined }),
      ];
      await bus.append('src', events);
      const { rows } = await pool.query<{ event: object }>(`select event from sluice_bus_events order by seq`);
      t.deepEqual(
        rows.map((r) => r.event),
        events.map(({ resource: _, ...e }) => JSON.parse(JSON.stringify(e))),
      );
    } finally {
      await pool.end();
    }
  });

  test(`${label} › migrations 3 and 4 move per-event rows into one-event batches; appends (compact rows) and reads continue from them`, async (t) => {
    const pool = await freshPool(label, { migrated: false });
    try {
      // a state DB at version 2, with events stored one row each (position in its column, not in the event)
      const c = await pool.connect();
      try {
        await c.query(
          'create table sluice_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())',
        );
        for (const m of MIGRATIONS.filter((m) => m.version <= 2)) {
          await c.query(m.sql);
          await c.query('insert into sluice_migrations (version, name) values ($1, $2)', [m.version, m.name]);
        }
        const old = [
        { resource: 'people', seq: 1, position: testPosition(5n, 0), event: { op: 'c', key: { id: '1' }, after: { id: '1', v: 'a\\b "q"' }, commitTs: '2025-12-03T16:00:00.000001Z', txId: '9', schemaVersion: 1 } },
        { resource: 'people', seq: 2, position: testPosition(5n, 1), event: { op: 'd', key: { id: '1' }, before: null, commitTs: '2025-12-03T16:00:01Z', txId: '10', schemaVersion: 1 } },
        { resource: 'orders', seq: 1, position: testPosition(5n, 2), event: { op: 't', key: {}, commitTs: '2025-12-03T16:00:02Z', txId: '11', schemaVersion: 2 } },
      ]; // prettier-ignore
        for (const o of old) {
          await c.query(
            `insert into sluice_bus_events (resource, seq, source, position, event, appended_at)
           values ($1, $2, 'src', $3, $4, '2025-12-03T16:00:05Z')`,
            [o.resource, o.seq, o.position, JSON.stringify(o.event)],
          );
        }
        await c.query(`insert into sluice_bus_heads values ('people', 2), ('orders', 1)`);
        await c.query(`insert into sluice_bus_sources values ('src', $1, 'cp-old')`, [testPosition(5n, 2)]);
        const hmacKey = Buffer.alloc(32, 7);
        await c.query(`insert into sluice_subscription_keys (subscription, hmac_key) values ('sub', $1)`, [hmacKey]);
        t.deepEqual(
          await migrate(c),
          MIGRATIONS.filter((m) => m.version > 2).map((m) => m.version),
        );
        // migration 5: the subscription's HMAC key lives on as version 1 of its hash secret (joins keep working)
        t.deepEqual(await new PostgresStateStore(pool).subscriptionKey('sub'), new Uint8Array(hmacKey));

        const bus = new PostgresBus(pool);
        const people = [];
        for await (const page of bus.read('people', 0n, 10n)) people.push(...page);
        t.deepEqual(people, [
          { ...old[0]!.event, position: old[0]!.position, resource: 'people', seq: '1' },
          { ...old[1]!.event, position: old[1]!.position, resource: 'people', seq: '2' },
        ]);
        t.is(await bus.sourcePosition('src'), testPosition(5n, 2));
        t.is(await bus.sourceCheckpoint('src'), 'cp-old');
        t.is((await bus.append('src', [event('people', testPosition(5n, 2))])).appended, 0, 'still idempotent');
        t.deepEqual(await bus.append('src', [event('people', testPosition(6n, 0))]), {
          appended: 1,
          heads: { people: 3n },
        });
        const seqs = [];
        for await (const page of bus.read('people', 1n, 3n, { pageSize: 1 })) seqs.push(...page.map((e) => e.seq));
        t.deepEqual(seqs, ['2', '3']);
        const { rows } = await c.query<{ resource: string; seq: string; position: string; at: Date; event: object }>(
          `select resource, seq::text, position, appended_at as at, event from sluice_bus_events order by resource, seq`,
        );
        t.deepEqual(
          rows.slice(0, 3).map((r) => [r.resource, r.seq, r.position, r.at.toISOString()]),
          [
            ['orders', '1', testPosition(5n, 2), '2025-12-03T16:00:05.000Z'],
            ['people', '1', testPosition(5n, 0), '2025-12-03T16:00:05.000Z'],
            ['people', '2', testPosition(5n, 1), '2025-12-03T16:00:05.000Z'],
          ],
        );
        // the view decodes rows of both formats: the moved ones (event objects) and the compact one appended after
        t.deepEqual(rows[0]!.event, { ...old[2]!.event, position: old[2]!.position });
        const { resource: _, ...appended } = event('people', testPosition(6n, 0));
        t.deepEqual(rows[3]!.event, appended);
        t.is(rows.length, 4);
        t.is((await c.query(`select to_regclass('sluice_bus_events')::text as r`)).rows[0].r, 'sluice_bus_events');
        t.is((await c.query(`select relkind from pg_class where relname = 'sluice_bus_events'`)).rows[0].relkind, 'v');
      } finally {
        c.release();
      }
    } finally {
      await pool.end();
    }
  });

  test(`${label} › another writer moving the source or a head is noticed: nothing stored twice or out of seq`, async (t) => {
    const pool = await freshPool(label);
    try {
      const a = new PostgresBus(pool);
      const b = new PostgresBus(pool); // another process, say
      const pos = (i: number) => testPosition(0x20n, i);
      await a.append('src', [event('people', pos(0)), event('orders', pos(1))]);
      await a.append('src', [event('people', pos(2))]); // a knows where src and the heads are
      await b.append('other', [event('people', pos(0))]); // moves the people head
      t.deepEqual(await a.append('src', [event('people', pos(3)), event('orders', pos(4))]), {
        appended: 2,
        heads: { people: 4n, orders: 2n },
      });
      await b.append('src', [event('people', pos(3)), event('people', pos(5))]); // moves src itself (one event new)
      t.deepEqual(await a.append('src', [event('people', pos(5)), event('people', pos(6))]), {
        appended: 1,
        heads: { people: 6n },
      });
      t.deepEqual(await a.append('src', [event('people', pos(7))], { checkpoint: 'cp-7' }), {
        appended: 1,
        heads: { people: 7n },
      });
      t.is(await a.sourceCheckpoint('src'), 'cp-7');
      t.is(await a.sourcePosition('src'), pos(7));
      const people = [];
      for await (const page of a.read('people', 0n, 100n)) people.push(...page);
      t.deepEqual(
        people.map((e) => [e.seq, e.position]),
        [
          ['1', pos(0)],
          ['2', pos(2)],
          ['3', pos(0)],
          ['4', pos(3)],
          ['5', pos(5)],
          ['6', pos(6)],
          ['7', pos(7)],
        ],
      );
      const { rows } = await pool.query<{ r: string }>(
        `select resource || ' ' || first_seq || '-' || last_seq as r from sluice_bus_batches order by resource, first_seq`,
      );
      t.deepEqual(
        rows.map((x) => x.r),
        [
          'orders 1-1',
          'orders 2-2',
          'people 1-1',
          'people 2-2',
          'people 3-3',
          'people 4-4',
          'people 5-5',
          'people 6-6',
          'people 7-7',
        ],
      );
    } finally {
      await pool.end();
    }
  });

  test(`${label} › subscription lag is the age of the next undelivered event, found inside its batch row`, async (t) => {
    const pool = await freshPool(label);
    try {
      const bus = new PostgresBus(pool);
      const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
      // one row of 5 events committed 5, 4, 3, 2 and 1 hours ago
      await bus.append(
        'src',
        [5, 4, 3, 2, 1].map((h, k) => event('people', testPosition(1n, k), { commitTs: hoursAgo(h) })),
      );
      const metrics = new EngineMetrics({
        pool,
        subscriptions: [
          { id: 'none-yet', resource: 'people' },
          { id: 'midway', resource: 'people' },
          { id: 'caught-up', resource: 'people' },
        ],
        sources: () => [],
      });
      await pool.query(`insert into sluice_cursors (subscription, seq) values ('midway', 3), ('caught-up', 5)`);
      const text = await metrics.registry.metrics();
      const lag = (sub: string) =>
        Number(new RegExp(`^sluice_subscription_lag_seconds\\{subscription="${sub}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      t.true(Math.abs(lag('none-yet') - 5 * 3600) < 60, `none delivered: ${lag('none-yet')}`);
      t.true(Math.abs(lag('midway') - 2 * 3600) < 60, `seq 4 next: ${lag('midway')}`);
      t.is(lag('caught-up'), 0);
      t.regex(text, /^sluice_bus_backlog_events\{resource="people"\} 5$/m);
    } finally {
      await pool.end();
    }
  });
}

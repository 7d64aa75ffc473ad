import test from 'ava';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { BatchDeliveryConfig, Manifest } from '../schemas/index.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { busHead, onBus, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';

const server = sharedPostgres('sluice-modes-');
let provider: pg.Client;
let state: pg.Client;
let engine: Engine;
let work: string;
let outDir: string;

test.before(async () => {
  const f = await reliefFixture(await server.ready(), 'modes', 0);
  ({ provider, state, work, outDir } = f);
  const changes = f.cfg.subscriptions[0]!;
  changes.fields = ['id', 'name', 'amount'];
  delete changes.masks;
  f.cfg.subscriptions.push(
    {
      ...changes,
      id: 'audit-latest',
      delivery: { ...(changes.delivery as BatchDeliveryConfig), incremental: 'latest' },
    },
    {
      ...changes,
      id: 'audit-snapshot',
      delivery: { ...(changes.delivery as BatchDeliveryConfig), incremental: 'snapshot' },
    },
  );
  engine = await startEngine(f.cfg, { logger: silentLogger });
});

server.cleanup(async () => {
  await engine?.drain();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every change made so far is on the bus (`expected` counts the events they make). */
const settled = () => onBus(state, expected);
let expected = 0;
async function change(sql: string, events: number): Promise<void> {
  await provider.query(sql);
  expected += events;
}

/** Runs one cycle of a subscription; returns its file's rows (id, name, amount, _op) in _seq order, and manifest. */
async function cycle(subscription: string, tick: string) {
  const r = await engine.runCycle(subscription, new Date(tick));
  if (r.files.length === 0) return { rows: [], manifest: null };
  const f = r.files[0]!;
  const manifest = JSON.parse(readFileSync(join(outDir, subscription, f.manifestFile), 'utf8')) as Manifest;
  const { rows } = await readWithDuckDB(
    join(outDir, subscription, `${f.stem}.parquet`),
    'select id::int as id, name, amount::varchar as amount, _op from t order by _seq',
  );
  return { rows, manifest };
}

test.serial('latest: the net effect per key within a cycle, checked row by row in DuckDB beside changes', async (t) => {
  await change(
    `insert into relief_recipients (id, name, amount) values (1, '张一', 1), (2, '张二', 2), (3, '张三', 3), (4, '张四', 4)`,
    4,
  );
  await change(`update relief_recipients set amount = 10 where id = 1`, 1);
  await change(`insert into relief_recipients (id, name, amount) values (5, '张五', 5)`, 1);
  await change(`delete from relief_recipients where id = 5`, 1);
  await change(`update relief_recipients set amount = 20 where id = 2`, 1);
  await change(`update relief_recipients set amount = 21 where id = 2`, 1);
  await change(`delete from relief_recipients where id = 3`, 1);
  await settled();

  const all = await cycle('audit-relief', '2026-12-04T08:00:00Z');
  t.is(all.rows.length, 10, 'changes: every change');
  const first = await cycle('audit-latest', '2026-12-04T08:00:00Z');
  // insert+update → one c row with the final values; insert+delete → nothing; one row per key, by last change
  t.deepEqual(first.rows, [
    { id: 4, name: '张*', amount: '4.0000', _op: 'c' },
    { id: 1, name: '张*', amount: '10.0000', _op: 'c' },
    { id: 2, name: '张*', amount: '21.0000', _op: 'c' },
  ]);
  t.is(first.manifest!.incremental, 'latest');
  t.is(first.manifest!.netted, 7);
  t.deepEqual(first.manifest!.ops, { c: 3, u: 0, d: 0, t: 0 });
  t.deepEqual(first.manifest!.seq, all.manifest!.seq, 'the file covers the same bus range');

  // the next cycle: changes to rows the subscriber has, and rows created within it
  await change(`update relief_recipients set amount = 11 where id = 1`, 1);
  await change(`update relief_recipients set amount = 12 where id = 1`, 1);
  await change(`delete from relief_recipients where id = 2`, 1);
  await change(`delete from relief_recipients where id = 4`, 1);
  await change(`insert into relief_recipients (id, name, amount) values (4, '李四', 40)`, 1);
  await change(`insert into relief_recipients (id, name, amount) values (6, '张六', 6)`, 1);
  await change(`update relief_recipients set name = '王六' where id = 6`, 1);
  await change(`insert into relief_recipients (id, name, amount) values (7, '张七', 7)`, 1);
  await change(`delete from relief_recipients where id = 7`, 1);
  await settled();
  const second = await cycle('audit-latest', '2026-12-04T08:00:10Z');
  t.deepEqual(second.rows, [
    { id: 1, name: '张*', amount: '12.0000', _op: 'u' },
    { id: 2, name: null, amount: null, _op: 'd' }, // REPLICA IDENTITY DEFAULT: a delete carries the key only
    { id: 4, name: '李*', amount: '40.0000', _op: 'u' }, // deleted and inserted again: the subscriber's row changed
    { id: 6, name: '王*', amount: '6.0000', _op: 'c' },
  ]);
  t.deepEqual(second.manifest!.ops, { c: 1, u: 2, d: 1, t: 0 });

  // applying the latest files in order leaves exactly the keys the table has
  const table = await provider.query<{ id: string }>('select id from relief_recipients order by id');
  const present = new Map<number, string>();
  for (const r of [...first.rows, ...second.rows]) {
    if (r._op === 'd') present.delete(r.id as number);
    else present.set(r.id as number, r._op as string);
  }
  t.deepEqual(
    [...present.keys()].sort((a, b) => a - b),
    table.rows.map((r) => Number(r.id)),
  );

  // a truncate supersedes what came before it in the cycle
  await change(`update relief_recipients set amount = 13 where id = 1`, 1);
  await change(`truncate relief_recipients`, 1);
  await change(`insert into relief_recipients (id, name, amount) values (8, '张八', 8)`, 1);
  await settled();
  const third = await cycle('audit-latest', '2026-12-04T08:00:20Z');
  t.deepEqual(third.rows, [
    { id: null, name: null, amount: null, _op: 't' },
    { id: 8, name: '张*', amount: '8.0000', _op: 'c' },
  ]);
  t.is((await cycle('audit-latest', '2026-12-04T08:00:30Z')).manifest, null, 'nothing new: no file');
});

test.serial(
  'snapshot: the full current state at cycle time, rows _op = r at one _seq; an empty state is an empty file',
  async (t) => {
    await change(
      `insert into relief_recipients (id, name, amount) values (101, '赵一', 1), (102, '赵二', 2), (103, '赵三', 3)`,
      3,
    );
    await change(`update relief_recipients set amount = 22 where id = 102`, 1);
    await change(`delete from relief_recipients where id = 103`, 1);
    await settled();
    const before = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z')); // what changes had
    const table = await provider.query<{ id: string; amount: string }>(
      'select id, amount::text as amount from relief_recipients order by id',
    );

    const r = await engine.runCycle('audit-snapshot', new Date('2026-12-04T09:00:10Z'));
    expected = await busHead(state); // (the state read put its rows on the bus too)
    t.deepEqual(
      r.files.map((f) => f.stem),
      ['20261204T090010Z_snapshot'],
    );
    const file = join(outDir, 'audit-snapshot', '20261204T090010Z_snapshot.parquet');
    const manifest = JSON.parse(
      readFileSync(join(outDir, 'audit-snapshot', '20261204T090010Z_snapshot.manifest.json'), 'utf8'),
    ) as Manifest;
    const { rows } = await readWithDuckDB(
      file,
      'select id::int as id, name, amount::varchar as amount, _op, _seq::varchar as seq from t order by id',
    );
    t.deepEqual(
      rows.map((x) => [x.id, x.amount]),
      table.rows.map((x) => [Number(x.id), x.amount]),
      'the table as it is, under the masks',
    );
    t.true(rows.every((x) => x._op === 'r' && (x.name as string).endsWith('*')));
    t.deepEqual([...new Set(rows.map((x) => x.seq))], [manifest.seq.last], 'one _seq: the high-water mark of the read');
    t.is(manifest.incremental, 'snapshot');
    t.is(manifest.rows, table.rows.length);
    // the state read is for this subscription only: the others see none of its rows
    await change(`update relief_recipients set amount = 23 where id = 102`, 1);
    await settled();
    const after = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:20Z'));
    t.is(after.rows, 1, 'only the new change');
    t.true(before.rows >= 5);

    // an empty table: an empty file says so
    await change(`delete from relief_recipients`, table.rows.length);
    await settled();
    const empty = await engine.runCycle('audit-snapshot', new Date('2026-12-04T09:00:30Z'));
    t.deepEqual(
      empty.files.map((f) => [f.stem, f.rows]),
      [['20261204T090030Z_snapshot', 0]],
    );
    const none = await readWithDuckDB(
      join(outDir, 'audit-snapshot', '20261204T090030Z_snapshot.parquet'),
      'select count(*)::int as n from t',
    );
    t.is(none.rows[0]!.n, 0);
  },
);

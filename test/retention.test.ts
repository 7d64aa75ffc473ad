import test from 'ava';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { waitFor } from './helpers/postgres.ts';
import { busHead, reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';

const server = sharedPostgres('sluice-retention-');
let provider: pg.Client;
let state: pg.Client;
let engine: Engine;
let work: string;

test.before(async () => {
  const f = await reliefFixture(await server.ready(), 'retention', 0);
  ({ provider, state, work } = f);
  const config = f.cfg;
  config.bus = { kind: 'postgres', retention: { keepDelivered: '1s', max: '8s' } };
  const first = config.subscriptions[0]!;
  first.fields = ['id', 'name', 'amount'];
  delete first.masks;
  config.subscriptions.push({ ...first, id: 'audit-stuck' }); // never run: it falls behind
  engine = await startEngine(config, { logger: silentLogger });
});

server.cleanup(async () => {
  await engine?.drain();
  if (work) rmSync(work, { recursive: true, force: true });
});

const one = async <T extends pg.QueryResultRow>(sql: string) => (await state.query<T>(sql)).rows[0];
const busRows = async () => Number((await one<{ n: string }>('select count(*) as n from sluice_bus_batches'))!.n);
const head = () => busHead(state);
const trimmed = async () =>
  Number(
    (await one<{ v: string }>("select trimmed as v from sluice_bus_heads where resource = 'relief-recipients'"))?.v ??
      0,
  );
const metric = async (name: string) => {
  const text = await (await fetch(`${engine.apiUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
};

test.serial(
  'retention: a stuck subscription is warned, then trimmed past and backfilled; delivered changes go after keepDelivered',
  async (t) => {
    await provider.query(`insert into relief_recipients (id, name, amount) values (1, '张三', 1), (2, '李四', 2)`);
    await provider.query(`update relief_recipients set amount = 3 where id = 1`);
    await waitFor('3 changes on the bus', async () => (await head()) >= 3);
    t.is((await engine.runCycle('audit-relief')).rows, 3);

    // audit-stuck has received nothing: keepDelivered does not trim; as max approaches it is warned about
    await new Promise((r) => setTimeout(r, 2_000));
    t.is(await trimmed(), 0, 'what a subscription has not received stays until max');
    await waitFor(
      'the retention left to fall under a quarter of max',
      async () => {
        const left = await metric('sluice_subscription_retention_left_seconds{subscription="audit-stuck"}');
        return left !== null && left < 2;
      },
      10_000,
    );
    // past max: trimmed whatever was received
    await waitFor('the bus trimmed past max', async () => (await trimmed()) === 3, 10_000);
    t.is(await busRows(), 0);
    t.is(await metric('sluice_bus_trimmed_events_total{resource="relief-recipients"}'), 3);

    // a re-delivery cannot reach trimmed changes, and says so
    const refused = await fetch(`${engine.apiUrl}/v1/subscriptions/audit-relief/redeliver`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '1' }),
    });
    t.is(refused.status, 400);
    t.regex(
      ((await refused.json()) as { error: string }).error,
      /changes up to _seq 3 of "relief-recipients" are no longer on the bus/,
    );

    // the stuck subscription's next cycle reports the gap and gets the current state as a backfill, then changes
    await provider.query(`update relief_recipients set name = '王四' where id = 2`);
    const gap = await engine.runCycle('audit-stuck');
    t.deepEqual(gap.gap, { first: 1n, last: 3n });
    t.is(await metric('sluice_retention_gaps_total{subscription="audit-stuck"}'), 1);
    const seen = new Map<number, string>();
    await waitFor(
      'the current state delivered to audit-stuck',
      async () => {
        const r = await engine.runCycle('audit-stuck');
        for (const f of [...gap.files, ...r.files]) {
          const { rows } = await readWithDuckDB(
            join(work, 'out', 'audit-stuck', `${f.stem}.parquet`),
            'select id::int as id, name, _op from t order by _seq',
          );
          for (const row of rows) seen.set(row.id as number, `${row.name as string}/${row._op as string}`);
        }
        gap.files.length = 0;
        return seen.get(1) === '张*/r' && seen.get(2) !== undefined;
      },
      20_000,
    );
    t.is(seen.get(1), '张*/r', 'the row whose changes were trimmed arrives as its current state');
    t.regex(seen.get(2)!, /^王\*\/[ur]$/);

    // once every subscription has received everything, keepDelivered (1 s) trims it too
    await engine.runCycle('audit-relief');
    const all = await head();
    await waitFor('delivered changes trimmed after keepDelivered', async () => (await trimmed()) === all, 10_000);
  },
);

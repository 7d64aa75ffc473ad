import test from 'ava';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../engine/ports/index.ts';
import { startEngine, type Engine } from '../ops/runtime/engine.ts';
import type { SchemaHistory } from '../ops/api/schema-routes.ts';
import type { EngineStatus } from '../ops/runtime/status.ts';
import type { Manifest } from '../schemas/index.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { exitWithin, spawnSluice } from './helpers/engine-process.ts';
import { waitFor } from './helpers/postgres.ts';
import { reliefFixture, sharedPostgres } from './helpers/relief-fixture.ts';

// Schema changes while the engine streams (real Postgres): an added column is unclassified and withheld until a
// provider classifies it, then a subscription that asks for it gets a backfill under the new schema version; a
// dropped column leaves its subscriptions going on without it (flagged in status, also after a restart); a retyped
// column is delivered under a new schema version with its new type; a dropped key column stops the resource with
// an error that says so. A Parquet file never holds two schema versions; its manifest names the one it holds.

const server = sharedPostgres('sluice-schema-');
const fixture = (name: string, rows: number) => reliefFixture(server(), name, rows);

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Waits until the bus holds `n` events of the resource. */
async function onBus(f: Fixture, n: number, what: string) {
  await waitFor(
    what,
    async () => {
      const { rows } = await f.state.query<{ n: string }>(`select count(*)::text as n from sluice_bus_events`);
      return Number(rows[0]!.n) >= n;
    },
    60_000,
  );
}

const manifestOf = (f: Fixture, stem: string): Manifest =>
  JSON.parse(readFileSync(join(f.outDir, 'audit-relief', `${stem}.manifest.json`), 'utf8')) as Manifest;
const parquetOf = (f: Fixture, stem: string) => join(f.outDir, 'audit-relief', `${stem}.parquet`);

async function api<T>(engine: Engine, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${engine.apiUrl}${path}`, init);
  return (await res.json()) as T;
}

test('ADD COLUMN: unclassified and withheld until classified; a subscription that adds it gets a backfill under the new schema version', async (t) => {
  t.timeout(180_000);
  const f = await fixture('addcol', 300);
  let engine = await startEngine(f.cfg, { logger: silentLogger });
  try {
    await onBus(f, 300, 'the initial snapshot');
    const first = await engine.runCycle('audit-relief', new Date('2026-12-04T08:00:00Z'));
    t.is(first.rows, 300);
    t.is(manifestOf(f, first.files[0]!.stem).schemaVersion, 1);

    await f.provider.query(`alter table relief_recipients add column region text`);
    await f.provider.query(`update relief_recipients set region = 'east', amount = 7 where id = 1`);
    await onBus(f, 301, 'the update after the DDL');
    const catalog = await api<{ fields: { name: string; status: string }[] }>(engine, '/v1/catalog/relief-recipients');
    t.like(
      catalog.fields.find((x) => x.name === 'region'),
      { status: 'unclassified' },
      'the new column is in the data map, unclassified',
    );
    const { rows: leaked } = await f.state.query(`select 1 from sluice_bus_events where event::text like '%east%'`);
    t.is(leaked.length, 0, 'an unclassified column never enters the platform');
    const second = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z'));
    t.is(second.rows, 1);
    t.is(manifestOf(f, second.files[0]!.stem).schemaVersion, 1, 'the shared columns did not change');

    // the provider classifies it: the source re-binds, and the stream carries it under a new schema version
    const classified = await fetch(`${engine.apiUrl}/v1/catalog/relief-recipients/fields/region`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ level: 'general', share: 'unconditional' }),
    });
    t.is(classified.status, 200);
    await waitFor('the source to stream again', async () => {
      const s = await engine.status();
      return s.sources[0]!.state === 'STREAMING';
    });
    await f.provider.query(`update relief_recipients set region = 'west' where id = 2`);
    await onBus(f, 302, 'the update after the classification');
    const third = await engine.runCycle('audit-relief', new Date('2026-12-04T10:00:00Z'));
    t.is(third.rows, 1);
    const m3 = manifestOf(f, third.files[0]!.stem);
    t.is(m3.schemaVersion, 2, 'a new schema version: the shared columns grew');
    t.false(
      m3.columns.some((c) => c.name === 'region'),
      'a subscription that did not ask for it does not get it',
    );
    await engine.drain();

    // the subscription asks for it: a backfill of full rows under the new schema version, then its changes
    f.cfg.subscriptions[0]!.fields.push('region');
    engine = await startEngine(f.cfg, { logger: silentLogger });
    await onBus(f, 302 + 300, 'the backfill');
    await f.provider.query(`update relief_recipients set region = 'north' where id = 3`);
    await onBus(f, 603, 'a change after the backfill');
    const fourth = await engine.runCycle('audit-relief', new Date('2026-12-04T11:00:00Z'));
    t.is(fourth.rows, 301);
    for (const file of fourth.files) {
      const m = manifestOf(f, file.stem);
      t.is(m.schemaVersion, 2);
      t.true(m.columns.some((c) => c.name === 'region'));
    }
    const seen: { op: string; region: string | null }[] = [];
    for (const file of fourth.files) {
      const { rows } = await readWithDuckDB(parquetOf(f, file.stem), `select _op as op, region from t`);
      seen.push(...(rows as { op: string; region: string | null }[]));
    }
    const reads = seen.filter((x) => x.op === 'r');
    t.is(reads.length, 300, 'the backfill: every row of the table once');
    t.deepEqual(
      reads
        .filter((x) => x.region !== null)
        .map((x) => x.region)
        .sort(),
      ['east', 'west'],
      'with the values the new column holds',
    );
    t.deepEqual(
      seen.filter((x) => x.op !== 'r'),
      [{ op: 'u', region: 'north' }],
    );
    // each file holds one schema: the old files have no region column at all
    const { types } = await readWithDuckDB(parquetOf(f, first.files[0]!.stem));
    t.false('region' in types);
  } finally {
    await engine.drain();
    rmSync(f.work, { recursive: true, force: true });
  }
});

test('DROP COLUMN: subscriptions that had it go on without it, flagged in status, also after a restart', async (t) => {
  t.timeout(180_000);
  const f = await fixture('dropcol', 50);
  let engine = await startEngine(f.cfg, { logger: silentLogger });
  try {
    await onBus(f, 50, 'the initial snapshot');
    const first = await engine.runCycle('audit-relief', new Date('2026-12-04T08:00:00Z'));
    t.true(manifestOf(f, first.files[0]!.stem).columns.some((c) => c.name === 'notes'));

    await f.provider.query(`alter table relief_recipients drop column notes`);
    await f.provider.query(`update relief_recipients set amount = 9 where id = 1`);
    await onBus(f, 51, 'the update after the DDL');
    const second = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z'));
    t.is(second.rows, 1);
    const m = manifestOf(f, second.files[0]!.stem);
    t.is(m.schemaVersion, 2);
    t.false(
      m.columns.some((c) => c.name === 'notes'),
      'the file has no notes column',
    );
    const { rows } = await readWithDuckDB(
      parquetOf(f, second.files[0]!.stem),
      `select id::int as id, amount::varchar as amount from t`,
    );
    t.deepEqual(rows, [{ id: 1, amount: '9.0000' }]);
    const flagged = (s: EngineStatus) => s.subscriptions.find((x) => x.id === 'audit-relief')!.dropped;
    t.deepEqual(flagged(await engine.status()), ['notes'], 'status flags the dropped field');
    const catalog = await api<{ fields: { name: string; status: string }[] }>(engine, '/v1/catalog/relief-recipients');
    t.like(
      catalog.fields.find((x) => x.name === 'notes'),
      { status: 'dropped' },
    );
    // the history of the resource's schema, through the API and the CLI
    const history = await api<SchemaHistory>(engine, '/v1/resources/relief-recipients/schemas');
    t.is(history.current, 2);
    t.deepEqual(history.versions[1]!.changes, { added: [], dropped: ['notes'], retyped: [] });
    t.deepEqual(history.subscriptions, [{ id: 'audit-relief', dropped: ['notes'] }]);
    const cli = spawnSluice(['schemas', 'relief-recipients', '--api', engine.apiUrl]);
    t.like(await exitWithin(cli, 30_000), { code: 0 });
    t.regex(cli.output(), /^2 \(current\)\s+\d+\s+-notes$/m);
    t.regex(cli.output(), /subscription audit-relief asks for notes, no longer in the table/);
    t.is((await fetch(`${engine.apiUrl}/v1/resources/nope/schemas`)).status, 404);
    await engine.drain();

    // the config still names the column: the engine starts, and goes on without it
    engine = await startEngine(f.cfg, { logger: silentLogger });
    t.deepEqual(flagged(await engine.status()), ['notes']);
    await f.provider.query(`insert into relief_recipients (id, name, amount) values (1000, '新', 1)`);
    await onBus(f, 52, 'an insert after the restart');
    const third = await engine.runCycle('audit-relief', new Date('2026-12-04T10:00:00Z'));
    t.is(third.rows, 1);
    t.is(manifestOf(f, third.files[0]!.stem).schemaVersion, 2, 'the same shape is the same version');
    t.is((await engine.status()).sources[0]!.state, 'STREAMING');
  } finally {
    await engine.drain();
    rmSync(f.work, { recursive: true, force: true });
  }
});

test('a retyped column is delivered with its new type under a new schema version; a dropped key column stops the resource, saying so', async (t) => {
  t.timeout(180_000);
  const f = await fixture('retype', 20);
  const engine = await startEngine(f.cfg, { logger: silentLogger });
  try {
    await onBus(f, 20, 'the initial snapshot');
    const first = await engine.runCycle('audit-relief', new Date('2026-12-04T08:00:00Z'));
    t.like(
      manifestOf(f, first.files[0]!.stem).columns.find((c) => c.name === 'amount'),
      { type: 'decimal(20,4)', sourceType: 'numeric(20,4)' },
    );
    await f.provider.query(`update relief_recipients set amount = 1.5 where id = 1`);
    await f.provider.query(`alter table relief_recipients alter column amount type numeric(30,6)`);
    await f.provider.query(`update relief_recipients set amount = 123456789012345678.123456 where id = 2`);
    await onBus(f, 22, 'the updates around the DDL');
    const second = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z'));
    t.is(second.files.length, 2, 'one file per schema version');
    const [before, after] = second.files.map((x) => manifestOf(f, x.stem));
    t.is(before!.schemaVersion, 1);
    t.is(after!.schemaVersion, 2);
    t.like(
      after!.columns.find((c) => c.name === 'amount'),
      { type: 'decimal(30,6)', sourceType: 'numeric(30,6)' },
    );
    const { rows, types } = await readWithDuckDB(
      parquetOf(f, second.files[1]!.stem),
      `select amount::varchar as amount from t`,
    );
    t.deepEqual(rows, [{ amount: '123456789012345678.123456' }]);
    t.is(types.amount, 'DECIMAL(30,6)');

    // a key column gone: changes could no longer name their rows — the source stops and says why
    await f.provider.query(`alter table relief_recipients drop column id`);
    await f.provider.query(`insert into relief_recipients (name) values ('no key')`);
    await waitFor('the source to fail', async () => (await engine.status()).sources[0]!.state === 'FAILED');
    t.regex(
      (await engine.status()).sources[0]!.error ?? '',
      /resource "relief-recipients": key column "id" is gone from public\.relief_recipients/,
    );
  } finally {
    await engine.drain();
    rmSync(f.work, { recursive: true, force: true });
  }
});

test('a field withheld by a runtime classification and shared again is backfilled to the subscription asking for it', async (t) => {
  t.timeout(180_000);
  const f = await fixture('reclass', 100);
  const engine = await startEngine(f.cfg, { logger: silentLogger });
  const classify = async (share: string) => {
    const res = await fetch(`${engine.apiUrl}/v1/catalog/relief-recipients/fields/notes`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ level: 'general', share }),
    });
    t.is(res.status, 200);
  };
  const streaming = () =>
    waitFor('the source to stream again', async () => (await engine.status()).sources[0]!.state === 'STREAMING');
  try {
    await onBus(f, 100, 'the initial snapshot');
    t.is((await engine.runCycle('audit-relief', new Date('2026-12-04T08:00:00Z'))).rows, 100);

    await classify('none');
    await streaming();
    await f.provider.query(`update relief_recipients set notes = 'while withheld' where id = 1`);
    await onBus(f, 101, 'the update while withheld');
    const withheld = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z'));
    t.false(
      manifestOf(f, withheld.files[0]!.stem).columns.some((c) => c.name === 'notes'),
      'withheld from the file',
    );
    const { rows: leaked } = await f.state.query(
      `select 1 from sluice_bus_events where event::text like '%while withheld%'`,
    );
    t.is(leaked.length, 0, 'and from the platform');

    await classify('unconditional');
    await onBus(f, 201, 'the backfill of the field shared again');
    const again = await engine.runCycle('audit-relief', new Date('2026-12-04T10:00:00Z'));
    t.is(again.rows, 100);
    const { rows } = await readWithDuckDB(
      parquetOf(f, again.files[0]!.stem),
      `select count(*)::int as n, count(notes)::int as notes, max(notes) filter (where id = 1) as first from t where _op = 'r'`,
    );
    t.deepEqual(rows, [{ n: 100, notes: 100, first: 'while withheld' }]);
    const { rows: targets } = await f.state.query<{ target: string | null; n: string }>(
      `select event ->> 'target' as target, count(*)::text as n from sluice_bus_events where event ->> 'op' = 'r' and seq > 101 group by 1`,
    );
    t.deepEqual(targets, [{ target: 'audit-relief', n: '100' }], 'a backfill of that subscription only');
  } finally {
    await engine.drain();
    rmSync(f.work, { recursive: true, force: true });
  }
});

test('a subscription adds a new column through the API (sluice fields): checked, stored, backfilled, kept across a restart, reset', async (t) => {
  t.timeout(180_000);
  const f = await fixture('apifields', 40);
  let engine = await startEngine(f.cfg, { logger: silentLogger });
  const sluice = async (...args: string[]) => {
    const p = spawnSluice([...args, '--api', engine.apiUrl]);
    const { code } = await exitWithin(p, 30_000);
    return { code, out: p.output() };
  };
  try {
    await onBus(f, 40, 'the initial snapshot');
    t.is((await engine.runCycle('audit-relief', new Date('2026-12-04T08:00:00Z'))).rows, 40);
    await f.provider.query(`alter table relief_recipients add column region text default 'south'`);

    // not classified yet: refused, with the reason, and nothing stored
    const early = await sluice('fields', 'audit-relief', '--add', 'region');
    t.is(early.code, 2);
    t.regex(
      early.out,
      /subscription "audit-relief": fields\[8\]: field "region" is not classified in resource "relief-recipients"/,
    );
    t.is((await api<{ override?: unknown }>(engine, '/v1/subscriptions/audit-relief/fields')).override, undefined);

    const classified = await fetch(`${engine.apiUrl}/v1/catalog/relief-recipients/fields/region`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ level: 'general', share: 'unconditional' }),
    });
    t.is(classified.status, 200);
    const added = await sluice('fields', 'audit-relief', '--add', 'region', '--by', 'ops');
    t.is(added.code, 0, added.out);
    t.regex(added.out, /^audit-relief: id, name, .*, region \(runtime override by ops at /m);
    t.regex(added.out, /backfill requested \(fields added: region\)/);
    await onBus(f, 80, 'the backfill');
    const backfilled = await engine.runCycle('audit-relief', new Date('2026-12-04T09:00:00Z'));
    t.is(backfilled.rows, 40);
    const m = manifestOf(f, backfilled.files[0]!.stem);
    t.is(m.schemaVersion, 2);
    const { rows } = await readWithDuckDB(
      parquetOf(f, backfilled.files[0]!.stem),
      `select _op, count(*)::int as n, min(region) as region from t group by _op`,
    );
    t.deepEqual(rows, [{ _op: 'r', n: 40, region: 'south' }]);
    await engine.drain();

    // stored: a restart keeps the override (and asks for no second backfill)
    engine = await startEngine(f.cfg, { logger: silentLogger });
    const status = await engine.status();
    t.like(status.subscriptions[0], { fieldsOverride: { by: 'ops' } });
    t.true(status.subscriptions[0]!.fields.includes('region'));
    await f.provider.query(`update relief_recipients set region = 'north' where id = 1`);
    await onBus(f, 81, 'a change after the restart');
    const next = await engine.runCycle('audit-relief', new Date('2026-12-04T10:00:00Z'));
    t.is(next.rows, 1, 'no second backfill');

    const reset = await sluice('fields', 'audit-relief', '--reset');
    t.is(reset.code, 0, reset.out);
    t.regex(reset.out, /\(from the config\)/);
    await f.provider.query(`update relief_recipients set region = 'west' where id = 2`);
    await onBus(f, 82, 'a change after the reset');
    const after = await engine.runCycle('audit-relief', new Date('2026-12-04T11:00:00Z'));
    t.false(manifestOf(f, after.files[0]!.stem).columns.some((c) => c.name === 'region'));
    const unknown = await sluice('fields', 'nope');
    t.is(unknown.code, 1);
    t.regex(unknown.out, /unknown subscription "nope"/);
  } finally {
    await engine.drain();
    rmSync(f.work, { recursive: true, force: true });
  }
});

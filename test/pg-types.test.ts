import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { silentLogger } from '../engine/ports/index.ts';
import type { Manifest } from '../schemas/index.ts';
import { startEngine } from '../ops/runtime/engine.ts';
import { readWithDuckDB } from './helpers/duckdb.ts';
import { DEBIAN_PG15_BIN, startPostgres, waitFor } from './helpers/postgres.ts';
import { tableConfig } from './helpers/table-config.ts';

/**
 * Every type of DESIGN.md's Postgres → Parquet table, end to end (pgoutput decoder → bus → masked Parquet), read back
 * by DuckDB with the expected SQL type and exact value — on PostgreSQL 18 (embedded) and Debian's PostgreSQL 15.
 */

const DDL = `
  create type mood as enum ('sad', 'ok', 'happy');
  create domain positive_int as integer check (value > 0);
  create domain short_code as varchar(8);
  create table all_types (
    id bigint primary key,
    i2 smallint, i4 integer, i8 bigint,
    n_fixed numeric(12,3), n_max numeric(38,10), n_wide numeric(50,5), n_free numeric,
    f4 real, f8 double precision, b boolean,
    t text, vc varchar(20), ch char(5),
    d date, tm time, ts timestamp, tstz timestamptz(6),
    iv interval, u uuid, j json, jb jsonb, by bytea,
    e mood, dom positive_int, dom_s short_code,
    arr_i int[], arr_t text[], arr_n numeric(10,2)[], arr_d date[], arr_ts timestamptz[], arr_2d int[],
    arr_e mood[], arr_dom positive_int[]
  )`;

const FIELDS = [
  'id', 'i2', 'i4', 'i8', 'n_fixed', 'n_max', 'n_wide', 'n_free', 'f4', 'f8', 'b', 't', 'vc', 'ch', 'd', 'tm', 'ts',
  'tstz', 'iv', 'u', 'j', 'jb', 'by', 'e', 'dom', 'dom_s', 'arr_i', 'arr_t', 'arr_n', 'arr_d', 'arr_ts', 'arr_2d',
  'arr_e', 'arr_dom',
]; // prettier-ignore

const ROWS = `
  insert into all_types values (
    1, -32768, 2147483647, 9223372036854775807,
    -123456789.123, 1234567890123456789012345678.0123456789, 123456789012345678901234567890123456789012345.12345,
    3.14159265358979323846264338327950288419716939937510,
    1.5, 0.1, true,
    '长文本 with ünïcödé 😀', 'varchar', 'ab',
    '2024-02-29', '23:59:59.999999', '2024-01-01 12:34:56.789012', '2024-06-30 23:59:59.999999+08',
    '1 year 2 months 3 days 04:05:06.789', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": 1, "a": [1, 2]}',
    '{"b": 1, "a": [1, 2]}', '\\xdeadbeef00',
    'happy', 42, 'X1',
    '{1,NULL,-3}', '{"a b","c\\"d",NULL,"NULL",""}', '{1.50,-2}', '{2024-01-01,0044-03-15 BC}',
    '{"2024-01-01 00:00:00.000001+00"}', '{1,2}', '{sad,happy}', '{1,2}'
  ), (
    2, null, null, -9223372036854775808,
    'NaN', null, null, 'Infinity',
    'NaN', '-Infinity', false,
    '', '', '',
    'infinity', '24:00:00', '-infinity', 'infinity',
    '-3 days -00:00:01', null, 'null', '[]', '\\x',
    'sad', 1, '',
    '{}', '{}', '{1.00,NaN}', '{infinity}', '{}', '{{1,2},{3,4}}', '{}', '{}'
  ), (
    3, null, null, null, null, null, null, null, null, null, null, null, null, null,
    '0044-03-15 BC', null, '0001-01-01 00:00:00 BC', '0044-03-15 12:00:00+00 BC',
    null, null, null, null, null, null, null, null, null, null, null, null, null, '[0:1]={7,8}', null, null
  )`;

const EXPECTED_TYPES: Record<string, string> = {
  id: 'BIGINT',
  i2: 'SMALLINT',
  i4: 'INTEGER',
  i8: 'BIGINT',
  n_fixed: 'DECIMAL(12,3)',
  n_max: 'DECIMAL(38,10)',
  n_wide: 'VARCHAR',
  n_free: 'VARCHAR',
  f4: 'FLOAT',
  f8: 'DOUBLE',
  b: 'BOOLEAN',
  t: 'VARCHAR',
  vc: 'VARCHAR',
  ch: 'VARCHAR',
  d: 'DATE',
  tm: 'TIME',
  ts: 'TIMESTAMP',
  tstz: 'TIMESTAMP WITH TIME ZONE',
  iv: 'VARCHAR',
  u: 'VARCHAR',
  j: 'VARCHAR',
  jb: 'VARCHAR',
  by: 'BLOB',
  e: 'VARCHAR',
  dom: 'INTEGER',
  dom_s: 'VARCHAR',
  arr_i: 'INTEGER[]',
  arr_t: 'VARCHAR[]',
  arr_n: 'DECIMAL(10,2)[]',
  arr_d: 'DATE[]',
  arr_ts: 'TIMESTAMP WITH TIME ZONE[]',
  arr_2d: 'INTEGER[]',
  arr_e: 'VARCHAR[]',
  arr_dom: 'INTEGER[]',
  _op: 'VARCHAR',
  _seq: 'BIGINT',
  _commit_ts: 'TIMESTAMP WITH TIME ZONE',
  _quality: 'VARCHAR',
};

const SELECT = `select ${FIELDS.filter((f) => !f.startsWith('arr_') && f !== 'by')
  .map((f) => `"${f}"::varchar as "${f}"`)
  .join(', ')}, hex("by") as "by", ${FIELDS.filter((f) => f.startsWith('arr_'))
  // decimals as DuckDB's own text (to_json drops trailing zeros), the other lists as JSON
  .map((f) => (f === 'arr_n' ? `"${f}"::varchar as "${f}"` : `to_json("${f}")::varchar as "${f}"`))
  .join(', ')}, _op, _quality from t order by id`;

for (const [label, binDir] of [
  ['PostgreSQL 18 (embedded)', undefined],
  ['PostgreSQL 15 (Debian)', DEBIAN_PG15_BIN],
] as const) {
  test(`${label}: every type round-trips into Parquet with the right DuckDB type and exact value`, async (t) => {
    const server = await startPostgres('sluice-types-', {}, binDir);
    const work = mkdtempSync(join(tmpdir(), 'sluice-types-run-'));
    const outDir = join(work, 'out');
    try {
      const { client, url } = await server.database('provider');
      await client.query(DDL);
      const stateUrl = (await server.database('state')).url;
      const engine = await startEngine(
        tableConfig({
          dataDir: join(work, 'data'),
          providerUrl: url,
          stateUrl,
          outDir,
          table: 'public.all_types',
          key: ['id'],
          fields: FIELDS,
        }),
        { logger: silentLogger },
      );
      try {
        await client.query(ROWS);
        await waitFor('3 rows on the bus', async () => (await busHead(stateUrl)) >= 3);
        const result = await engine.runCycle('all', new Date('2026-12-03T08:00:00Z'));
        t.is(result.files.length, 1);
        const stem = result.files[0]!.stem;
        const { types, rows } = await readWithDuckDB(join(outDir, 'all', `${stem}.parquet`), SELECT);
        t.deepEqual(types, EXPECTED_TYPES);
        const [r1, r2, r3] = rows;
        t.like(r1, {
          i2: '-32768',
          i4: '2147483647',
          i8: '9223372036854775807',
          n_fixed: '-123456789.123',
          n_max: '1234567890123456789012345678.0123456789',
          n_wide: '123456789012345678901234567890123456789012345.12345',
          n_free: '3.14159265358979323846264338327950288419716939937510',
          f4: '1.5',
          f8: '0.1',
          b: 'true',
          t: '长文本 with ünïcödé 😀',
          vc: 'varchar',
          ch: 'ab   ', // char(n) keeps its padding
          d: '2024-02-29',
          tm: '23:59:59.999999',
          ts: '2024-01-01 12:34:56.789012',
          tstz: '2024-06-30 15:59:59.999999+00',
          iv: 'P1Y2M3DT4H5M6.789S', // ISO 8601
          u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', // canonical text
          j: '{"b": 1, "a": [1, 2]}', // json: the text as stored
          jb: '{"a": [1, 2], "b": 1}', // jsonb: normalized by the server
          by: 'DEADBEEF00',
          e: 'happy',
          dom: '42',
          dom_s: 'X1',
          arr_i: '[1,null,-3]',
          arr_t: '["a b","c\\"d",null,"NULL",""]',
          arr_n: '[1.50, -2.00]',
          arr_d: '["2024-01-01","0044-03-15 (BC)"]',
          arr_ts: '["2024-01-01 00:00:00.000001+00"]',
          arr_2d: '[1,2]',
          arr_e: '["sad","happy"]',
          arr_dom: '[1,2]',
          _op: 'c',
          _quality: null,
        });
        // Values no Parquet type can hold: NULL, with the raw text in _quality; the others are exact.
        t.like(r2, {
          i8: '-9223372036854775808',
          n_fixed: null,
          n_free: 'Infinity', // exact text column: Infinity is a value
          f4: 'nan',
          f8: '-inf',
          b: 'false',
          t: '',
          ch: '     ',
          d: null,
          tm: '24:00:00',
          ts: null,
          tstz: null,
          iv: 'P-3DT-1S',
          j: 'null',
          jb: '[]',
          by: '',
          e: 'sad',
          dom: '1',
          dom_s: '',
          arr_i: '[]',
          arr_n: null,
          arr_d: null,
          arr_2d: null,
        });
        t.deepEqual(JSON.parse(String(r2!._quality)), {
          n_fixed: 'NaN',
          d: 'infinity',
          ts: '-infinity',
          tstz: 'infinity',
          arr_n: '["1.00","NaN"]',
          arr_d: '["infinity"]',
          arr_2d: '[["1","2"],["3","4"]]',
        });
        // BC dates and timestamps are values; an array with explicit bounds has no LIST value
        t.like(r3, {
          d: '0044-03-15 (BC)',
          ts: '0001-01-01 (BC) 00:00:00',
          tstz: '0044-03-15 (BC) 12:00:00+00',
          i2: null,
          t: null,
          arr_i: null,
          arr_2d: null,
        });
        t.deepEqual(JSON.parse(String(r3!._quality)), { arr_2d: '[0:1]={7,8}' });

        const manifest = JSON.parse(readFileSync(join(outDir, 'all', `${stem}.manifest.json`), 'utf8')) as Manifest;
        const unrepresentable = manifest.quality.filter((q) => q.check === 'unrepresentable');
        t.deepEqual(
          unrepresentable.map((q) => `${q.seq}:${q.column}`).sort(),
          ['2:arr_2d', '2:arr_d', '2:arr_n', '2:d', '2:n_fixed', '2:ts', '2:tstz', '3:arr_2d'].sort(),
        );
        t.true(unrepresentable.every((q) => q.detail.includes('_quality')));
        t.is(manifest.quality.length, unrepresentable.length, 'nothing else was nulled');
        const cols = Object.fromEntries(manifest.columns.map((c) => [c.name, c]));
        t.is(cols.arr_n?.type, 'list<decimal(10,2)>');
        t.is(cols.arr_n?.sourceType, 'numeric(10,2)[]');
        t.is(cols.dom?.sourceType, 'integer');
        t.is(cols._quality?.type, 'json');
      } finally {
        await engine.drain();
      }
    } finally {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
}

async function busHead(stateUrl: string): Promise<number> {
  const c = new pg.Client({ connectionString: stateUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ seq: string }>("select seq from sluice_bus_heads where resource = 'things'");
    return Number(rows[0]?.seq ?? 0);
  } finally {
    await c.end();
  }
}

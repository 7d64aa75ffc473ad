import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeParquet, readParquetFile } from './index.ts';
import { ALL_ROWS, ALL_TYPES, bigInput, Duck, input } from './test-fixtures.ts';

let duck: Duck;

test.before(async () => {
  duck = await Duck.open();
});

test.after.always(() => duck?.close());

test('readParquetFile returns schema, row count, metadata and exact head rows', (t) => {
  const metadata = { 'sluice.table': 'public.all_types', 'sluice.batch': '7' };
  const { bytes } = encodeParquet(input(ALL_TYPES, ALL_ROWS, { metadata }));
  const info = readParquetFile(bytes);
  t.deepEqual(info.schema, [
    { name: 'i2', type: 'int16' },
    { name: 'i4', type: 'int32' },
    { name: 'i8', type: 'int64' },
    { name: 'num', type: 'decimal(20,4)' },
    { name: 'f8', type: 'float64' },
    { name: 'f4', type: 'float32' },
    { name: 'b', type: 'bool' },
    { name: 's', type: 'utf8' },
    { name: 'j', type: 'utf8' },
    { name: 'bin', type: 'binary' },
    { name: 'd', type: 'date' },
    { name: 't', type: 'time' },
    { name: 'ts', type: 'timestamp' },
    { name: 'tstz', type: 'timestamptz' },
  ]);
  t.is(info.rows, 4);
  t.deepEqual(info.metadata, metadata);
  const head = info.head(2);
  t.is(head.length, 2);
  t.deepEqual(head[0], {
    i2: -32768,
    i4: 2147483647,
    i8: '9007199254740993',
    num: '1234567890123456.7891',
    f8: 3.141592653589793,
    f4: 1.5,
    b: true,
    s: '张三',
    j: '{"a":1}',
    bin: '0a0bff',
    d: '2024-02-29',
    t: '23:59:59.999999',
    ts: '2024-01-02T03:04:05.123456',
    tstz: '2024-01-01T19:04:05.123456Z',
  });
  t.is(head[1]?.['i8'], '-9223372036854775808');
  t.is(head[1]?.['num'], '-1234567890123456.7891');
  t.true(Number.isNaN(head[1]?.['f8']));
  t.is(head[1]?.['tstz'], '1999-12-31T18:30:00.000001Z');
  const all = info.head(100);
  t.is(all.length, 4);
  t.true(Object.values(all[2] ?? {}).every((v) => v === null));
  t.is(all[3]?.['tstz'], '1969-12-31T23:59:59.999999Z');
  t.is(all[3]?.['t'], '24:00:00.000000');
  t.is(all[3]?.['d'], '0001-01-01');
});

test('readParquetFile reads a file DuckDB wrote', async (t) => {
  const path = join(duck.dir, 'duck.parquet');
  await duck.conn.run(
    `COPY (SELECT 42::BIGINT AS id, 'x' AS s, 12.5::DECIMAL(10,2) AS amt, ` +
      `'2024-05-06 07:08:09.123456+00'::TIMESTAMPTZ AS ts) TO '${path}' (FORMAT parquet, KV_METADATA {k: 'v'})`,
  );
  const info = readParquetFile(readFileSync(path));
  t.is(info.rows, 1);
  t.is(info.metadata['k'], 'v');
  t.deepEqual(info.head(1)[0], { id: '42', s: 'x', amt: '12.50', ts: '2024-05-06T07:08:09.123456Z' });
});

test('readParquetFile agrees with DuckDB on a multi-row-group file', async (t) => {
  const { bytes } = encodeParquet(bigInput(5000, { rowGroupRows: 1000, metadata: { a: '1', b: '2' } }));
  const path = duck.save(bytes);
  const info = readParquetFile(bytes);
  const [count] = await duck.query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${path}')`);
  t.is(info.rows, count?.['n'] as number);
  t.deepEqual(info.metadata, { a: '1', b: '2' });
  const head = info.head(1500);
  t.is(head.length, 1500);
  const rows = await duck.query(`SELECT id::VARCHAR AS id, name FROM read_parquet('${path}') LIMIT 1500`);
  t.deepEqual(head, rows);
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import test from 'ava';
import type { ColumnSpec, ColumnType } from '../../../schemas/column-type.ts';
import { encodeParquet, readParquetFile, type ParquetInput } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-parquet-'));
let db: DuckDBInstance;
let conn: DuckDBConnection;
let fileNo = 0;

test.before(async () => {
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
  await conn.run("SET TimeZone = 'UTC'").catch(() => undefined);
});

test.after.always(() => {
  conn?.closeSync();
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

function save(bytes: Uint8Array): string {
  const path = join(dir, `f${fileNo++}.parquet`);
  writeFileSync(path, bytes);
  return path;
}

type Row = Record<string, unknown>;

async function query(sql: string): Promise<Row[]> {
  const r = await conn.runAndReadAll(sql);
  return r.getRowObjectsJson() as Row[];
}

/** A one-column-per-entry input from row-major literals. */
function input(
  cols: [string, ColumnType][],
  rows: (string | null)[][],
  extra: Partial<ParquetInput> = {},
): ParquetInput {
  const columns: ColumnSpec[] = cols.map(([name, type]) => ({ name, type }));
  return {
    columns,
    rows: rows.length,
    values: columns.map((_, c) => rows.map((r) => r[c] ?? null)),
    metadata: {},
    ...extra,
  };
}

const ALL_TYPES: [string, ColumnType][] = [
  ['i2', { kind: 'int16' }],
  ['i4', { kind: 'int32' }],
  ['i8', { kind: 'int64' }],
  ['num', { kind: 'decimal', precision: 20, scale: 4 }],
  ['f8', { kind: 'float64' }],
  ['f4', { kind: 'float32' }],
  ['b', { kind: 'bool' }],
  ['s', { kind: 'utf8' }],
  ['j', { kind: 'utf8', json: true }],
  ['bin', { kind: 'binary' }],
  ['d', { kind: 'date' }],
  ['t', { kind: 'time' }],
  ['ts', { kind: 'timestamp', tz: null }],
  ['tstz', { kind: 'timestamp', tz: 'UTC' }],
];

const ALL_ROWS: (string | null)[][] = [
  [
    '-32768',
    '2147483647',
    '9007199254740993',
    '1234567890123456.7891',
    '3.141592653589793',
    '1.5',
    't',
    '张三',
    '{"a":1}',
    '\\x0a0bff',
    '2024-02-29',
    '23:59:59.999999',
    '2024-01-02 03:04:05.123456',
    '2024-01-02 03:04:05.123456+08',
  ],
  [
    '32767',
    '-2147483648',
    '-9223372036854775808',
    '-1234567890123456.7891',
    'NaN',
    '-Infinity',
    'f',
    'Ünïcödé 😀 欧阳娜娜',
    '[]',
    '\\x',
    '1970-01-01',
    '00:00:00',
    '1999-12-31T23:59:59',
    '2000-01-01 00:00:00.000001+05:30',
  ],
  [null, null, null, null, null, null, null, null, null, null, null, null, null, null],
  [
    '0',
    '0',
    '9223372036854775807',
    '0.0001',
    '-0',
    'Infinity',
    'true',
    '',
    'null',
    '\\xDEADbeef',
    '0001-01-01',
    '24:00:00',
    '1900-03-01 00:00:00.5',
    '1969-12-31 23:59:59.999999Z',
  ],
];

test('DuckDB reads every column type as the expected SQL type', async (t) => {
  const { bytes, quality } = encodeParquet(input(ALL_TYPES, ALL_ROWS));
  t.deepEqual(quality, []);
  const path = save(bytes);
  const described = await query(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
  t.deepEqual(
    described.map((r) => [r['column_name'], r['column_type'], r['null']]),
    [
      ['i2', 'SMALLINT', 'YES'],
      ['i4', 'INTEGER', 'YES'],
      ['i8', 'BIGINT', 'YES'],
      ['num', 'DECIMAL(20,4)', 'YES'],
      ['f8', 'DOUBLE', 'YES'],
      ['f4', 'FLOAT', 'YES'],
      ['b', 'BOOLEAN', 'YES'],
      ['s', 'VARCHAR', 'YES'],
      ['j', 'VARCHAR', 'YES'],
      ['bin', 'BLOB', 'YES'],
      ['d', 'DATE', 'YES'],
      ['t', 'TIME', 'YES'],
      ['ts', 'TIMESTAMP', 'YES'],
      ['tstz', 'TIMESTAMP WITH TIME ZONE', 'YES'],
    ],
  );
  // Strings are plain BYTE_ARRAY / UTF8, not an Arrow dictionary type.
  const schema = await query(`SELECT name, type, logical_type FROM parquet_schema('${path}') WHERE name = 's'`);
  t.is(schema[0]?.['type'], 'BYTE_ARRAY');
});

test('values round-trip exactly through DuckDB', async (t) => {
  const path = save(encodeParquet(input(ALL_TYPES, ALL_ROWS)).bytes);
  const cols = ALL_TYPES.map(([n]) => (n === 'bin' ? `hex(${n}) AS ${n}` : `${n}::VARCHAR AS ${n}`)).join(', ');
  const rows = await query(`SELECT ${cols} FROM read_parquet('${path}')`);
  t.deepEqual(rows[0], {
    i2: '-32768',
    i4: '2147483647',
    i8: '9007199254740993',
    num: '1234567890123456.7891',
    f8: '3.141592653589793',
    f4: '1.5',
    b: 'true',
    s: '张三',
    j: '{"a":1}',
    bin: '0A0BFF',
    d: '2024-02-29',
    t: '23:59:59.999999',
    ts: '2024-01-02 03:04:05.123456',
    tstz: '2024-01-01 19:04:05.123456+00',
  });
  t.deepEqual(rows[1], {
    i2: '32767',
    i4: '-2147483648',
    i8: '-9223372036854775808',
    num: '-1234567890123456.7891',
    f8: 'nan',
    f4: '-inf',
    b: 'false',
    s: 'Ünïcödé 😀 欧阳娜娜',
    j: '[]',
    bin: '',
    d: '1970-01-01',
    t: '00:00:00',
    ts: '1999-12-31 23:59:59',
    tstz: '1999-12-31 18:30:00.000001+00',
  });
  t.true(Object.values(rows[2] ?? {}).every((v) => v === null));
  t.deepEqual(rows[3], {
    i2: '0',
    i4: '0',
    i8: '9223372036854775807',
    num: '0.0001',
    f8: '-0.0',
    f4: 'inf',
    b: 'true',
    s: '',
    j: 'null',
    bin: 'DEADBEEF',
    d: '0001-01-01',
    t: '24:00:00',
    ts: '1900-03-01 00:00:00.5',
    tstz: '1969-12-31 23:59:59.999999+00',
  });
  // Exact comparisons on DuckDB's side too, not only its text form.
  const exact = await query(
    `SELECT count(*)::INTEGER AS n FROM read_parquet('${path}') WHERE i8 = 9007199254740993 ` +
      `AND num = 1234567890123456.7891::DECIMAL(20,4) AND tstz = '2024-01-01 19:04:05.123456+00'::TIMESTAMPTZ`,
  );
  t.is(exact[0]?.['n'], 1);
});

test('values with no Parquet representation become null plus a quality issue', async (t) => {
  const cols: [string, ColumnType][] = [
    ['num', { kind: 'decimal', precision: 10, scale: 2 }],
    ['i8', { kind: 'int64' }],
    ['d', { kind: 'date' }],
    ['tstz', { kind: 'timestamp', tz: 'UTC' }],
  ];
  const rows = [
    ['12.50', '1', '2024-01-01', '2024-01-01 00:00:00+00'],
    ['NaN', 'abc', 'infinity', 'infinity'],
    ['Infinity', '9223372036854775808', '0044-03-15 BC', '-infinity'],
    ['-Infinity', '1.5', '2023-02-29', '2024-13-01 00:00:00+00'],
    ['123456789.00', '', '-infinity', '2024-01-01 00:00:00.1234567+00'],
  ];
  const { bytes, quality } = encodeParquet(input(cols, rows));
  const byColumnThenRow = (a: unknown[], b: unknown[]): number =>
    (a[0] as string).localeCompare(b[0] as string) || (a[1] as number) - (b[1] as number);
  t.deepEqual(
    quality.map((q) => [q.column, q.row, q.raw]).sort(byColumnThenRow),
    [
      ['num', 1, 'NaN'],
      ['i8', 1, 'abc'],
      ['d', 1, 'infinity'],
      ['tstz', 1, 'infinity'],
      ['num', 2, 'Infinity'],
      ['i8', 2, '9223372036854775808'],
      ['d', 2, '0044-03-15 BC'],
      ['tstz', 2, '-infinity'],
      ['num', 3, '-Infinity'],
      ['i8', 3, '1.5'],
      ['d', 3, '2023-02-29'],
      ['tstz', 3, '2024-13-01 00:00:00+00'],
      ['num', 4, '123456789.00'],
      ['i8', 4, ''],
      ['d', 4, '-infinity'],
      ['tstz', 4, '2024-01-01 00:00:00.1234567+00'],
    ].sort(byColumnThenRow),
  );
  t.true(quality.every((q) => q.reason.length > 0));
  t.regex(quality.find((q) => q.raw === 'NaN')?.reason ?? '', /NaN/);
  const path = save(bytes);
  const back = await query(
    `SELECT num::VARCHAR AS num, i8::VARCHAR AS i8, d::VARCHAR AS d FROM read_parquet('${path}')`,
  );
  t.deepEqual(back[0], { num: '12.50', i8: '1', d: '2024-01-01' });
  t.true(back.slice(1).every((r) => r['num'] === null && r['i8'] === null && r['d'] === null));
});

test('an unsupported ColumnType is a clear error, not a quality issue', (t) => {
  const bad = { kind: 'interval' } as unknown as ColumnType;
  t.throws(() => encodeParquet(input([['x', bad]], [['P1D']])), { message: /unsupported ColumnType/ });
  t.throws(() => encodeParquet(input([['x', { kind: 'decimal', precision: 50, scale: 2 }]], [['1']])), {
    message: /precision 50/,
  });
  t.throws(
    () => encodeParquet({ columns: [{ name: 'a', type: { kind: 'int32' } }], rows: 2, values: [['1']], metadata: {} }),
    { message: /has 1 values, expected 2/ },
  );
});

function bigInput(rows: number, extra: Partial<ParquetInput> = {}): ParquetInput {
  const id: string[] = new Array(rows);
  const name: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    id[r] = String(r);
    name[r] = r % 3 === 0 ? `名字${r}` : `name${r}`;
  }
  return {
    columns: [
      { name: 'id', type: { kind: 'int64' } },
      { name: 'name', type: { kind: 'utf8' } },
    ],
    rows,
    values: [id, name],
    metadata: { 'sluice.table': 'public.people' },
    ...extra,
  };
}

test('row groups of at most rowGroupRows rows, ZSTD by default', async (t) => {
  const path = save(encodeParquet(bigInput(150_000, { rowGroupRows: 65536 })).bytes);
  const groups = await query(
    `SELECT row_group_id::INTEGER AS g, any_value(row_group_num_rows)::INTEGER AS n, ` +
      `string_agg(DISTINCT compression, ',') AS c FROM parquet_metadata('${path}') GROUP BY 1 ORDER BY 1`,
  );
  t.deepEqual(groups, [
    { g: 0, n: 65536, c: 'ZSTD' },
    { g: 1, n: 65536, c: 'ZSTD' },
    { g: 2, n: 18928, c: 'ZSTD' },
  ]);
  // Dictionary encoding for strings only; ids and timestamps are written plain.
  const encodings = await query(
    `SELECT path_in_schema AS p, any_value(encodings) AS e FROM parquet_metadata('${path}') GROUP BY 1 ORDER BY 1`,
  );
  t.deepEqual(encodings, [
    { p: 'id', e: 'PLAIN, RLE' },
    { p: 'name', e: 'PLAIN, RLE, RLE_DICTIONARY' },
  ]);
  const stats = await query(
    `SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS d, max(id)::VARCHAR AS m, ` +
      `sum(CASE WHEN name = '名字149997' THEN 1 ELSE 0 END)::INTEGER AS zh FROM read_parquet('${path}')`,
  );
  t.deepEqual(stats[0], { n: 150_000, d: 150_000, m: '149999', zh: 1 });
});

test('compression snappy and none', async (t) => {
  for (const [compression, expected] of [
    ['snappy', 'SNAPPY'],
    ['none', 'UNCOMPRESSED'],
  ] as const) {
    const path = save(encodeParquet(bigInput(1000, { compression })).bytes);
    const r = await query(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
    t.deepEqual(
      r.map((x) => x['compression']),
      [expected],
    );
  }
});

test('key-value metadata is readable by DuckDB', async (t) => {
  const metadata = { 'sluice.table': 'public.订单', 'sluice.lsn': '0/16B3748', 'sluice.types': '{"id":"int64"}' };
  const path = save(encodeParquet(bigInput(10, { metadata })).bytes);
  const kv = await query(
    `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path}') WHERE decode(key) <> 'ARROW:schema' ORDER BY 1`,
  );
  t.deepEqual(
    kv,
    Object.entries(metadata)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => ({ k, v })),
  );
});

test('output is deterministic: the same input gives byte-identical files', (t) => {
  const metadata: Record<string, string> = {};
  for (let k = 0; k < 20; k++) metadata[`key${k}`] = `value${k}`;
  const a = encodeParquet(bigInput(70_000, { metadata, rowGroupRows: 30_000 })).bytes;
  const b = encodeParquet(bigInput(70_000, { metadata, rowGroupRows: 30_000 })).bytes;
  const c = encodeParquet(input(ALL_TYPES, ALL_ROWS, { metadata })).bytes;
  const d = encodeParquet(input(ALL_TYPES, ALL_ROWS, { metadata })).bytes;
  t.true(Buffer.from(a).equals(b));
  t.true(Buffer.from(c).equals(d));
  // Insertion order of the metadata object does not matter either.
  const reversed = Object.fromEntries(Object.entries(metadata).reverse());
  t.true(Buffer.from(encodeParquet(input(ALL_TYPES, ALL_ROWS, { metadata: reversed })).bytes).equals(c));
});

test('zero rows still make a valid file with the schema', async (t) => {
  const { bytes } = encodeParquet(input(ALL_TYPES, []));
  const path = save(bytes);
  const n = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${path}')`);
  t.is(n[0]?.['n'], 0);
  const info = readParquetFile(bytes);
  t.is(info.rows, 0);
  t.is(info.schema.length, ALL_TYPES.length);
  t.deepEqual(info.head(5), []);
});

test('long and multi-byte strings round-trip (JS and native UTF-8 paths)', async (t) => {
  const strings = [
    'a'.repeat(1000),
    '中文'.repeat(300),
    '😀'.repeat(200),
    `mixed ${'é'.repeat(50)} ${'张'.repeat(100)}`,
    'lone \ud800 surrogate',
    '',
    'x',
  ];
  const { bytes } = encodeParquet(
    input(
      [['s', { kind: 'utf8' }]],
      strings.map((s) => [s]),
    ),
  );
  const path = save(bytes);
  const rows = await query(`SELECT s FROM read_parquet('${path}')`);
  t.deepEqual(
    rows.map((r) => r['s']),
    strings.map((s) => s.replace('\ud800', '\ufffd')),
  );
});

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
  const path = join(dir, 'duck.parquet');
  await conn.run(
    `COPY (SELECT 42::BIGINT AS id, 'x' AS s, 12.5::DECIMAL(10,2) AS amt, ` +
      `'2024-05-06 07:08:09.123456+00'::TIMESTAMPTZ AS ts) TO '${path}' (FORMAT parquet, KV_METADATA {k: 'v'})`,
  );
  const { readFileSync } = await import('node:fs');
  const info = readParquetFile(readFileSync(path));
  t.is(info.rows, 1);
  t.is(info.metadata['k'], 'v');
  t.deepEqual(info.head(1)[0], { id: '42', s: 'x', amt: '12.50', ts: '2024-05-06T07:08:09.123456Z' });
});

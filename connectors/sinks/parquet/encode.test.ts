import test from 'ava';
import type { ColumnType } from '../../../schemas/column-type.ts';
import { encodeParquet, readParquetFile } from './index.ts';
import { ALL_ROWS, ALL_TYPES, bigInput, Duck, input, listInput } from './test-fixtures.ts';

let duck: Duck;
const save = (bytes: Uint8Array): string => duck.save(bytes);
const query = (sql: string) => duck.query(sql);

test.before(async () => {
  duck = await Duck.open();
});

test.after.always(() => duck?.close());

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
  t.is(back[2]?.['d'], '0044-03-15 (BC)', 'a BC date is a date, not a quality issue');
  t.true(back.slice(1).every((r) => r['num'] === null && r['i8'] === null && (r['d'] === null || r === back[2])));
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
  // A list<utf8> column (offsets + child UTF-8 data) spanning several row groups.
  const e = encodeParquet(listInput(10_000, { metadata, rowGroupRows: 3000 })).bytes;
  const f = encodeParquet(listInput(10_000, { metadata, rowGroupRows: 3000 })).bytes;
  t.true(Buffer.from(e).equals(f));
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

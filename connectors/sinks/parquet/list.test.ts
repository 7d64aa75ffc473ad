import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { columnTypeName, type ColumnType } from '../../../schemas/column-type.ts';
import { arrowTypeOf } from './arrow-type.ts';
import { parseTextList } from './build-list.ts';
import { encodeParquet, readParquetFile } from './index.ts';
import { Duck, input, listInput, UTF8_LIST } from './test-fixtures.ts';

let duck: Duck;

test.before(async () => {
  duck = await Duck.open();
});

test.after.always(() => duck?.close());

const LISTS: (string | null)[] = [
  '["notes","photo"]',
  '[]',
  null,
  '["备注","Ünïcödé 😀","列 \\"quoted\\", with comma"]',
  '[""]',
  '["a\\u0000b", "tab\\there"]',
  ' [ "spaced" ] ',
];
const EXPECTED: (string[] | null)[] = [
  ['notes', 'photo'],
  [],
  null,
  ['备注', 'Ünïcödé 😀', '列 "quoted", with comma'],
  [''],
  ['a\u0000b', 'tab\there'],
  ['spaced'],
];

function listRows(): (string | null)[][] {
  return LISTS.map((v, r) => [String(r), v]);
}

test('list<utf8>: type name and Arrow type (List of nullable Utf8 "element")', (t) => {
  t.is(columnTypeName(UTF8_LIST), 'list<utf8>');
  const type = arrowTypeOf(UTF8_LIST);
  t.is(String(type), 'List<Utf8>');
  const child = type.children[0];
  t.is(child?.name, 'element');
  t.true(child?.nullable);
  t.is(String(arrowTypeOf({ kind: 'list', element: { kind: 'int32' } })), 'List<Int32>');
  t.throws(() => arrowTypeOf({ kind: 'list', element: UTF8_LIST } as unknown as ColumnType), {
    message: /a list of scalars only/,
  });
});

test('DuckDB reads a list<utf8> column as VARCHAR[] with the exact values', async (t) => {
  const cols: [string, ColumnType][] = [
    ['id', { kind: 'int64' }],
    ['_unchanged', UTF8_LIST],
  ];
  const { bytes, quality } = encodeParquet(input(cols, listRows()));
  t.deepEqual(quality, []);
  const path = duck.save(bytes);
  const described = await duck.query(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
  t.deepEqual(
    described.map((r) => [r['column_name'], r['column_type']]),
    [
      ['id', 'BIGINT'],
      ['_unchanged', 'VARCHAR[]'],
    ],
  );
  // The standard three-level LIST layout, leaf named 'element'.
  const schema = await duck.query(
    `SELECT name, repetition_type AS rep, converted_type AS ct FROM parquet_schema('${path}') WHERE name <> 'id'`,
  );
  t.deepEqual(schema.slice(1), [
    { name: '_unchanged', rep: 'OPTIONAL', ct: 'LIST' },
    { name: 'list', rep: 'REPEATED', ct: null },
    { name: 'element', rep: 'OPTIONAL', ct: 'UTF8' },
  ]);
  const rows = await duck.query(`SELECT _unchanged AS u FROM read_parquet('${path}') ORDER BY id`);
  t.deepEqual(
    rows.map((r) => r['u']),
    EXPECTED,
  );
  // SQL-side checks: NULL vs empty list, element access, list equality.
  const sql = await duck.query(
    `SELECT count(*) FILTER (WHERE _unchanged IS NULL)::INTEGER AS nulls, ` +
      `count(*) FILTER (WHERE len(_unchanged) = 0)::INTEGER AS empties, ` +
      `count(*) FILTER (WHERE _unchanged = ['notes', 'photo'])::INTEGER AS eq, ` +
      `count(*) FILTER (WHERE list_contains(_unchanged, '备注'))::INTEGER AS zh, ` +
      `max(_unchanged[2]) FILTER (WHERE id = 3) AS second FROM read_parquet('${path}')`,
  );
  t.deepEqual(sql[0], { nulls: 1, empties: 1, eq: 1, zh: 1, second: 'Ünïcödé 😀' });
});

test('a list<utf8> column spans row-group boundaries', async (t) => {
  const rows = 1000;
  const data = listInput(rows, { rowGroupRows: 7 });
  const { bytes, quality } = encodeParquet(data);
  t.deepEqual(quality, []);
  const path = duck.save(bytes);
  const groups = await duck.query(
    `SELECT count(DISTINCT row_group_id)::INTEGER AS g, max(row_group_num_rows)::INTEGER AS n ` +
      `FROM parquet_metadata('${path}')`,
  );
  t.deepEqual(groups[0], { g: Math.ceil(rows / 7), n: 7 });
  const back = await duck.query(`SELECT _unchanged AS u FROM read_parquet('${path}') ORDER BY id`);
  const expected = (data.values[1] as (string | null)[]).map((v) => (v === null ? null : JSON.parse(v)));
  t.deepEqual(
    back.map((r) => r['u']),
    expected,
  );
  // readParquetFile agrees, across row groups.
  t.deepEqual(
    readParquetFile(bytes)
      .head(rows)
      .map((r) => r['_unchanged']),
    expected,
  );
});

test('a value that is not a JSON array of strings is null plus a quality issue', async (t) => {
  const bad = ['notes', '["a",1]', '{"a":"b"}', '"a"', '[["a"]]', '', '["unterminated"', 'null'];
  const values: (string | null)[] = ['["ok"]', ...bad, '[]'];
  // rowGroupRows 4: quality rows are absolute row numbers, not row-group relative.
  const { bytes, quality } = encodeParquet(
    input(
      [['_unchanged', UTF8_LIST]],
      values.map((v) => [v]),
      { rowGroupRows: 4 },
    ),
  );
  t.deepEqual(
    quality.map((q) => [q.column, q.row, q.raw]),
    bad.map((raw, k) => ['_unchanged', k + 1, raw]),
  );
  t.true(quality.every((q) => q.reason.length > 0));
  t.regex(quality[1]?.reason ?? '', /element 1 is not a string or null/);
  t.regex(quality[4]?.reason ?? '', /multi-dimensional/);
  t.regex(quality[0]?.reason ?? '', /not valid JSON/);
  t.regex(quality[2]?.reason ?? '', /not a JSON array/);
  const path = duck.save(bytes);
  const back = await duck.query(`SELECT _unchanged AS u FROM read_parquet('${path}')`);
  t.deepEqual(
    back.map((r) => r['u']),
    [['ok'], ...bad.map(() => null), []],
  );
});

test('parseTextList', (t) => {
  t.deepEqual(parseTextList('[]'), []);
  t.deepEqual(parseTextList('["x",null,"y"]'), ['x', null, 'y']);
  t.deepEqual(parseTextList('[1]'), { reason: 'list element 0 is not a string or null' });
  t.deepEqual(parseTextList('[["1"]]'), { reason: 'a multi-dimensional array has no one-dimensional LIST value' });
  t.true('reason' in (parseTextList('[') as object));
});

test('typed lists (Postgres arrays): element types, NULL elements, exact values in DuckDB', async (t) => {
  const cols: [string, ColumnType][] = [
    ['id', { kind: 'int32' }],
    ['ints', { kind: 'list', element: { kind: 'int32' } }],
    ['bigs', { kind: 'list', element: { kind: 'int64' } }],
    ['amounts', { kind: 'list', element: { kind: 'decimal', precision: 10, scale: 2 } }],
    ['days', { kind: 'list', element: { kind: 'date' } }],
    ['stamps', { kind: 'list', element: { kind: 'timestamp', tz: 'UTC' } }],
    ['flags', { kind: 'list', element: { kind: 'bool' } }],
    ['floats', { kind: 'list', element: { kind: 'float64' } }],
  ];
  const rows = [
    [
      '1',
      '["1","-2",null]',
      '["9007199254740993"]',
      '["12.50",null,"-0.01"]',
      '["2024-02-29","0044-03-15 BC"]',
      '["2024-01-01 12:00:00.123456+00"]',
      '["t","f",null]',
      '["NaN","-Infinity","1.5"]',
    ],
    ['2', '[]', null, '[]', null, '[]', null, '[null]'],
  ];
  const { bytes, quality } = encodeParquet(input(cols, rows));
  t.deepEqual(quality, []);
  const path = duck.save(bytes);
  const described = await duck.query(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
  t.deepEqual(
    described.map((r) => r['column_type']),
    [
      'INTEGER',
      'INTEGER[]',
      'BIGINT[]',
      'DECIMAL(10,2)[]',
      'DATE[]',
      'TIMESTAMP WITH TIME ZONE[]',
      'BOOLEAN[]',
      'DOUBLE[]',
    ],
  );
  const back = await duck.query(
    `SELECT ints::VARCHAR AS i, bigs::VARCHAR AS b, amounts::VARCHAR AS a, days::VARCHAR AS d, ` +
      `stamps::VARCHAR AS s, flags::VARCHAR AS f, floats::VARCHAR AS x FROM read_parquet('${path}') ORDER BY id`,
  );
  t.deepEqual(back, [
    {
      i: '[1, -2, NULL]',
      b: '[9007199254740993]',
      a: '[12.50, NULL, -0.01]',
      d: "[2024-02-29, '0044-03-15 (BC)']",
      s: "['2024-01-01 12:00:00.123456+00']",
      f: '[true, false, NULL]',
      x: '[nan, -inf, 1.5]',
    },
    { i: '[]', b: null, a: '[]', d: null, s: '[]', f: null, x: '[NULL]' },
  ]);
});

test('an element its type cannot hold is a null element plus a quality issue on its row', async (t) => {
  const cols: [string, ColumnType][] = [
    ['nums', { kind: 'list', element: { kind: 'decimal', precision: 5, scale: 1 } }],
  ];
  const { bytes, quality } = encodeParquet(input(cols, [['["1.5"]'], ['["2.5","NaN","x"]']]));
  t.deepEqual(
    quality.map((q) => [q.column, q.row, q.raw]),
    [
      ['nums', 1, 'NaN'],
      ['nums', 1, 'x'],
    ],
  );
  t.regex(quality[0]!.reason, /^list element 1: /);
  t.regex(quality[1]!.reason, /^list element 2: /);
  const back = await duck.query(`SELECT nums::VARCHAR AS n FROM read_parquet('${duck.save(bytes)}')`);
  t.deepEqual(
    back.map((r) => r['n']),
    ['[1.5]', '[2.5, NULL, NULL]'],
  );
});

test('dictionary settings: a list column next to dictionary-encoded strings, list leaf written plain', async (t) => {
  const cols: [string, ColumnType][] = [
    ['name', { kind: 'utf8' }],
    ['_unchanged', UTF8_LIST],
    // A top-level column whose name looks like the list leaf's path must not switch dictionary on for the leaf.
    ['_unchanged.list.element', { kind: 'utf8' }],
  ];
  const rows = LISTS.map((v, r) => [`n${r % 2}`, v, 'x']);
  const { bytes, quality } = encodeParquet(input(cols, rows));
  t.deepEqual(quality, []);
  const path = duck.save(bytes);
  const encodings = await duck.query(
    `SELECT path_in_schema AS p, any_value(encodings) AS e FROM parquet_metadata('${path}') GROUP BY 1 ORDER BY 1`,
  );
  t.deepEqual(encodings, [
    { p: '_unchanged, list, element', e: 'PLAIN, RLE' },
    { p: '_unchanged.list.element', e: 'PLAIN, RLE, RLE_DICTIONARY' },
    { p: 'name', e: 'PLAIN, RLE, RLE_DICTIONARY' },
  ]);
  const back = await duck.query(`SELECT _unchanged AS u FROM read_parquet('${path}')`);
  t.deepEqual(
    back.map((r) => r['u']),
    EXPECTED,
  );
});

test('readParquetFile: schema type list<utf8>, head() returns string arrays', (t) => {
  const cols: [string, ColumnType][] = [
    ['id', { kind: 'int64' }],
    ['_unchanged', UTF8_LIST],
  ];
  const info = readParquetFile(encodeParquet(input(cols, listRows())).bytes);
  t.deepEqual(info.schema, [
    { name: 'id', type: 'int64' },
    { name: '_unchanged', type: 'list<utf8>' },
  ]);
  const head = info.head(100);
  t.deepEqual(
    head.map((r) => r['_unchanged']),
    EXPECTED,
  );
  t.true(head.every((r) => r['_unchanged'] === null || Array.isArray(r['_unchanged'])));
});

test('readParquetFile reads a VARCHAR[] column DuckDB wrote', async (t) => {
  const path = join(duck.dir, 'duck-list.parquet');
  await duck.conn.run(
    `COPY (SELECT * FROM (VALUES (1, ['a', 'ü']), (2, []::VARCHAR[]), (3, NULL::VARCHAR[])) v(id, u)) ` +
      `TO '${path}' (FORMAT parquet)`,
  );
  const info = readParquetFile(readFileSync(path));
  t.is(info.schema[1]?.type, 'list<utf8>');
  t.deepEqual(
    info.head(3).map((r) => r['u']),
    [['a', 'ü'], [], null],
  );
});

test('zero rows with a list column', async (t) => {
  const { bytes } = encodeParquet(input([['_unchanged', UTF8_LIST]], []));
  const path = duck.save(bytes);
  const d = await duck.query(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
  t.is(d[0]?.['column_type'], 'VARCHAR[]');
  t.deepEqual(readParquetFile(bytes).head(5), []);
});

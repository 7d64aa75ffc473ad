import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { columnTypeName, type ColumnType } from '../../../schemas/column-type.ts';
import { arrowTypeOf } from './arrow-type.ts';
import { parseStringList } from './build-list.ts';
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
  t.throws(() => arrowTypeOf({ kind: 'list', element: { kind: 'int32' } } as unknown as ColumnType), {
    message: /unsupported ColumnType/,
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
  const bad = ['notes', '["a",1]', '{"a":"b"}', '"a"', '[null]', '[["a"]]', '', '["unterminated"', 'null'];
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
  t.regex(quality[1]?.reason ?? '', /element 1 is not a string/);
  t.regex(quality[0]?.reason ?? '', /not valid JSON/);
  t.regex(quality[2]?.reason ?? '', /not a JSON array/);
  const path = duck.save(bytes);
  const back = await duck.query(`SELECT _unchanged AS u FROM read_parquet('${path}')`);
  t.deepEqual(
    back.map((r) => r['u']),
    [['ok'], ...bad.map(() => null), []],
  );
});

test('parseStringList', (t) => {
  t.deepEqual(parseStringList('[]'), []);
  t.deepEqual(parseStringList('["x","y"]'), ['x', 'y']);
  t.deepEqual(parseStringList('[1]'), { reason: 'list element 0 is not a string' });
  t.true('reason' in (parseStringList('[') as object));
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

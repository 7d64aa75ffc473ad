import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeParquet } from './encode.ts';
import { ParquetStreamWriter } from './stream-writer.ts';
import { ALL_ROWS, ALL_TYPES, bigInput, Duck, input, listInput } from './test-fixtures.ts';
import type { ParquetInput } from './types.ts';

let duck: Duck;
test.before(async () => {
  duck = await Duck.open();
});
test.after.always(() => duck?.close());

let n = 0;
/** Writes `inp` with the stream writer, group by group, and returns the file's bytes and the writer's result. */
async function stream(inp: ParquetInput) {
  const path = join(duck.dir, `s${n++}.parquet`);
  const groupRows = inp.rowGroupRows ?? 65536;
  const w = await ParquetStreamWriter.create(path, inp);
  for (let start = 0; start === 0 || start < inp.rows; start += groupRows) {
    await w.writeGroup(inp.values, start, Math.min(groupRows, inp.rows - start));
  }
  const result = await w.finish();
  return { path, bytes: readFileSync(path), result };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('the same bytes as the whole-file encoder, row group by row group, with the sha256 of what is on disk', async (t) => {
  for (const inp of [
    input(ALL_TYPES, []),
    input(ALL_TYPES, ALL_ROWS, { metadata: { 'sluice.b': '2', 'sluice.a': '1', 'sluice.c': '3' } }),
    bigInput(150_001, { rowGroupRows: 65536 }),
    listInput(20_000, { rowGroupRows: 4096, compression: 'snappy' }),
  ]) {
    const whole = encodeParquet(inp);
    const { bytes, result } = await stream(inp);
    t.is(sha(bytes), sha(whole.bytes), `${inp.rows} rows: byte-identical`);
    t.is(result.sha256, sha(bytes));
    t.is(result.bytes, bytes.length);
    t.is(result.rows, inp.rows);
    t.deepEqual(result.quality, whole.quality);
  }
});

test('key-value metadata given at the end: the same bytes as given up front', async (t) => {
  const metadata = { 'sluice.seq_last': '150001', 'sluice.seq_first': '1', 'sluice.resource': 'people' };
  const inp = bigInput(150_001, { metadata: {} });
  const path = join(duck.dir, `late${n++}.parquet`);
  const w = await ParquetStreamWriter.create(path, inp);
  for (let start = 0; start < inp.rows; start += 65536) {
    await w.writeGroup(inp.values, start, Math.min(65536, inp.rows - start));
  }
  const result = await w.finish(metadata);
  const bytes = readFileSync(path);
  t.is(sha(bytes), sha(encodeParquet({ ...inp, metadata }).bytes));
  t.is(result.sha256, sha(bytes));
  t.is(result.bytes, bytes.length);
  const kv = await duck.query(`select decode(key) as k, decode(value) as v from parquet_kv_metadata('${path}')`);
  t.deepEqual(
    kv.filter((r) => r.k !== 'ARROW:schema'),
    [
      { k: 'sluice.resource', v: 'people' },
      { k: 'sluice.seq_first', v: '1' },
      { k: 'sluice.seq_last', v: '150001' },
    ],
  );
});

test('DuckDB reads a streamed file: every row, its row groups, the sorted key-value metadata', async (t) => {
  const { path } = await stream(bigInput(150_001, { rowGroupRows: 65536, metadata: { z: '1', a: '2' } }));
  const [count] = await duck.query(
    `select count(*)::int as n, count(distinct id)::int as ids, max(id)::int as max from read_parquet('${path}')`,
  );
  t.deepEqual(count, { n: 150_001, ids: 150_001, max: 150_000 });
  const groups = await duck.query(`select count(distinct row_group_id)::int as g from parquet_metadata('${path}')`);
  t.deepEqual(groups, [{ g: 3 }]);
  const kv = await duck.query(`select decode(key) as k from parquet_kv_metadata('${path}')`);
  t.deepEqual(
    kv.map((r) => r.k),
    ['ARROW:schema', 'a', 'z'],
  );
});

test('values the column type cannot hold are reported with their row in the file', async (t) => {
  const inp = input(
    [['d', { kind: 'date' }]],
    Array.from({ length: 10 }, (_, i) => [i === 7 ? 'infinity' : '2026-12-04']),
    { rowGroupRows: 4 },
  );
  const { result } = await stream(inp);
  t.deepEqual(
    result.quality.map((q) => [q.column, q.row, q.raw]),
    [['d', 7, 'infinity']],
  );
});

test('a row group of the wrong size is refused; abort closes the file', async (t) => {
  const inp = bigInput(10, { rowGroupRows: 4 });
  const w = await ParquetStreamWriter.create(join(duck.dir, 'bad.parquet'), inp);
  await t.throwsAsync(w.writeGroup(inp.values, 0, 5), { message: 'a row group holds 1 to 4 rows, got 5' });
  await w.writeGroup(inp.values, 0, 3);
  // the encoder's pages follow the groups it is given: full groups keep the file the same however it is fed
  await t.throwsAsync(w.writeGroup(inp.values, 3, 4), {
    message: 'only the last row group may hold fewer than 4 rows',
  });
  await w.abort();
});

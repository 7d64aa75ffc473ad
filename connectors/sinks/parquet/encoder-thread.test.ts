import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeParquet } from './encode.ts';
import { EncoderThread, type ThreadFile } from './encoder-thread.ts';
import { bigInput, Duck, listInput } from './test-fixtures.ts';
import type { ParquetInput } from './types.ts';

let duck: Duck;
test.before(async () => {
  duck = await Duck.open();
});
test.after.always(() => duck?.close());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const groupsOf = (inp: ParquetInput, groupRows: number) => {
  const out: (string | null)[][][] = [];
  for (let s = 0; s < inp.rows; s += groupRows) {
    out.push(inp.values.map((col) => col.slice(s, Math.min(s + groupRows, inp.rows))));
  }
  return out;
};

async function through(thread: EncoderThread, inp: ParquetInput, name: string, groupRows = 65536, partBytes?: number) {
  const path = join(duck.dir, name);
  const f: ThreadFile = await thread.create(path, { ...inp, metadata: {}, rowGroupRows: groupRows }, partBytes);
  for (const g of groupsOf(inp, groupRows)) await f.writeGroup(g, g[0]!.length);
  const result = await f.finish(inp.metadata);
  return { bytes: readFileSync(path), result };
}

test('files written by the encoder thread are the bytes of the whole-file encoder, also two at once', async (t) => {
  const thread = new EncoderThread();
  try {
    const a = bigInput(140_000);
    const b = listInput(9_000, { rowGroupRows: 4096 });
    const [ra, rb] = await Promise.all([through(thread, a, 'a.parquet'), through(thread, b, 'b.parquet', 4096)]);
    t.is(sha(ra.bytes), sha(encodeParquet(a).bytes));
    t.is(sha(rb.bytes), sha(encodeParquet(b).bytes));
    t.is(ra.result.parts[0]!.sha256, sha(ra.bytes));
    t.is(rb.result.parts[0]!.rows, 9_000);
  } finally {
    await thread.close();
  }
});

test('a stopped encoder thread is started again for the next file; an error names the encoder', async (t) => {
  const thread = new EncoderThread();
  try {
    await through(thread, bigInput(10), 'one.parquet');
    await thread.close();
    const { bytes } = await through(thread, bigInput(10), 'two.parquet');
    t.is(sha(bytes), sha(encodeParquet(bigInput(10)).bytes));
    const f = await thread.create(join(duck.dir, 'bad.parquet'), { ...bigInput(10), rowGroupRows: 4 });
    await t.throwsAsync(
      f.writeGroup(
        [
          ['1', '2', '3', '4', '5'],
          ['a', 'b', 'c', 'd', 'e'],
        ],
        5,
      ),
      {
        message: /^Parquet encoder: a row group holds 1 to 4 rows, got 5$/,
      },
    );
    await f.abort();
  } finally {
    await thread.close();
  }
});

test('a file past the part size splits into parts at row-group boundaries, the same way every time', async (t) => {
  const thread = new EncoderThread();
  try {
    const inp = bigInput(60_000);
    const limit = 60_000;
    const a = await through(thread, inp, 'parts-a.parquet', 4096, limit);
    const b = await through(thread, inp, 'parts-b.parquet', 4096, limit);
    const parts = a.result.parts;
    t.true(parts.length >= 3, `${parts.length} parts`);
    t.deepEqual(
      parts.map((p) => [p.rows, p.bytes, p.sha256]),
      b.result.parts.map((p) => [p.rows, p.bytes, p.sha256]),
      'byte-identical parts when written again',
    );
    t.is(
      parts.reduce((n, p) => n + p.rows, 0),
      60_000,
    );
    for (const [i, p] of parts.entries()) {
      t.is(p.rows % 4096 === 0 || i === parts.length - 1, true, 'parts hold whole row groups');
      // a part passes the limit by at most two row groups
      if (i < parts.length - 1) t.true(p.bytes >= limit && p.bytes < limit * 2, `${p.bytes}`);
      t.is(sha(readFileSync(p.path)), p.sha256);
      const [count] = await duck.query(`select count(*)::int as n from read_parquet('${p.path}')`);
      t.is(count!.n, p.rows);
      const meta = await duck.query(
        `select decode(key) as k, decode(value) as v from parquet_kv_metadata('${p.path}') where decode(key) like 'sluice.part%' order by 1`,
      );
      t.deepEqual(
        meta.map((r) => `${r.k as string}=${r.v as string}`),
        [`sluice.part=${i + 1}`, `sluice.parts=${parts.length}`],
      );
    }
  } finally {
    await thread.close();
  }
});

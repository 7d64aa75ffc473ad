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

async function through(thread: EncoderThread, inp: ParquetInput, name: string, groupRows = 65536) {
  const path = join(duck.dir, name);
  const f: ThreadFile = await thread.create(path, { ...inp, metadata: {}, rowGroupRows: groupRows });
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
    t.is(ra.result.sha256, sha(ra.bytes));
    t.is(rb.result.rows, 9_000);
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

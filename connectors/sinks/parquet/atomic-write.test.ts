import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSluiceError } from '../../../engine/errors.ts';
import { writeFileAtomic } from './atomic-write.ts';

test('a delivered file is written once, re-written identically as a no-op, and never replaced by other bytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-atomic-'));
  try {
    const path = join(dir, 'sub', 'a.parquet');
    const sha = await writeFileAtomic(path, Buffer.from('first'));
    t.is(sha, 'a7937b64b8caa58f03721bb6bacf5c78cb235febe0e70b1b84cd99541461a08e');
    t.is(await writeFileAtomic(path, Buffer.from('first')), sha);
    const err = await t.throwsAsync(writeFileAtomic(path, Buffer.from('second')));
    t.true(isSluiceError(err, 'DELIVERY_FAILED'));
    t.regex(err!.message, /refusing to replace delivered file/);
    t.is(readFileSync(path, 'utf8'), 'first');
    t.deepEqual(readdirSync(join(dir, 'sub')), ['a.parquet'], 'no temp file is left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

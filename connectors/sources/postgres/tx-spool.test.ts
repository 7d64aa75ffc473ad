import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TxSpool } from './tx-spool.ts';

const MiB = 1 << 20;

interface Item {
  n: number;
  v?: string | null;
}

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tx-spool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function spool<T = Item>(t: ExecutionContext, name = 'tx-1'): TxSpool<T> {
  const s = new TxSpool<T>(join(tempDir(t), 'spool'), name);
  t.teardown(() => s.dispose());
  return s;
}

function readAll<T>(s: TxSpool<T>, pageSize = 1000): T[] {
  const out: T[] = [];
  for (const page of s.read(pageSize)) out.push(...page);
  return out;
}

const ns = (items: Item[]) => items.map((i) => i.n);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test('items read back in order, in pages of at most pageSize', (t) => {
  const s = spool(t);
  for (let n = 0; n < 10; n++) s.append(1, { n, v: n % 3 === 0 ? null : `v${n}` });
  t.is(s.count, 10);
  const pages = [...s.read(4)];
  t.deepEqual(
    pages.map((p) => ns(p)),
    [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ],
  );
  t.deepEqual(pages[0]![0], { n: 0, v: null });
  t.deepEqual(pages[0]![1], { n: 1, v: 'v1' });
  t.deepEqual(ns(readAll(s)), range(0, 10), 'reads again from the start');
});

test('an empty spool reads no page', (t) => {
  const s = spool(t);
  t.is(s.count, 0);
  t.deepEqual([...s.read(10)], []);
});

test('the spool file is NDJSON in the given directory, named after the spool', (t) => {
  const dir = join(tempDir(t), 'nested', 'spool');
  const s = new TxSpool<Item>(dir, 'tx-42-1');
  t.teardown(() => s.dispose());
  t.is(s.path, join(dir, 'tx-42-1.ndjson'));
  s.append(42, { n: 1, v: '中' });
  s.append(42, { n: 2 });
  readAll(s); // flushes
  t.is(readFileSync(s.path, 'utf8'), '{"n":1,"v":"中"}\n{"n":2}\n');
});

test('appending after a read continues after what was read', (t) => {
  const s = spool(t);
  s.append(1, { n: 0 });
  t.deepEqual(ns(readAll(s)), [0]);
  s.append(1, { n: 1 });
  s.append(2, { n: 2 });
  t.deepEqual(ns(readAll(s)), [0, 1, 2]);
  t.is(s.count, 3);
});

test('abortSub drops the sub-transaction and everything after it', (t) => {
  const s = spool(t);
  s.append(100, { n: 0 });
  s.append(100, { n: 1 });
  s.append(101, { n: 2 });
  s.append(102, { n: 3 }); // nested in 101
  s.append(101, { n: 4 });
  s.abortSub(101);
  t.is(s.count, 2);
  t.deepEqual(ns(readAll(s)), [0, 1]);
});

test('abortSub of an unknown sub-transaction is a no-op', (t) => {
  const s = spool(t);
  s.append(100, { n: 0 });
  s.append(101, { n: 1 });
  s.abortSub(999);
  t.is(s.count, 2);
  t.deepEqual(ns(readAll(s)), [0, 1]);
  s.abortSub(101);
  s.abortSub(101); // a second abort of the same sub-transaction: already gone
  s.abortSub(102);
  t.is(s.count, 1);
  t.deepEqual(ns(readAll(s)), [0]);
});

test('after an abort, appends continue where the aborted sub-transaction started', (t) => {
  const s = spool(t);
  s.append(100, { n: 0 });
  s.append(101, { n: 1, v: 'x'.repeat(1000) });
  s.abortSub(101);
  s.append(100, { n: 2 });
  s.append(103, { n: 3 });
  s.append(104, { n: 4 });
  t.is(s.count, 4);
  t.deepEqual(ns(readAll(s)), [0, 2, 3, 4]);
  const bytes = statSync(s.path).size;
  t.is(bytes, readFileSync(s.path, 'utf8').length, 'no stale bytes of the aborted sub-transaction remain');
  t.false(readFileSync(s.path, 'utf8').includes('xxx'));
  // a later sub-transaction can be aborted in turn, also one that began after the first abort
  s.abortSub(103);
  t.deepEqual(ns(readAll(s)), [0, 2]);
  t.is(s.count, 2);
});

test('aborting the first sub-transaction empties the spool, which then takes new items', (t) => {
  const s = spool(t);
  s.append(7, { n: 0 });
  s.append(8, { n: 1 });
  s.abortSub(7);
  t.is(s.count, 0);
  t.deepEqual([...s.read(10)], []);
  s.append(9, { n: 2 });
  t.deepEqual(ns(readAll(s)), [2]);
});

test('abortSub works across flushed and still-buffered data (several MiB)', (t) => {
  const s = spool(t);
  const pad = 'p'.repeat(10_000);
  for (let n = 0; n < 300; n++) s.append(1, { n, v: pad }); // ~3 MiB: flushed
  for (let n = 300; n < 600; n++) s.append(2, { n, v: pad }); // flushed in part, buffered in part
  s.append(3, { n: 600 });
  s.abortSub(2);
  t.is(s.count, 300);
  t.deepEqual(ns(readAll(s, 77)), range(0, 300));
  for (let n = 300; n < 310; n++) s.append(4, { n });
  t.deepEqual(ns(readAll(s, 77)), range(0, 310));
});

test('a single line larger than 1 MiB (a 3 MiB value) reads back exactly', (t) => {
  const s = spool(t);
  const big = Array.from({ length: 3 * MiB }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  s.append(1, { n: 0, v: 'small' });
  s.append(1, { n: 1, v: big });
  s.append(1, { n: 2, v: 'after' });
  const items = readAll(s, 2);
  t.is(items.length, 3);
  t.is(items[1]!.v!.length, big.length);
  t.true(items[1]!.v === big);
  t.deepEqual(items[2], { n: 2, v: 'after' });
});

test('a single line larger than 1 MiB as the very first line, of multi-byte text', (t) => {
  const s = spool(t);
  const big = '数据共享🇨🇳'.repeat(200_000); // ~4.4 MB of UTF-8
  s.append(1, { n: 0, v: big });
  const [item] = readAll(s);
  t.true(item!.v === big);
});

test('multi-byte characters across the 1 MiB read boundary stay intact', (t) => {
  const s = spool(t);
  // Line 0 is `{"n":0,"v":"xxx…"}\n`; line 1 starts 1501 bytes before 1 MiB with `{"n":1,"v":"` and then 3-byte
  // characters, so that the 1 MiB read boundary falls inside a character.
  const head = '{"n":1,"v":"'.length;
  const line0Overhead = '{"n":0,"v":""}\n'.length;
  const line1Start = MiB - 1501 - head;
  s.append(1, { n: 0, v: 'x'.repeat(line1Start - line0Overhead) });
  const chinese = '中华人民共和国'.repeat(300);
  s.append(1, { n: 1, v: chinese });
  readAll(s); // flush
  const bytes = readFileSync(s.path);
  t.is(bytes.indexOf('{"n":1'), line1Start);
  t.is((MiB - (line1Start + head)) % 3, 1, 'the boundary falls one byte into a character');
  // and more lines, with 4-byte characters, so that later reads also cut inside characters
  const emoji = Array.from({ length: 2000 }, (_, i) => `${i}:👩🏽‍💻🇨🇳中${'é'.repeat(i % 7)}`);
  emoji.forEach((v, i) => s.append(2, { n: i + 2, v }));
  const items = readAll(s, 333);
  t.is(items.length, 2002);
  t.is(items[1]!.v, chinese);
  t.deepEqual(
    items.slice(2).map((i) => i.v),
    emoji,
  );
  t.false(JSON.stringify(items).includes('\ufffd'), 'no replacement character anywhere');
});

test('many items across several 1 MiB reads come back complete and in order', (t) => {
  const s = spool(t);
  const n = 50_000;
  for (let i = 0; i < n; i++) s.append(1 + Math.floor(i / 10_000), { n: i, v: `第${i}行` });
  t.is(s.count, n);
  const items = readAll(s, 4096);
  t.deepEqual(ns(items), range(0, n));
  t.is(items[12345]!.v, '第12345行');
});

test('dispose removes the file; a second dispose is harmless', (t) => {
  const dir = join(tempDir(t), 'spool');
  const s = new TxSpool<Item>(dir, 'tx-9-1');
  s.append(9, { n: 1 });
  readAll(s);
  t.true(existsSync(s.path));
  s.dispose();
  t.false(existsSync(s.path));
  t.deepEqual(readdirSync(dir), []);
  t.notThrows(() => s.dispose());
});

test('dispose also removes a spool whose items were never flushed', (t) => {
  const dir = join(tempDir(t), 'spool');
  const s = new TxSpool<Item>(dir, 'tx-10-1');
  s.append(10, { n: 1 });
  s.dispose();
  t.deepEqual(readdirSync(dir), []);
});

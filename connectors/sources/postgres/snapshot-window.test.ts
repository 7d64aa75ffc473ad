import test from 'ava';
import { keyText, PgSnapshot, RecentXids, RunWindow } from './snapshot-window.ts';

test('PgSnapshot: below xmin visible, in progress and from xmax on invisible', (t) => {
  const s = new PgSnapshot('100:110:103,107');
  t.true(s.visible(99));
  t.true(s.visible(100), 'xmin itself is not listed as in progress: it finished');
  t.true(s.visible(105));
  t.false(s.visible(103));
  t.false(s.visible(107));
  t.false(s.visible(110), 'xmax and above started after the snapshot');
  t.false(s.visible(5000));
});

test('PgSnapshot: a 32-bit xid is widened in the epoch of xmax (wraparound)', (t) => {
  const epoch = 2 ** 32;
  // xmax just past an epoch boundary: xid 4294967290 belongs to the previous epoch and is old
  const s = new PgSnapshot(`${epoch - 10}:${epoch + 5}:${epoch + 2}`);
  t.true(s.visible(2 ** 32 - 20), 'old xid of the previous epoch');
  t.true(s.visible(1), 'xid 1 of the new epoch, before xmax, not in progress');
  t.false(s.visible(2), 'in progress in the new epoch');
  t.false(s.visible(6), 'after xmax');
  t.throws(() => new PgSnapshot('garbage'), { message: /not a pg_snapshot/ });
});

test('RecentXids: a transaction received before the mark and invisible to the snapshot is found', (t) => {
  const r = new RecentXids(4);
  r.push(90);
  r.push(103); // committed in the WAL, received, but still in progress for a snapshot taken later
  const mark = r.mark();
  r.push(104);
  const s = new PgSnapshot('100:110:103,104');
  t.is(r.invisibleBefore(mark, s), 103);
  t.is(r.invisibleBefore(mark, new PgSnapshot('100:110:')), null, 'once visible, the chunk may go');
  // 104 came after the mark: the window saw its keys, so it never makes the chunk retry
  t.is(r.invisibleBefore(1, new PgSnapshot('100:110:104')), null);
  // the ring keeps the last `capacity` xids only
  for (let i = 0; i < 10; i++) r.push(200 + i);
  t.is(r.invisibleBefore(r.mark(), new PgSnapshot('100:300:103')), null, '103 is forgotten');
});

test('RunWindow: keys the stream carried since the run began are left out of every later chunk', (t) => {
  const w = new RunWindow('r', ['id'], 0);
  const rows = [1, 2, 3, 4, 5].map((i) => ({ id: String(i), v: 'x' }));
  t.deepEqual(w.keep(rows), { kept: rows, skipped: 0 });
  w.beginChunk(0);
  w.observe({ op: 'u', key: { id: '2' } });
  w.observe({ op: 'u', key: { id: '9' }, before: { id: '3', v: 'x' } }); // key 3 became 9
  w.observe({ op: 'd', key: { id: '4' } });
  t.deepEqual(
    w.keep(rows).kept.map((r) => r.id),
    ['1', '5'],
  );
  w.beginChunk(1);
  t.deepEqual(w.keep(rows), { kept: [rows[0]!, rows[4]!], skipped: 3 }, 'a later chunk leaves them out too');
  t.is(w.since, 0, 'transactions the window saw need no visibility check');
  w.observe({ op: 't', key: {} });
  t.deepEqual(w.keep(rows), { kept: [], skipped: 5 }, 'a truncate in the window drops the whole chunk');
  w.beginChunk(2);
  t.is(w.keep(rows).kept.length, 2, 'the next chunk is read after the truncate');
});

test('keyText tells NULL, empty and composite keys apart', (t) => {
  const k = (row: Record<string, string | null>) => keyText(['a', 'b'], row);
  t.not(k({ a: '', b: 'x' }), k({ a: null, b: 'x' }));
  t.not(k({ a: 'x', b: 'y' }), k({ a: 'xy', b: '' }));
  t.is(k({ a: '1', b: '2' }), k({ b: '2', a: '1' }));
});

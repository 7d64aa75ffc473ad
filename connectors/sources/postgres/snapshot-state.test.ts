import test from 'ava';
import {
  applyChange,
  checkpointLsn,
  checkpointRev,
  checkpointState,
  emptyState,
  encodeCheckpoint,
  progressOf,
  type SnapshotRun,
} from './snapshot-state.ts';

const run = (over: Partial<SnapshotRun> = {}): SnapshotRun => ({
  id: 'people:20261204T100000Z',
  resource: 'people',
  reason: 'initial',
  after: null,
  chunks: 0,
  rows: 0,
  skipped: 0,
  estimated: null,
  startedAt: '2026-12-04T10:00:00.000Z',
  ...over,
});

test('the checkpoint carries the LSN, the rev and the state; a plain LSN still reads', (t) => {
  const s = emptyState(['a']);
  applyChange(s, { kind: 'add', run: run() });
  const cp = encodeCheckpoint('00000000/0200AB10', s);
  t.is(checkpointLsn(cp), '00000000/0200AB10');
  t.is(checkpointRev(cp), 1);
  t.deepEqual(checkpointState(cp), s);
  t.is(checkpointLsn('00000000/0200AB10'), '00000000/0200AB10');
  t.is(checkpointRev('00000000/0200AB10'), -1);
  t.is(checkpointState('00000000/0200AB10'), null);
  t.is(checkpointState(null), null);
  // key values with the separator in them survive
  applyChange(s, { kind: 'chunk', id: run().id, after: ['a|b'], rows: 1, skipped: 0, last: false, at: 'x' });
  t.deepEqual(checkpointState(encodeCheckpoint('0/1', s))!.active[0]!.after, ['a|b']);
});

test('chunks advance a run; the last one finishes it and attaches the resource; a backfill does not attach', (t) => {
  const s = emptyState();
  applyChange(s, { kind: 'add', run: run() });
  applyChange(s, { kind: 'add', run: run({ id: 'b', target: 'audit', reason: 'backfill' }) });
  const at = '2026-12-04T10:01:00.000Z';
  applyChange(s, { kind: 'chunk', id: run().id, after: ['10'], rows: 9, skipped: 1, estimated: 20, last: false, at });
  t.deepEqual(progressOf(s.active[0]!, 'p'), {
    id: run().id,
    provider: 'p',
    resource: 'people',
    reason: 'initial',
    state: 'RUNNING',
    rows: 9,
    skipped: 1,
    chunks: 1,
    estimated: 20,
    startedAt: run().startedAt,
  });
  applyChange(s, { kind: 'chunk', id: run().id, after: ['20'], rows: 10, skipped: 0, last: true, at });
  t.deepEqual(s.attached, ['people']);
  t.is(s.active.length, 1);
  t.is(progressOf(s.done[0]!, 'p').state, 'DONE');
  applyChange(s, { kind: 'chunk', id: 'b', after: null, rows: 0, skipped: 0, last: true, at });
  t.deepEqual(s.attached, ['people'], 'a backfill is for one subscription: it attaches nothing');
  applyChange(s, { kind: 'add', run: run({ id: 'c', resource: 'other' }) });
  applyChange(s, { kind: 'fail', id: 'c', error: 'no key', at });
  t.false(s.attached.includes('other'), 'a failed run does not attach its resource');
  t.is(progressOf(s.done.at(-1)!, 'p').state, 'FAILED');
  t.is(s.rev, 7);
  // a change for a run that is gone (a replayed chunk) changes nothing but the rev
  applyChange(s, { kind: 'chunk', id: 'gone', after: null, rows: 5, skipped: 0, last: true, at });
  t.is(s.done.length, 3);
});

test('only the last 20 finished runs are kept', (t) => {
  const s = emptyState();
  for (let i = 0; i < 25; i++) {
    applyChange(s, { kind: 'add', run: run({ id: `r${i}` }) });
    applyChange(s, { kind: 'chunk', id: `r${i}`, after: null, rows: 0, skipped: 0, last: true, at: 'x' });
  }
  t.is(s.done.length, 20);
  t.is(s.done[0]!.id, 'r5');
});

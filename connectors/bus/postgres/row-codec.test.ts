import test from 'ava';
import { decodeRow, encodeRow, STORED_FIELDS, type StoredEvent } from './row-codec.ts';

const base = { commitTs: '2026-12-03T16:00:00.123456Z', txId: '731', schemaVersion: 1 };
const ev = (over: Partial<StoredEvent> & Pick<StoredEvent, 'op' | 'key' | 'position'>): StoredEvent => ({
  ...base,
  ...over,
});

const roundTrip = (events: StoredEvent[]) => decodeRow(JSON.parse(encodeRow(events)));

test('inserts, updates and deletes of one shape round-trip exactly, column names written once', (t) => {
  const events = [
    ev({ op: 'c', key: { id: '1' }, after: { id: '1', name: '张三', amount: null }, position: 'p1' }),
    ev({ op: 'u', key: { id: '1' }, after: { id: '1', name: 'a "q" \\ b', amount: '1.50' }, position: 'p2' }),
    ev({ op: 'd', key: { id: '1' }, position: 'p3', txId: '732', schemaVersion: 2 }),
    ev({ op: 'd', key: { id: '2' }, before: { id: '2', name: 'x', amount: '0' }, position: 'p4' }),
    ev({ op: 'u', key: { id: '3' }, before: null, after: { id: '3', name: null, amount: '2' }, position: 'p5' }),
  ];
  t.deepEqual(roundTrip(events), events);
  const json = encodeRow(events);
  t.is(json.split('"name"').length - 1, 1, 'the column name appears once, in the header');
  const row = JSON.parse(json);
  t.deepEqual(row.tx, [
    [base.commitTs, '731', 1],
    [base.commitTs, '732', 2],
    [base.commitTs, '731', 1],
  ]);
  t.deepEqual(row.ev[0], ['c', 'p1', 0, 1, 0, ['1', '张三', null]], 'the key of an insert is that of its after image');
  t.deepEqual(row.ev[2], ['d', 'p3', 1, ['1']], 'absent slots are left out');
  t.deepEqual(row.ev[4].slice(4), [null, ['3', null, '2']], 'null before is kept apart from absent');
});

test('an image whose columns differ from the header is stored as an object and round-trips', (t) => {
  const events = [
    ev({ op: 'c', key: { id: '1' }, after: { id: '1', doc: 'big', n: '1' }, position: 'p1' }),
    // an update whose unchanged TOAST value was not sent: the column is absent, and named in `unchanged`
    ev({ op: 'u', key: { id: '1' }, after: { id: '1', n: '2' }, unchanged: ['doc'], position: 'p2' }),
    // a column added mid-row
    ev({ op: 'c', key: { id: '2' }, after: { id: '2', doc: 'd', n: '3', extra: 'e' }, position: 'p3' }),
    // a composite key changed shape
    ev({ op: 'u', key: { id: '2', region: 'x' }, after: { id: '2', doc: 'd', n: '4' }, position: 'p4' }),
    // an empty unchanged list is a value, not absence
    ev({ op: 'u', key: { id: '2' }, after: { id: '2', doc: 'd', n: '5' }, unchanged: [], position: 'p5' }),
  ];
  t.deepEqual(roundTrip(events), events);
  const stored = JSON.parse(encodeRow(events)).ev;
  t.deepEqual(stored[1][5], { id: '1', n: '2' });
  t.deepEqual(stored[1][6], ['doc']);
  t.deepEqual(stored[3][3], { id: '2', region: 'x' });
});

test('a row that starts with a truncate takes its header from the first event with a row image', (t) => {
  const events = [
    ev({ op: 't', key: {}, position: 'p1' }),
    ev({ op: 'c', key: { id: '1' }, after: { id: '1', v: 'a' }, position: 'p2' }),
    ev({ op: 'c', key: { id: '2' }, after: { id: '2', v: 'b' }, position: 'p3' }),
  ];
  t.deepEqual(roundTrip(events), events);
  const row = JSON.parse(encodeRow(events));
  t.deepEqual(row.cols, ['id', 'v']);
  t.deepEqual(row.ev[2][5], ['2', 'b']);
});

test('a range of a row decodes only that range; rows of format 1 (event objects) still decode', (t) => {
  const events = Array.from({ length: 10 }, (_, i) =>
    ev({ op: 'c', key: { id: String(i) }, after: { id: String(i) }, position: `p${i}` }),
  );
  t.deepEqual(decodeRow(JSON.parse(encodeRow(events)), 3, 5), events.slice(3, 6));
  t.deepEqual(decodeRow(JSON.parse(encodeRow(events)), 8), events.slice(8));
  t.deepEqual(decodeRow(JSON.parse(JSON.stringify(events)), 2, 3), events.slice(2, 4));
  t.throws(() => decodeRow({ v: 3, ev: [] }), { message: /unknown bus row format 3/ });
});

test('the resource and seq of an event are not stored', (t) => {
  const json = encodeRow([
    { ...ev({ op: 'c', key: { id: '1' }, position: 'p1' }), resource: 'r', seq: '9' } as StoredEvent,
  ]);
  t.false(json.includes('"r"'));
  t.false(json.includes('"9"'));
});

test('an event with every stored field set round-trips', (t) => {
  const full: StoredEvent = {
    op: 'u',
    key: { id: '7' },
    before: { id: '7', v: 'old' },
    after: { id: '7', v: 'new' },
    unchanged: ['w'],
    position: 'p7',
    commitTs: base.commitTs,
    txId: '9',
    schemaVersion: 3,
    target: 'audit-later',
  };
  t.deepEqual(Object.keys(full).sort(), Object.keys(STORED_FIELDS).sort());
  t.deepEqual(roundTrip([full]), [full]);
  // a key that differs from the after image's key columns (the key was updated) is stored as it is
  const moved = { ...full, key: { id: '6' } };
  t.deepEqual(roundTrip([full, moved]), [full, moved]);
  // a backfill's rows next to rows for everyone: the target is kept per event
  const { target: _t, ...everyone } = full;
  t.deepEqual(roundTrip([full, everyone, full]), [full, everyone, full]);
});

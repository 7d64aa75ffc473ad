import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgoutputDecoder } from './pgoutput-decoder.ts';
import {
  eventPosition,
  isoFromPgMicros,
  TxAssembler,
  type CommittedTx,
  type PendingEvent,
  type ResourceBinding,
} from './tx-assembler.ts';
import {
  UNCHANGED,
  begin,
  commit,
  del,
  insert,
  lsn,
  pgMicros,
  relation,
  streamAbort,
  streamCommit,
  streamStart,
  streamStop,
  truncate,
  update,
  type Value,
} from './testing/pgoutput-encoder.ts';

const PEOPLE = 16384;
const ORDERS = 16390;
const AUDIT = 16400;
const T0 = pgMicros('2025-12-03T16:00:00.123456Z');

/** people (id key; name, secret (never kept), doc, amount), orders (id key; people_id, note), audit_log unbound. */
const RELATIONS = [
  relation({
    oid: PEOPLE,
    schema: 'public',
    name: 'people',
    columns: [
      { name: 'id', typeOid: 20, isKey: true },
      { name: 'name', typeOid: 25 },
      { name: 'secret', typeOid: 25 },
      { name: 'doc', typeOid: 25 },
      { name: 'amount', typeOid: 1700 },
    ],
  }),
  relation({
    oid: ORDERS,
    schema: 'public',
    name: 'orders',
    replicaIdentity: 'f',
    columns: [
      { name: 'id', typeOid: 20, isKey: true },
      { name: 'people_id', typeOid: 20, isKey: true },
      { name: 'note', typeOid: 25, isKey: true },
    ],
  }),
  relation({
    oid: AUDIT,
    schema: 'public',
    name: 'audit_log',
    columns: [
      { name: 'id', typeOid: 20, isKey: true },
      { name: 'what', typeOid: 25 },
    ],
  }),
];

const BINDINGS: Record<string, ResourceBinding & { keep: Set<string> }> = {
  'public.people': { resource: 'people', key: ['id'], keep: new Set(['id', 'name', 'doc', 'amount']) },
  'public.orders': { resource: 'orders', key: ['id'], keep: new Set(['id', 'people_id', 'note']) },
};

/** A people row: [id, name, secret, doc, amount]. */
const person = (id: string, name: Value = `n${id}`, doc: Value = `d${id}`, amount: Value = '1.00'): Value[] => [
  id,
  name,
  'SECRET',
  doc,
  amount,
];
const key = (id: string): Value[] => [id, null, null, null, null];

interface Harness {
  a: TxAssembler;
  dir: string;
  /** Decodes and pushes each message at the next WAL position (or the one given); returns the committed ones. */
  feed: (msgs: (Buffer | [Buffer, number])[]) => CommittedTx[];
}

function harness(t: ExecutionContext, spillAfter = 1000): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tx-assembler-'));
  const spoolDir = join(dir, 'spool');
  const a = new TxAssembler({ spoolDir, spillAfter });
  t.teardown(() => {
    a.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const d = new PgoutputDecoder((rel) => {
    const b = BINDINGS[`${rel.schema}.${rel.name}`];
    if (!b) return null;
    return {
      keep: rel.columns.map((c) => (b.keep.has(c.name) ? c.name : null)),
      binding: { resource: b.resource, key: b.key },
    };
  });
  for (const r of RELATIONS) d.decode(r, 0, r.length);
  let wal = 0x1000;
  const feed = (msgs: (Buffer | [Buffer, number])[]) => {
    const out: CommittedTx[] = [];
    for (const item of msgs) {
      const [buf, at] = Array.isArray(item) ? item : [item, (wal += 0x40)];
      const msg = d.decode(buf, 0, buf.length);
      if (!msg) continue;
      const tx = a.push(msg, at);
      if (tx) {
        if (msg.tag !== 'commit' && msg.tag !== 'stream_commit') throw new Error(`${msg.tag} returned a transaction`);
        out.push(tx);
      }
    }
    return out;
  };
  return { a, dir: spoolDir, feed };
}

/** Every event of a committed transaction, from memory or read back from its spool in small pages. */
function eventsOf(tx: CommittedTx, pageSize = 3): PendingEvent[] {
  if (tx.events) return tx.events;
  const out: PendingEvent[] = [];
  for (const page of tx.spool!.read(pageSize)) {
    if (page.length === 0 || page.length > pageSize) throw new Error(`page of ${page.length}`);
    out.push(...page);
  }
  return out;
}

const ids = (events: PendingEvent[]) => events.map((e) => e.key['id']);
const plainBegin = (xid: number, commitTs = T0) => begin({ finalLsn: lsn('16/B374D848'), commitTs, xid });
const plainCommit = (commitLsn = lsn('16/B374D848'), endLsn = lsn('16/B374D900'), commitTs = T0) =>
  commit({ commitLsn, endLsn, commitTs });
const ins = (id: string, xid?: number) => insert({ xid, relOid: PEOPLE, new: person(id) });

// --- plain transactions ------------------------------------------------------------------------------------------

test('a plain transaction commits as one CommittedTx with its events in order', (t) => {
  const { feed } = harness(t);
  const txs = feed([
    plainBegin(501),
    insert({ relOid: PEOPLE, new: person('1', '欧阳娜娜', 'doc', '1234567890123456.7891') }),
    update({ relOid: PEOPLE, new: person('1', '张三', 'doc', '2.00') }),
    del({ relOid: PEOPLE, key: key('1') }),
    plainCommit(lsn('16/B374D848'), lsn('16/B374D900')),
  ]);
  t.is(txs.length, 1);
  const tx = txs[0]!;
  t.like(tx, {
    xid: 501,
    commitLsn: 0x16b374d848,
    endLsn: 0x16b374d900,
    commitTs: '2025-12-03T16:00:00.123456Z',
    count: 3,
    spool: null,
  });
  t.deepEqual(tx.events, [
    {
      resource: 'people',
      op: 'c',
      key: { id: '1' },
      after: { id: '1', name: '欧阳娜娜', doc: 'doc', amount: '1234567890123456.7891' },
    },
    { resource: 'people', op: 'u', key: { id: '1' }, after: { id: '1', name: '张三', doc: 'doc', amount: '2.00' } },
    { resource: 'people', op: 'd', key: { id: '1' }, before: { id: '1' } },
  ]);
  t.false(JSON.stringify(tx).includes('SECRET'), 'a column that is not kept never enters an event');
});

test('consecutive plain transactions each hold only their own events', (t) => {
  const { feed } = harness(t);
  const txs = feed([
    plainBegin(1),
    ins('1'),
    ins('2'),
    plainCommit(lsn('1/10'), lsn('1/20')),
    plainBegin(2),
    ins('3'),
    plainCommit(lsn('1/30'), lsn('1/40')),
  ]);
  t.deepEqual(
    txs.map((tx) => [tx.xid, tx.commitLsn, ids(eventsOf(tx))]),
    [
      [1, 0x100000010, ['1', '2']],
      [2, 0x100000030, ['3']],
    ],
  );
});

test('nothing is returned before the commit, and inTransaction tells whether a transaction is open', (t) => {
  const { a, feed } = harness(t);
  t.false(a.inTransaction);
  t.deepEqual(feed([plainBegin(7), ins('1'), ins('2')]), []);
  t.true(a.inTransaction);
  t.is(feed([plainCommit()]).length, 1);
  t.false(a.inTransaction);
});

test('a commit without a begin returns nothing', (t) => {
  const { feed } = harness(t);
  t.deepEqual(feed([plainCommit()]), []);
});

test('a transaction whose changes are all in unbound tables still commits, with no events', (t) => {
  const { feed } = harness(t);
  const [tx] = feed([plainBegin(9), insert({ relOid: AUDIT, new: ['1', 'x'] }), plainCommit()]);
  t.like(tx, { xid: 9, count: 0, events: [], spool: null });
});

test('the key is taken from the new row (also when the update changes it)', (t) => {
  const { feed } = harness(t);
  const [tx] = feed([
    plainBegin(1),
    update({ relOid: PEOPLE, key: key('1'), new: person('2', 'moved') }),
    update({ relOid: ORDERS, old: ['10', '1', 'a'], new: ['11', '1', 'b'] }),
    plainCommit(),
  ]);
  t.deepEqual(
    tx!.events!.map((e) => e.key),
    [{ id: '2' }, { id: '11' }],
  );
});

test("an update with a key-only old tuple ('K') has only the key columns in before", (t) => {
  const { feed } = harness(t);
  const [tx] = feed([plainBegin(1), update({ relOid: PEOPLE, key: key('1'), new: person('2') }), plainCommit()]);
  t.deepEqual(tx!.events![0], {
    resource: 'people',
    op: 'u',
    key: { id: '2' },
    before: { id: '1' },
    after: { id: '2', name: 'n2', doc: 'd2', amount: '1.00' },
  });
});

test("a delete with the key ('K') has the key as before and no after", (t) => {
  const { feed } = harness(t);
  const [tx] = feed([plainBegin(1), del({ relOid: PEOPLE, key: key('7') }), plainCommit()]);
  const ev = tx!.events![0]!;
  t.deepEqual(ev, { resource: 'people', op: 'd', key: { id: '7' }, before: { id: '7' } });
  t.false('after' in ev);
  t.false('unchanged' in ev);
});

test("a delete with the full old row ('O', REPLICA IDENTITY FULL) keeps every kept column in before", (t) => {
  const { feed } = harness(t);
  const [tx] = feed([plainBegin(1), del({ relOid: ORDERS, old: ['10', '1', '备注'] }), plainCommit()]);
  t.deepEqual(tx!.events![0], {
    resource: 'orders',
    op: 'd',
    key: { id: '10' },
    before: { id: '10', people_id: '1', note: '备注' },
  });
});

test('REPLICA IDENTITY FULL: an unchanged TOAST value is filled from the old row and not listed', (t) => {
  const { feed } = harness(t);
  const big = '长'.repeat(100_000);
  const [tx] = feed([
    plainBegin(1),
    update({ relOid: PEOPLE, old: person('1', 'old', big, '1.00'), new: person('1', 'new', UNCHANGED, '2.00') }),
    plainCommit(),
  ]);
  const ev = tx!.events![0]!;
  t.deepEqual(ev.after, { id: '1', name: 'new', doc: big, amount: '2.00' });
  t.deepEqual(ev.before, { id: '1', name: 'old', doc: big, amount: '1.00' });
  t.false('unchanged' in ev);
});

test('without an old row an unchanged TOAST value is listed in unchanged and absent from after (never null)', (t) => {
  const { feed } = harness(t);
  const [tx] = feed([
    plainBegin(1),
    update({ relOid: PEOPLE, new: person('1', null, UNCHANGED, '2.00') }),
    update({ relOid: PEOPLE, key: key('1'), new: person('3', 'x', UNCHANGED, '2.00') }),
    insert({ relOid: PEOPLE, new: person('2', 'x', null) }),
    plainCommit(),
  ]);
  const [noOld, keyOld, insEv] = tx!.events!;
  t.deepEqual(noOld, {
    resource: 'people',
    op: 'u',
    key: { id: '1' },
    after: { id: '1', name: null, amount: '2.00' },
    unchanged: ['doc'],
  });
  t.false('doc' in noOld!.after!);
  t.false('before' in noOld!);
  // a key-only old tuple does not know the other columns: doc stays unchanged, not null
  t.deepEqual(keyOld!.after, { id: '3', name: 'x', amount: '2.00' });
  t.deepEqual(keyOld!.unchanged, ['doc']);
  t.deepEqual(keyOld!.before, { id: '1' });
  // a real NULL is a value
  t.deepEqual(insEv!.after, { id: '2', name: 'x', doc: null, amount: '1.00' });
  t.false('unchanged' in insEv!);
});

test('an unchanged TOAST key column takes its value from the old key tuple', (t) => {
  // The server sends the old key ('K') when a replica identity column holds an external TOAST value, and marks that
  // column 'u' in the new row: the key must come from the old key, not become null.
  const { feed } = harness(t);
  const longId = '9'.repeat(5000);
  const [tx] = feed([
    plainBegin(1),
    update({ relOid: PEOPLE, key: key(longId), new: [UNCHANGED, 'renamed', 'SECRET', UNCHANGED, '1.00'] }),
    plainCommit(),
  ]);
  const ev = tx!.events![0]!;
  t.deepEqual(ev.key, { id: longId });
  t.deepEqual(ev.before, { id: longId });
  t.deepEqual(ev.after, { id: longId, name: 'renamed', amount: '1.00' });
  t.deepEqual(ev.unchanged, ['doc'], 'doc is not part of the key: its value is still unknown');
});

test('truncate gives one t event per bound relation, in order, with an empty key', (t) => {
  const { feed } = harness(t);
  const [tx] = feed([plainBegin(1), truncate({ relOids: [ORDERS, AUDIT, PEOPLE], cascade: true }), plainCommit()]);
  t.deepEqual(tx!.events, [
    { resource: 'orders', op: 't', key: {} },
    { resource: 'people', op: 't', key: {} },
  ]);
});

// --- spilling ----------------------------------------------------------------------------------------------------

test('a plain transaction larger than spillAfter moves to a spool and reads back complete and in order', (t) => {
  const { a, dir, feed } = harness(t, 5);
  const n = 23;
  const msgs = [plainBegin(77)];
  for (let i = 0; i < n; i++) msgs.push(ins(String(i)));
  t.deepEqual(feed(msgs), []);
  t.is(readdirSync(dir).length, 1, 'the spool file exists while the transaction is open');
  t.true(a.inTransaction);
  const [tx] = feed([plainCommit(lsn('2/0'), lsn('2/40'))]);
  t.is(tx!.events, null);
  t.not(tx!.spool, null);
  t.is(tx!.count, n);
  t.like(tx, { xid: 77, commitLsn: 0x200000000, endLsn: 0x200000040, commitTs: '2025-12-03T16:00:00.123456Z' });
  const events = eventsOf(tx!);
  t.deepEqual(
    ids(events),
    Array.from({ length: n }, (_, i) => String(i)),
  );
  t.deepEqual(events[7], {
    resource: 'people',
    op: 'c',
    key: { id: '7' },
    after: { id: '7', name: 'n7', doc: 'd7', amount: '1.00' },
  });
  t.deepEqual(
    [...tx!.spool!.read(1000)].map((p) => p.length),
    [n],
    'read back again, in one page',
  );
});

test('a plain transaction below spillAfter stays in memory; at spillAfter it spools', (t) => {
  const { dir, feed } = harness(t, 3);
  const [small] = feed([plainBegin(1), ins('1'), ins('2'), plainCommit()]);
  t.is(small!.spool, null);
  t.deepEqual(ids(small!.events!), ['1', '2']);
  t.false(existsSync(dir) && readdirSync(dir).length > 0);
  const [exact] = feed([plainBegin(2), ins('1'), ins('2'), ins('3'), plainCommit()]);
  t.is(exact!.events, null);
  t.is(exact!.count, 3);
  t.deepEqual(ids(eventsOf(exact!)), ['1', '2', '3']);
});

test('spooled events keep nulls, unchanged lists and multi-byte text exactly', (t) => {
  const { feed } = harness(t, 1);
  const [tx] = feed([
    plainBegin(1),
    update({ relOid: PEOPLE, new: person('1', null, UNCHANGED, '数据共享 🇨🇳') }),
    del({ relOid: ORDERS, old: ['5', '6', '注释'] }),
    plainCommit(),
  ]);
  t.not(tx!.spool, null);
  t.deepEqual(eventsOf(tx!), [
    {
      resource: 'people',
      op: 'u',
      key: { id: '1' },
      after: { id: '1', name: null, amount: '数据共享 🇨🇳' },
      unchanged: ['doc'],
    },
    { resource: 'orders', op: 'd', key: { id: '5' }, before: { id: '5', people_id: '6', note: '注释' } },
  ]);
});

// --- streamed transactions ---------------------------------------------------------------------------------------

test('streamed transactions interleaved in blocks, with a plain one committed in between, keep their own events', (t) => {
  const { a, feed } = harness(t);
  const T1 = 1001;
  const T2 = 1002;
  const early = feed([
    streamStart({ xid: T1, first: true }),
    ins('a1', T1),
    ins('a2', T1),
    streamStop(),
    streamStart({ xid: T2, first: true }),
    ins('b1', T2),
    streamStop(),
    plainBegin(1003),
    ins('p1'),
    ins('p2'),
    plainCommit(lsn('5/100'), lsn('5/140')),
    streamStart({ xid: T1, first: false }),
    ins('a3', T1),
    update({ xid: T1, relOid: PEOPLE, key: key('a3'), new: person('a4') }),
    streamStop(),
    streamStart({ xid: T2, first: false }),
    del({ xid: T2, relOid: PEOPLE, key: key('b1') }),
    streamStop(),
  ]);
  t.is(early.length, 1, 'only the plain transaction has committed');
  t.like(early[0], { xid: 1003, commitLsn: 0x500000100, endLsn: 0x500000140, count: 2 });
  t.deepEqual(ids(eventsOf(early[0]!)), ['p1', 'p2']);
  t.true(a.inTransaction);

  const t2ts = pgMicros('2025-12-03T16:00:01.000001Z');
  const [tx2] = feed([streamCommit({ xid: T2, commitLsn: lsn('5/200'), endLsn: lsn('5/240'), commitTs: t2ts })]);
  t.like(tx2, { xid: T2, commitLsn: 0x500000200, endLsn: 0x500000240, commitTs: '2025-12-03T16:00:01.000001Z' });
  t.is(tx2!.count, 2);
  t.is(tx2!.events, null, 'a streamed transaction always comes as a spool');
  t.deepEqual(
    eventsOf(tx2!).map((e) => [e.op, e.key['id']]),
    [
      ['c', 'b1'],
      ['d', 'b1'],
    ],
  );
  t.true(a.inTransaction, 'T1 is still open');

  const [tx1] = feed([streamCommit({ xid: T1, commitLsn: lsn('5/300'), endLsn: lsn('5/340'), commitTs: T0 })]);
  t.like(tx1, { xid: T1, commitLsn: 0x500000300, count: 4 });
  const e1 = eventsOf(tx1!);
  t.deepEqual(
    e1.map((e) => [e.op, e.key['id']]),
    [
      ['c', 'a1'],
      ['c', 'a2'],
      ['c', 'a3'],
      ['u', 'a4'],
    ],
  );
  t.deepEqual(e1[3]!.before, { id: 'a3' });
  t.false(a.inTransaction);
});

test('a streamed sub-transaction abort drops its events and later nested ones, keeping earlier ones', (t) => {
  const { feed } = harness(t);
  const T = 2000;
  const S1 = 2001; // savepoint a
  const S2 = 2002; // savepoint b, inside a
  const txs = feed([
    streamStart({ xid: T, first: true }),
    ins('t1', T),
    ins('s1-1', S1),
    streamStop(),
    streamStart({ xid: T, first: false }),
    ins('s1-2', S1),
    ins('s2-1', S2),
    ins('s2-2', S2),
    streamStop(),
    streamAbort({ xid: T, subxid: S2 }), // rollback to savepoint b
    streamAbort({ xid: T, subxid: S1 }), // rollback to savepoint a
    streamStart({ xid: T, first: false }),
    ins('t2', T),
    streamStop(),
    streamCommit({ xid: T, commitLsn: lsn('6/0'), endLsn: lsn('6/40'), commitTs: T0 }),
  ]);
  t.is(txs.length, 1);
  t.is(txs[0]!.count, 2);
  t.deepEqual(ids(eventsOf(txs[0]!)), ['t1', 't2']);
});

test('aborting the sub-transaction of a parent aborts its nested children too, in any abort order', (t) => {
  const { feed } = harness(t);
  const T = 2100;
  const [tx] = feed([
    streamStart({ xid: T, first: true }),
    ins('t1', T),
    ins('s1', T + 1),
    ins('s2', T + 2), // nested in T+1
    streamStop(),
    streamAbort({ xid: T, subxid: T + 1 }),
    streamAbort({ xid: T, subxid: T + 2 }), // already gone: a no-op
    streamCommit({ xid: T, commitLsn: lsn('6/0'), endLsn: lsn('6/40'), commitTs: T0 }),
  ]);
  t.deepEqual(ids(eventsOf(tx!)), ['t1']);
  t.is(tx!.count, 1);
});

test('aborting only the inner sub-transaction keeps the outer one', (t) => {
  const { feed } = harness(t);
  const T = 2200;
  const [tx] = feed([
    streamStart({ xid: T, first: true }),
    ins('t1', T),
    ins('s1', T + 1),
    ins('s2', T + 2),
    streamStop(),
    streamAbort({ xid: T, subxid: T + 2 }),
    streamAbort({ xid: T, subxid: 999_999 }), // a sub-transaction that streamed nothing
    streamStart({ xid: T, first: false }),
    ins('s1-again', T + 1),
    ins('s3', T + 3),
    streamStop(),
    streamCommit({ xid: T, commitLsn: lsn('6/0'), endLsn: lsn('6/40'), commitTs: T0 }),
  ]);
  t.deepEqual(ids(eventsOf(tx!)), ['t1', 's1', 's1-again', 's3']);
  t.is(tx!.count, 4);
});

test('a top-level stream abort drops everything and deletes the spool file', (t) => {
  const { a, dir, feed } = harness(t);
  const T = 3000;
  feed([streamStart({ xid: T, first: true }), ins('1', T), ins('2', T + 1), streamStop()]);
  t.is(readdirSync(dir).length, 1);
  t.true(a.inTransaction);
  t.deepEqual(feed([streamAbort({ xid: T, subxid: T })]), []);
  t.deepEqual(readdirSync(dir), []);
  t.false(a.inTransaction);
  t.is(a.oldestOpenLsn(), null);
  t.deepEqual(feed([streamCommit({ xid: T, commitLsn: lsn('7/0'), endLsn: lsn('7/40'), commitTs: T0 })]), []);
});

test('a stream abort or commit of an unknown transaction is ignored', (t) => {
  const { a, feed } = harness(t);
  t.deepEqual(
    feed([
      streamAbort({ xid: 1, subxid: 1 }),
      streamAbort({ xid: 1, subxid: 2 }),
      streamCommit({ xid: 1, commitLsn: 1n, endLsn: 2n, commitTs: T0 }),
    ]),
    [],
  );
  t.false(a.inTransaction);
});

test('dispose deletes every spool: open streamed and spilled plain transactions', (t) => {
  const { a, dir, feed } = harness(t, 1);
  feed([streamStart({ xid: 10, first: true }), ins('1', 10), streamStop(), plainBegin(11), ins('2'), ins('3')]);
  t.is(readdirSync(dir).length, 2);
  a.dispose();
  t.deepEqual(readdirSync(dir), []);
  t.false(a.inTransaction);
  t.is(a.oldestOpenLsn(), null);
});

// --- oldestOpenLsn -----------------------------------------------------------------------------------------------

test('oldestOpenLsn reports the first WAL position of the oldest open transaction, null when none is open', (t) => {
  const { a, feed } = harness(t);
  t.is(a.oldestOpenLsn(), null);
  feed([
    [streamStart({ xid: 1, first: true }), 200],
    [ins('1', 1), 210],
    [streamStop(), 220],
  ]);
  t.is(a.oldestOpenLsn(), 200);
  feed([
    [streamStart({ xid: 2, first: true }), 250],
    [ins('2', 2), 260],
    [streamStop(), 270],
  ]);
  t.is(a.oldestOpenLsn(), 200);
  feed([
    [streamStart({ xid: 1, first: false }), 400],
    [ins('3', 1), 410],
    [streamStop(), 420],
  ]);
  t.is(a.oldestOpenLsn(), 200, 'a later block does not move the first position');
  feed([
    [plainBegin(3), 500],
    [ins('4'), 510],
  ]);
  t.is(a.oldestOpenLsn(), 200);
  feed([[streamCommit({ xid: 1, commitLsn: 600n, endLsn: 640n, commitTs: T0 }), 600]]);
  t.is(a.oldestOpenLsn(), 250);
  feed([[streamAbort({ xid: 2, subxid: 2 }), 700]]);
  t.is(a.oldestOpenLsn(), 500, 'only the plain transaction is open');
  feed([[plainCommit(800n, 840n), 800]]);
  t.is(a.oldestOpenLsn(), null);
  feed([[plainBegin(4), 0x1ffffffffff]]);
  t.is(a.oldestOpenLsn(), 0x1ffffffffff);
});

// --- positions and timestamps --------------------------------------------------------------------------------------

test('isoFromPgMicros gives RFC 3339 UTC with µs', (t) => {
  for (const iso of [
    '2025-12-03T16:00:00.123456Z',
    '2025-12-03T16:00:00.000001Z',
    '2025-12-03T16:00:00.999999Z',
    '2000-01-01T00:00:00.000000Z',
    '2000-01-01T00:00:00.000001Z',
    '1999-12-31T23:59:59.999999Z',
    '1970-01-01T00:00:00.000000Z',
    '1970-01-01T00:00:00.000001Z',
    '1969-12-31T23:59:59.999999Z',
    '1969-07-20T20:17:40.500000Z',
    '1900-01-01T00:00:00.000001Z',
    '2254-12-31T23:59:59.999999Z',
  ]) {
    t.is(isoFromPgMicros(Number(pgMicros(iso))), iso);
  }
  t.is(isoFromPgMicros(0), '2000-01-01T00:00:00.000000Z');
  t.is(isoFromPgMicros(-1), '1999-12-31T23:59:59.999999Z');
  t.is(isoFromPgMicros(-946_684_800_000_000), '1970-01-01T00:00:00.000000Z');
  t.is(isoFromPgMicros(-946_684_800_000_001), '1969-12-31T23:59:59.999999Z');
});

test('commit timestamps before 2000 come out exact in the committed transaction', (t) => {
  const { feed } = harness(t);
  const ts = pgMicros('1999-12-31T23:59:59.000001Z');
  const [tx] = feed([plainBegin(1, ts), ins('1'), plainCommit(1n, 2n, ts)]);
  t.is(tx!.commitTs, '1999-12-31T23:59:59.000001Z');
});

test('eventPosition is fixed-width and orders as a string', (t) => {
  t.is(eventPosition('00000016/B374D848', 3), '00000016/B374D848:0000000003');
  const ps = [
    eventPosition('00000000/00000000', 0),
    eventPosition('00000016/B374D848', 9),
    eventPosition('00000016/B374D848', 10),
    eventPosition('00000016/B374D848', 4_294_967_295),
    eventPosition('00000016/B374D849', 0),
    eventPosition('00000017/00000000', 0),
    eventPosition('001FFFFF/FFFFFFFF', 0),
  ];
  t.deepEqual([...ps].sort(), ps);
  t.deepEqual([...ps].reverse().sort(), ps);
  for (const p of ps) t.regex(p, /^[0-9A-F]{8}\/[0-9A-F]{8}:\d{10}$/);
});

import test from 'ava';
import { TxAssembler, eventPosition, isoMicros, type PgoutputMessage, type ResourceBinding } from './tx-assembler.ts';

const PEOPLE = { schema: 'public', name: 'people' };
const AUDIT_LOG = { schema: 'public', name: 'audit_log' };
const T0 = 1764777600123456n; // 2025-12-03T16:00:00.123456Z in µs

function assembler(): TxAssembler {
  const bindings = new Map<string, ResourceBinding>([
    ['public.people', { resource: 'people', key: ['id'], keep: new Set(['id', 'name', 'doc', 'amount']) }],
  ]);
  return new TxAssembler(bindings);
}

const begin = (commitLsn: string | null, xid = 501, commitTime = T0): PgoutputMessage => ({
  tag: 'begin',
  commitLsn,
  commitTime,
  xid,
});
const commit = (commitLsn: string | null, commitEndLsn: string | null, commitTime = T0): PgoutputMessage => ({
  tag: 'commit',
  commitLsn,
  commitEndLsn,
  commitTime,
});

/** Feeds messages; returns every completed transaction, checking nothing completes before its commit. */
function feed(a: TxAssembler, msgs: PgoutputMessage[]) {
  const out = [];
  for (const m of msgs) {
    const r = a.push(m);
    if (m.tag !== 'commit') {
      if (r !== null) throw new Error(`${m.tag} returned a transaction`);
    } else if (r) out.push(r);
  }
  return out;
}

test('isoMicros keeps microseconds', (t) => {
  // 1764777600 s = 20425 days × 86400 s + 16 h: 2025-12-03T16:00:00Z.
  t.is(20425 * 86400 + 16 * 3600, 1764777600);
  t.is(isoMicros(T0), '2025-12-03T16:00:00.123456Z');
  t.is(isoMicros(1764777600000001n), '2025-12-03T16:00:00.000001Z');
  t.is(isoMicros(1764777600999999n), '2025-12-03T16:00:00.999999Z');
  t.is(isoMicros(0n), '1970-01-01T00:00:00.000000Z');
  t.is(isoMicros(946684800000000n), '2000-01-01T00:00:00.000000Z');
});

test('eventPosition is fixed-width and orders as a string', (t) => {
  t.is(eventPosition('00000016/B374D848', 3), '00000016/B374D848:0000000003');
  const ps = [
    eventPosition('00000016/B374D848', 9),
    eventPosition('00000016/B374D848', 10),
    eventPosition('00000016/B374D849', 0),
    eventPosition('00000017/00000000', 0),
  ];
  t.deepEqual([...ps].sort(), ps);
});

test('positions are fixed-width and ordered within and across transactions', (t) => {
  const a = assembler();
  const rows = Array.from({ length: 12 }, (_, i) => ({
    tag: 'insert' as const,
    relation: PEOPLE,
    new: { id: String(i), name: `n${i}` },
  }));
  const txs = feed(a, [
    begin('00000016/B374D848', 501),
    ...rows,
    commit('00000016/B374D848', '00000016/B374D900'),
    begin('00000017/00000010', 502, T0 + 1n),
    { tag: 'insert', relation: PEOPLE, new: { id: '99', name: 'x' } },
    commit('00000017/00000010', '00000017/00000040', T0 + 1n),
  ]);
  t.is(txs.length, 2);
  const [first, second] = txs;
  t.is(first!.commitEndLsn, '00000016/B374D900');
  t.is(second!.commitEndLsn, '00000017/00000040');
  const positions = txs.flatMap((tx) => tx.events.map((e) => e.position));
  t.is(positions.length, 13);
  t.deepEqual([...positions].sort(), positions);
  t.is(new Set(positions).size, 13);
  for (const p of positions) t.regex(p, /^[0-9A-F]{8}\/[0-9A-F]{8}:\d{10}$/);
  t.is(positions[0], '00000016/B374D848:0000000000');
  t.is(positions[11], '00000016/B374D848:0000000011');
  t.is(positions[12], '00000017/00000010:0000000000');
  t.deepEqual(
    first!.events.map((e) => e.key['id']),
    rows.map((r) => r.new.id),
  );
  for (const e of first!.events) t.like(e, { commitTs: '2025-12-03T16:00:00.123456Z', txId: '501' });
  t.like(second!.events[0], { commitTs: '2025-12-03T16:00:00.123457Z', txId: '502' });
});

test('columns not in keep are dropped from after, before and the event', (t) => {
  const [tx] = feed(assembler(), [
    begin('00000001/00000000'),
    {
      tag: 'insert',
      relation: PEOPLE,
      new: { id: '1', name: '欧阳娜娜', secret: 's3cr3t', amount: '1234567890123456.7891' },
    },
    {
      tag: 'update',
      relation: PEOPLE,
      key: null,
      old: { id: '1', name: '欧阳娜娜', secret: 's3cr3t', amount: '1.00' },
      new: { id: '1', name: '张三', secret: 'other', amount: '2.00' },
    },
    commit('00000001/00000000', '00000001/00000100'),
  ]);
  const [ins, upd] = tx!.events;
  t.deepEqual(ins, {
    resource: 'people',
    op: 'c',
    key: { id: '1' },
    after: { id: '1', name: '欧阳娜娜', amount: '1234567890123456.7891' },
    position: '00000001/00000000:0000000000',
    commitTs: '2025-12-03T16:00:00.123456Z',
    txId: '501',
    schemaVersion: 0,
  });
  t.deepEqual(upd!.before, { id: '1', name: '欧阳娜娜', amount: '1.00' });
  t.deepEqual(upd!.after, { id: '1', name: '张三', amount: '2.00' });
  t.false(JSON.stringify(tx).includes('s3cr3t'));
  t.false(JSON.stringify(tx).includes('other'));
});

test('an unchanged TOAST value is listed in unchanged, not turned into null', (t) => {
  const [tx] = feed(assembler(), [
    begin('00000001/00000000'),
    { tag: 'update', relation: PEOPLE, key: null, old: null, new: { id: '1', name: null, doc: undefined } },
    { tag: 'insert', relation: PEOPLE, new: { id: '2', name: 'x', doc: 'big' } },
    commit('00000001/00000000', null),
  ]);
  const [upd, ins] = tx!.events;
  t.deepEqual(upd!.after, { id: '1', name: null });
  t.false(Object.hasOwn(upd!.after!, 'doc'));
  t.deepEqual(upd!.unchanged, ['doc']);
  t.false(Object.hasOwn(upd!, 'before'), 'no old tuple, no before');
  t.false(Object.hasOwn(ins!, 'unchanged'));
  // commitEndLsn falls back to the commit LSN when the server sends none.
  t.is(tx!.commitEndLsn, '00000001/00000000');
});

test('delete: key only (default replica identity) vs the full old row (REPLICA IDENTITY FULL)', (t) => {
  const [tx] = feed(assembler(), [
    begin('00000001/00000000'),
    { tag: 'delete', relation: PEOPLE, key: { id: '7' }, old: null },
    { tag: 'delete', relation: PEOPLE, key: null, old: { id: '8', name: 'n', doc: 'd', secret: 'x' } },
    { tag: 'delete', relation: PEOPLE, key: null, old: null },
    commit('00000001/00000000', '00000001/00000100'),
  ]);
  t.is(tx!.events.length, 2, 'a delete with neither key nor old row has nothing to say');
  const [keyOnly, full] = tx!.events;
  t.like(keyOnly, { op: 'd', key: { id: '7' }, before: { id: '7' } });
  t.false(Object.hasOwn(keyOnly!, 'after'));
  t.deepEqual(full!.key, { id: '8' });
  t.deepEqual(full!.before, { id: '8', name: 'n', doc: 'd' });
  t.deepEqual(
    tx!.events.map((e) => e.position),
    ['00000001/00000000:0000000000', '00000001/00000000:0000000001'],
  );
});

test('events of unbound tables are ignored, but the commit is still returned', (t) => {
  const a = assembler();
  const [tx] = feed(a, [
    begin('00000002/00000000'),
    { tag: 'insert', relation: AUDIT_LOG, new: { id: '1', what: 'x' } },
    { tag: 'delete', relation: AUDIT_LOG, key: { id: '1' }, old: null },
    { tag: 'truncate', relations: [AUDIT_LOG] },
    commit('00000002/00000000', '00000002/00000080'),
  ]);
  t.deepEqual(tx, { events: [], commitEndLsn: '00000002/00000080' });
  t.false(a.inTransaction);
});

test('truncate yields a t event for bound tables only; positions skip nothing', (t) => {
  const [tx] = feed(assembler(), [
    begin('00000003/00000000'),
    { tag: 'insert', relation: AUDIT_LOG, new: { id: '1' } },
    { tag: 'truncate', relations: [AUDIT_LOG, PEOPLE] },
    commit('00000003/00000000', '00000003/00000010'),
  ]);
  t.is(tx!.events.length, 1);
  t.like(tx!.events[0], { op: 't', key: {}, resource: 'people', position: '00000003/00000000:0000000000' });
});

test('a non-string value throws: values must arrive as the server text', (t) => {
  for (const v of [5, 5n, new Date(0), true]) {
    const a = assembler();
    a.push(begin('00000001/00000000'));
    t.throws(
      () =>
        a.push({
          tag: 'insert',
          relation: PEOPLE,
          new: { id: '1', amount: v } as unknown as Record<string, string>,
        }),
      { instanceOf: TypeError },
    );
  }
});

test('inTransaction, a commit without begin, and messages that carry no change', (t) => {
  const a = assembler();
  t.is(a.push(commit('00000001/00000000', '00000001/00000010')), null);
  t.false(a.inTransaction);
  a.push(begin(null));
  t.true(a.inTransaction);
  t.is(a.push({ tag: 'type' }), null);
  t.is(a.push({ tag: 'origin' }), null);
  t.is(a.push({ tag: 'insert', relation: PEOPLE, new: { id: '1' } }), null);
  const tx = a.push(commit(null, null));
  t.false(a.inTransaction);
  // A zero LSN arrives as null and becomes the zero position.
  t.is(tx!.events[0]!.position, '00000000/00000000:0000000000');
  t.is(tx!.commitEndLsn, '00000000/00000000');
});

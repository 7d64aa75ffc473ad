import test from 'ava';
import { PgoutputDecoder, PgoutputError, type Binder, type PgMessage, type Relation } from './pgoutput-decoder.ts';
import {
  UNCHANGED,
  begin,
  commit,
  del,
  insert,
  lsn,
  message,
  origin,
  pack,
  pgMicros,
  relation,
  streamAbort,
  streamCommit,
  streamStart,
  streamStop,
  truncate,
  type,
  update,
  type ColumnSpec,
} from './testing/pgoutput-encoder.ts';

const INT8 = 20;
const TEXT = 25;
const BYTEA = 17;
const NUMERIC = 1700;

const PEOPLE_OID = 16384;
const AUDIT_OID = 16390;
const ORDERS_OID = 16400;

/** public.people: id (key), name, photo (never kept), doc, amount numeric(20,4). */
const PEOPLE_COLUMNS: ColumnSpec[] = [
  { name: 'id', typeOid: INT8, isKey: true },
  { name: 'name', typeOid: TEXT },
  { name: 'photo', typeOid: BYTEA },
  { name: 'doc', typeOid: TEXT },
  { name: 'amount', typeOid: NUMERIC, typmod: (20 << 16) + 4 + 4 },
];
const peopleRel = (xid?: number) =>
  relation({ xid, oid: PEOPLE_OID, schema: 'public', name: 'people', columns: PEOPLE_COLUMNS });
const auditRel = (xid?: number) =>
  relation({
    xid,
    oid: AUDIT_OID,
    schema: 'public',
    name: 'audit_log',
    columns: [
      { name: 'id', typeOid: INT8, isKey: true },
      { name: 'what', typeOid: TEXT },
    ],
  });
/** A table whose schema and name are not ASCII. */
const ordersRel = () =>
  relation({
    oid: ORDERS_OID,
    schema: '业务',
    name: '订单',
    replicaIdentity: 'f',
    columns: [
      { name: '编号', typeOid: INT8, isKey: true },
      { name: '备注', typeOid: TEXT },
    ],
  });

const KEEP: Record<string, Set<string>> = {
  'public.people': new Set(['id', 'name', 'doc', 'amount']),
  '业务.订单': new Set(['编号', '备注']),
};

function decoder(seen: Parameters<Binder>[0][] = []): PgoutputDecoder {
  return new PgoutputDecoder((rel) => {
    seen.push(rel);
    const keep = KEEP[`${rel.schema}.${rel.name}`];
    if (!keep) return null;
    return { keep: rel.columns.map((c) => (keep.has(c.name) ? c.name : null)), binding: { table: rel.name } };
  });
}

function dec(d: PgoutputDecoder, msg: Buffer): PgMessage | null {
  return d.decode(msg, 0, msg.length);
}

/** A decoder that has seen the Relation messages of people, audit_log and 订单. */
function primed(): PgoutputDecoder {
  const d = decoder();
  dec(d, peopleRel());
  dec(d, auditRel());
  dec(d, ordersRel());
  return d;
}

function as<T extends PgMessage['tag']>(m: PgMessage | null, tag: T): Extract<PgMessage, { tag: T }> {
  if (m === null || m.tag !== tag) throw new Error(`expected ${tag}, got ${m === null ? 'null' : m.tag}`);
  return m as Extract<PgMessage, { tag: T }>;
}

// --- transaction boundaries, LSNs and timestamps ---------------------------------------------------------------

test('Begin: final LSN, commit timestamp (µs since 2000) and xid decode exactly', (t) => {
  const ts = pgMicros('2025-12-03T16:00:00.123456Z');
  const m = as(dec(decoder(), begin({ finalLsn: lsn('16/B374D848'), commitTs: ts, xid: 501 })), 'begin');
  t.deepEqual(m, { tag: 'begin', finalLsn: 0x16b374d848, commitTs: Number(ts), xid: 501 });
  t.is(m.commitTs, (1_764_777_600 - 946_684_800) * 1_000_000 + 123_456);
});

test('Begin: an xid above 2^31 is read unsigned', (t) => {
  const m = as(dec(decoder(), begin({ finalLsn: 1n, commitTs: 0n, xid: 0xfffffffe })), 'begin');
  t.is(m.xid, 4294967294);
});

test('Commit: commit LSN, end LSN and timestamp decode exactly, also LSNs just below 2^53', (t) => {
  const top = (1n << 53n) - 1n; // 1FFFFF/FFFFFFFF
  const m = as(
    dec(decoder(), commit({ commitLsn: top - 0x30n, endLsn: top, commitTs: pgMicros('2038-01-19T03:14:08.999999Z') })),
    'commit',
  );
  t.is(m.commitLsn, Number(top - 0x30n));
  t.is(m.endLsn, 9007199254740991);
  t.is(m.commitTs, Number(pgMicros('2038-01-19T03:14:08.999999Z')));
  t.true(Number.isSafeInteger(m.endLsn));
});

test('Commit: the high and low LSN words are not mixed up', (t) => {
  const m = as(
    dec(decoder(), commit({ commitLsn: lsn('1/00000000'), endLsn: lsn('0/FFFFFFFF'), commitTs: 0n })),
    'commit',
  );
  t.is(m.commitLsn, 4294967296);
  t.is(m.endLsn, 4294967295);
});

test('commit timestamps before 2000 (negative int64) decode exactly', (t) => {
  for (const iso of ['1999-12-31T23:59:59.999999Z', '1970-01-01T00:00:00.000001Z', '1969-07-20T20:17:40.5Z']) {
    const ts = pgMicros(iso);
    t.true(ts < 0n);
    const m = as(dec(decoder(), commit({ commitLsn: 1n, endLsn: 2n, commitTs: ts })), 'commit');
    t.is(m.commitTs, Number(ts), iso);
  }
  t.is(as(dec(decoder(), begin({ finalLsn: 1n, commitTs: -1n, xid: 1 })), 'begin').commitTs, -1);
});

test('an LSN of 2^53 or more is refused rather than rounded', (t) => {
  const e = t.throws(() => dec(decoder(), commit({ commitLsn: 1n << 53n, endLsn: 1n << 53n, commitTs: 0n })), {
    instanceOf: PgoutputError,
  });
  t.regex(e.message, /2\^53/);
});

// --- Relation ----------------------------------------------------------------------------------------------------

test('Relation: names, replica identity, type OIDs, typmods and key flags; the binder decides what is kept', (t) => {
  const seen: Parameters<Binder>[0][] = [];
  const d = decoder(seen);
  const m = as(dec(d, peopleRel()), 'relation');
  const expectedColumns = [
    { name: 'id', typeOid: INT8, typmod: -1, isKey: true },
    { name: 'name', typeOid: TEXT, typmod: -1, isKey: false },
    { name: 'photo', typeOid: BYTEA, typmod: -1, isKey: false },
    { name: 'doc', typeOid: TEXT, typmod: -1, isKey: false },
    { name: 'amount', typeOid: NUMERIC, typmod: (20 << 16) + 8, isKey: false },
  ];
  t.deepEqual(m.rel, {
    oid: PEOPLE_OID,
    schema: 'public',
    name: 'people',
    replicaIdentity: 'd',
    columns: expectedColumns,
    keep: ['id', 'name', null, 'doc', 'amount'],
    binding: { table: 'people' },
  });
  t.deepEqual(seen, [
    { oid: PEOPLE_OID, schema: 'public', name: 'people', replicaIdentity: 'd', columns: expectedColumns },
  ]);
});

test('Relation: non-ASCII schema, table and column names decode as UTF-8', (t) => {
  const m = as(dec(decoder(), ordersRel()), 'relation');
  t.is(m.rel.schema, '业务');
  t.is(m.rel.name, '订单');
  t.is(m.rel.replicaIdentity, 'f');
  t.deepEqual(
    m.rel.columns.map((c) => c.name),
    ['编号', '备注'],
  );
  t.deepEqual(m.rel.keep, ['编号', '备注']);
});

test('Relation of an unbound table: keep is null and its changes decode to null', (t) => {
  const d = decoder();
  const m = as(dec(d, auditRel()), 'relation');
  t.is(m.rel.keep, null);
  t.is(dec(d, insert({ relOid: AUDIT_OID, new: ['1', 'x'] })), null);
  t.is(dec(d, update({ relOid: AUDIT_OID, new: ['1', 'y'] })), null);
  t.is(dec(d, update({ relOid: AUDIT_OID, old: ['1', 'x'], new: ['1', 'y'] })), null);
  t.is(dec(d, del({ relOid: AUDIT_OID, key: ['1', null] })), null);
  t.is(dec(d, truncate({ relOids: [AUDIT_OID] })), null);
});

test('a Relation message sent again (the table changed) replaces the layout used for later changes', (t) => {
  const d = primed();
  dec(
    d,
    relation({
      oid: PEOPLE_OID,
      schema: 'public',
      name: 'people',
      columns: [
        { name: 'id', typeOid: INT8, isKey: true },
        { name: 'doc', typeOid: TEXT },
        { name: 'name', typeOid: TEXT },
      ],
    }),
  );
  const m = as(dec(d, insert({ relOid: PEOPLE_OID, new: ['1', 'the doc', 'the name'] })), 'insert');
  t.deepEqual(m.new.row, { id: '1', doc: 'the doc', name: 'the name' });
});

// --- Insert / tuple data -----------------------------------------------------------------------------------------

test('Insert: kept columns become the server text; columns not kept are absent', (t) => {
  const m = as(
    dec(primed(), insert({ relOid: PEOPLE_OID, new: ['42', 'Ada', '\\x0102', 'a doc', '1234567890123456.7891'] })),
    'insert',
  );
  t.is(m.xid, 0);
  t.is(m.rel.oid, PEOPLE_OID);
  t.deepEqual(m.new, {
    row: { id: '42', name: 'Ada', doc: 'a doc', amount: '1234567890123456.7891' },
    unchanged: null,
  });
  t.false('photo' in m.new.row);
});

test('a long column that is not kept is skipped by its length, and the columns after it still decode', (t) => {
  const photo = `\\x${'ab'.repeat(2 * 1024 * 1024)}`; // 4 MiB of text
  const m = as(dec(primed(), insert({ relOid: PEOPLE_OID, new: ['1', 'before', photo, 'after', '0'] })), 'insert');
  t.deepEqual(m.new.row, { id: '1', name: 'before', doc: 'after', amount: '0' });
  t.false(JSON.stringify(m).includes('abab'));
});

test("SQL NULL ('n') is null; an unchanged TOAST value ('u') is absent and listed, never null", (t) => {
  const m = as(dec(primed(), update({ relOid: PEOPLE_OID, new: ['1', null, UNCHANGED, UNCHANGED, null] })), 'update');
  t.deepEqual(m.new.row, { id: '1', name: null, amount: null });
  t.false('doc' in m.new.row);
  t.deepEqual(m.new.unchanged, ['doc'], 'photo is unchanged too, but it is not kept');
  t.is(m.old, null);
  t.false(m.keyOnly);
});

test('an empty string is not NULL', (t) => {
  const m = as(dec(primed(), insert({ relOid: PEOPLE_OID, new: ['1', '', null, '', null] })), 'insert');
  t.deepEqual(m.new.row, { id: '1', name: '', doc: '', amount: null });
});

test('multi-byte UTF-8 (Chinese, emoji, combining marks) decodes exactly', (t) => {
  const name = '欧阳娜娜';
  const doc = `中华人民共和国政府信息公开条例 🇨🇳👩🏽‍💻 e\u0301 ${'数据共享'.repeat(5000)}`;
  const m = as(dec(primed(), insert({ relOid: PEOPLE_OID, new: ['1', name, '照片', doc, '¥1.00'] })), 'insert');
  t.is(m.new.row['name'], name);
  t.is(m.new.row['doc'], doc);
  t.is(m.new.row['amount'], '¥1.00');
  const o = as(dec(primed(), insert({ relOid: ORDERS_OID, new: ['7', '加急'] })), 'insert');
  t.deepEqual(o.new.row, { 编号: '7', 备注: '加急' });
});

test('int8 and numeric beyond 2^53 stay exact text', (t) => {
  const d = primed();
  for (const [id, amount] of [
    ['9223372036854775807', '99999999999999999999.9999'],
    ['-9223372036854775808', '-0.0001'],
    ['9007199254740993', '9007199254740993.0000'],
  ] as const) {
    const m = as(dec(d, insert({ relOid: PEOPLE_OID, new: [id, null, null, null, amount] })), 'insert');
    t.is(m.new.row['id'], id);
    t.is(m.new.row['amount'], amount);
  }
});

test('a binary value in a kept column is refused; in a column not kept it is skipped', (t) => {
  const d = primed();
  const e = t.throws(
    () => dec(d, insert({ relOid: PEOPLE_OID, new: ['1', { binary: Buffer.from([1, 2, 3]) }, null, null, null] })),
    { instanceOf: PgoutputError },
  );
  t.regex(e.message, /"name"/);
  const m = as(
    dec(d, insert({ relOid: PEOPLE_OID, new: ['1', 'n', { binary: Buffer.alloc(100_000, 7) }, 'd', '1'] })),
    'insert',
  );
  t.deepEqual(m.new.row, { id: '1', name: 'n', doc: 'd', amount: '1' });
});

test('a tuple with more columns than the relation (a column added later) ignores the extra ones', (t) => {
  const m = as(dec(primed(), insert({ relOid: PEOPLE_OID, new: ['1', 'n', null, 'd', '2', 'extra'] })), 'insert');
  t.deepEqual(m.new.row, { id: '1', name: 'n', doc: 'd', amount: '2' });
});

// --- Update / Delete ---------------------------------------------------------------------------------------------

test("Update with a key-only old tuple ('K')", (t) => {
  const m = as(
    dec(
      primed(),
      update({ relOid: PEOPLE_OID, key: ['1', null, null, null, null], new: ['2', 'n', null, UNCHANGED, '3'] }),
    ),
    'update',
  );
  t.true(m.keyOnly);
  t.deepEqual(m.old, { row: { id: '1', name: null, doc: null, amount: null }, unchanged: null });
  t.deepEqual(m.new, { row: { id: '2', name: 'n', amount: '3' }, unchanged: ['doc'] });
});

test("Update with the full old row ('O', REPLICA IDENTITY FULL)", (t) => {
  const m = as(
    dec(
      primed(),
      update({
        relOid: PEOPLE_OID,
        old: ['1', 'old name', 'p', 'doc', '1.5'],
        new: ['1', 'new name', 'p', UNCHANGED, '2.5'],
      }),
    ),
    'update',
  );
  t.false(m.keyOnly);
  t.deepEqual(m.old, { row: { id: '1', name: 'old name', doc: 'doc', amount: '1.5' }, unchanged: null });
  t.deepEqual(m.new, { row: { id: '1', name: 'new name', amount: '2.5' }, unchanged: ['doc'] });
});

test("Delete with the key ('K') and with the full old row ('O')", (t) => {
  const d = primed();
  const k = as(dec(d, del({ relOid: PEOPLE_OID, key: ['7', null, null, null, null] })), 'delete');
  t.true(k.keyOnly);
  t.deepEqual(k.old.row, { id: '7', name: null, doc: null, amount: null });
  const o = as(dec(d, del({ relOid: PEOPLE_OID, old: ['8', 'n', 'p', 'd', '1'] })), 'delete');
  t.false(o.keyOnly);
  t.deepEqual(o.old, { row: { id: '8', name: 'n', doc: 'd', amount: '1' }, unchanged: null });
  t.is(o.rel.oid, PEOPLE_OID);
});

// --- Truncate, Message, Type, Origin -----------------------------------------------------------------------------

test('Truncate: option bits and the bound relations, in order', (t) => {
  const d = primed();
  for (const [cascade, restartIdentity] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const m = as(
      dec(d, truncate({ relOids: [ORDERS_OID, AUDIT_OID, PEOPLE_OID], cascade, restartIdentity })),
      'truncate',
    );
    t.is(m.cascade, cascade);
    t.is(m.restartIdentity, restartIdentity);
    t.deepEqual(
      m.rels.map((r) => r.oid),
      [ORDERS_OID, PEOPLE_OID],
      'audit_log is not bound',
    );
  }
});

test('logical decoding Message: flags, LSN, prefix and binary content exactly', (t) => {
  const content = Buffer.from([0, 1, 2, 0xff, 0, 0xe4, 0xb8, 0xad]);
  const d = primed();
  const buf = message({ transactional: true, lsn: lsn('3/DEADBEEF'), prefix: 'sluice.心跳', content });
  const m = as(dec(d, buf), 'message');
  t.is(m.xid, 0);
  t.true(m.transactional);
  t.is(m.lsn, 0x3deadbeef);
  t.is(m.prefix, 'sluice.心跳');
  t.deepEqual(m.content, content);
  buf.fill(0);
  t.deepEqual(m.content, content, 'the content is a copy that outlives the read buffer');
  const nt = as(dec(d, message({ transactional: false, lsn: 5n, prefix: '', content: '' })), 'message');
  t.false(nt.transactional);
  t.is(nt.prefix, '');
  t.is(nt.content.length, 0);
});

test('Type and Origin messages decode to null', (t) => {
  const d = primed();
  t.is(dec(d, type({ oid: 90000, schema: 'public', name: 'mood' })), null);
  t.is(dec(d, origin({ lsn: 5n, name: 'node_a' })), null);
});

// --- streaming -----------------------------------------------------------------------------------------------

test('Stream Start / Stop / Commit / Abort round trip', (t) => {
  const d = primed();
  t.deepEqual(dec(d, streamStart({ xid: 900, first: true })), { tag: 'stream_start', xid: 900, first: true });
  t.deepEqual(dec(d, streamStop()), { tag: 'stream_stop' });
  t.deepEqual(dec(d, streamStart({ xid: 0xfffffff0, first: false })), {
    tag: 'stream_start',
    xid: 0xfffffff0,
    first: false,
  });
  t.deepEqual(dec(d, streamStop()), { tag: 'stream_stop' });
  const ts = pgMicros('2026-02-28T23:59:59.000001Z');
  t.deepEqual(dec(d, streamCommit({ xid: 900, commitLsn: lsn('A/10'), endLsn: lsn('A/48'), commitTs: ts })), {
    tag: 'stream_commit',
    xid: 900,
    commitLsn: 0xa00000010,
    endLsn: 0xa00000048,
    commitTs: Number(ts),
  });
  t.deepEqual(dec(d, streamAbort({ xid: 900, subxid: 905 })), { tag: 'stream_abort', xid: 900, subxid: 905 });
  t.deepEqual(dec(d, streamAbort({ xid: 900, subxid: 900 })), { tag: 'stream_abort', xid: 900, subxid: 900 });
});

test('inside a stream block every change carries its (sub)transaction xid; after Stream Stop none does', (t) => {
  const d = decoder();
  dec(d, streamStart({ xid: 900, first: true }));
  t.is(as(dec(d, peopleRel(900)), 'relation').rel.keep?.length, 5);
  t.is(as(dec(d, auditRel(900)), 'relation').rel.keep, null);
  t.is(dec(d, type({ xid: 900, oid: 90000, schema: 'public', name: 'mood' })), null);
  const ins = as(dec(d, insert({ xid: 901, relOid: PEOPLE_OID, new: ['1', 'a', null, 'd', '1'] })), 'insert');
  t.is(ins.xid, 901);
  t.deepEqual(ins.new.row, { id: '1', name: 'a', doc: 'd', amount: '1' });
  const upd = as(
    dec(
      d,
      update({ xid: 902, relOid: PEOPLE_OID, key: ['1', null, null, null, null], new: ['2', 'b', null, 'd', '1'] }),
    ),
    'update',
  );
  t.is(upd.xid, 902);
  t.true(upd.keyOnly);
  t.deepEqual(upd.new.row, { id: '2', name: 'b', doc: 'd', amount: '1' });
  const delm = as(dec(d, del({ xid: 900, relOid: PEOPLE_OID, old: ['2', 'b', null, 'd', '1'] })), 'delete');
  t.is(delm.xid, 900);
  t.deepEqual(delm.old.row, { id: '2', name: 'b', doc: 'd', amount: '1' });
  const tr = as(dec(d, truncate({ xid: 903, relOids: [PEOPLE_OID, AUDIT_OID], cascade: true })), 'truncate');
  t.is(tr.xid, 903);
  t.deepEqual(
    tr.rels.map((r) => r.oid),
    [PEOPLE_OID],
  );
  t.true(tr.cascade);
  const msg = as(dec(d, message({ xid: 900, transactional: true, lsn: 77n, prefix: 'p', content: 'c' })), 'message');
  t.is(msg.xid, 900);
  t.is(msg.lsn, 77);
  t.is(msg.content.toString(), 'c');
  t.is(dec(d, insert({ xid: 900, relOid: AUDIT_OID, new: ['1', 'x'] })), null);
  dec(d, streamStop());
  // a plain transaction between stream blocks: no xid field
  dec(d, begin({ finalLsn: 10n, commitTs: 0n, xid: 950 }));
  const plain = as(dec(d, insert({ relOid: PEOPLE_OID, new: ['3', 'c', null, null, null] })), 'insert');
  t.is(plain.xid, 0);
  t.deepEqual(plain.new.row, { id: '3', name: 'c', doc: null, amount: null });
  t.is(as(dec(d, message({ transactional: false, lsn: 78n, prefix: 'q', content: 'z' })), 'message').prefix, 'q');
});

// --- framing, errors -------------------------------------------------------------------------------------------

test('messages packed into one read buffer decode at their offsets, as when decoded alone', (t) => {
  const msgs = [
    peopleRel(),
    begin({ finalLsn: lsn('1/100'), commitTs: 5n, xid: 10 }),
    insert({ relOid: PEOPLE_OID, new: ['1', '张三', 'p', 'd', '1.0'] }),
    update({ relOid: PEOPLE_OID, old: ['1', '张三', 'p', 'd', '1.0'], new: ['1', '李四', 'p', UNCHANGED, '2.0'] }),
    del({ relOid: PEOPLE_OID, key: ['1', null, null, null, null] }),
    truncate({ relOids: [PEOPLE_OID] }),
    message({ transactional: true, lsn: 9n, prefix: 'p', content: 'xyz' }),
    commit({ commitLsn: lsn('1/100'), endLsn: lsn('1/130'), commitTs: 5n }),
    streamStart({ xid: 11, first: true }),
    insert({ xid: 11, relOid: PEOPLE_OID, new: ['2', 'x', null, null, null] }),
    streamStop(),
    streamCommit({ xid: 11, commitLsn: lsn('1/200'), endLsn: lsn('1/230'), commitTs: 6n }),
  ];
  const alone = decoder();
  const expected = msgs.map((m) => dec(alone, m));
  for (const filler of [0, 3]) {
    const { buf, frames } = pack(msgs, filler);
    const d = decoder();
    t.deepEqual(
      frames.map(([s, e]) => d.decode(buf, s, e)),
      expected,
      `filler ${filler}`,
    );
  }
});

test('a change before its Relation message throws a PgoutputError naming the relation', (t) => {
  for (const m of [
    insert({ relOid: 777, new: ['1'] }),
    update({ relOid: 777, new: ['1'] }),
    del({ relOid: 777, key: ['1'] }),
    truncate({ relOids: [777] }),
  ]) {
    const e = t.throws(() => dec(decoder(), m), { instanceOf: PgoutputError });
    t.regex(e.message, /relation 777 before its Relation message/);
  }
});

test('an unknown message type throws a PgoutputError', (t) => {
  const e = t.throws(() => dec(decoder(), Buffer.from('Z\0\0\0\0')), { instanceOf: PgoutputError });
  t.regex(e.message, /unknown pgoutput message 'Z'/);
});

test('an unknown tuple column kind throws a PgoutputError', (t) => {
  const good = insert({ relOid: PEOPLE_OID, new: ['1', null, null, null, null] });
  const bad = Buffer.from(good);
  bad[bad.length - 1] = 'x'.charCodeAt(0); // the last column's kind byte
  t.throws(() => dec(primed(), bad), { instanceOf: PgoutputError, message: /tuple column kind 0x78/ });
});

/** One sample of every message, with the stream state it is decoded in. */
function samples(): { what: string; inStream: boolean; msg: Buffer }[] {
  const ts = pgMicros('2025-01-01T00:00:00Z');
  const plain = [
    ['Begin', begin({ finalLsn: lsn('1/10'), commitTs: ts, xid: 5 })],
    ['Commit', commit({ commitLsn: lsn('1/10'), endLsn: lsn('1/40'), commitTs: ts })],
    ['Relation', peopleRel()],
    ['Insert', insert({ relOid: PEOPLE_OID, new: ['1', '名字', 'p', null, UNCHANGED] })],
    ['Update', update({ relOid: PEOPLE_OID, new: ['1', 'n', null, UNCHANGED, '1'] })],
    ['Update K', update({ relOid: PEOPLE_OID, key: ['1', null, null, null, null], new: ['2', 'n', null, 'd', '1'] })],
    ['Update O', update({ relOid: PEOPLE_OID, old: ['1', 'a', 'b', 'c', 'd'], new: ['1', 'n', 'b', 'c', 'd'] })],
    ['Delete K', del({ relOid: PEOPLE_OID, key: ['1', null, null, null, null] })],
    ['Delete O', del({ relOid: PEOPLE_OID, old: ['1', 'a', 'b', 'c', 'd'] })],
    ['Truncate', truncate({ relOids: [PEOPLE_OID, ORDERS_OID], cascade: true })],
    ['Message', message({ transactional: true, lsn: 9n, prefix: 'pre', content: 'content' })],
    ['Stream Start', streamStart({ xid: 5, first: true })],
    ['Stream Commit', streamCommit({ xid: 5, commitLsn: lsn('1/10'), endLsn: lsn('1/40'), commitTs: ts })],
    ['Stream Abort', streamAbort({ xid: 5, subxid: 6 })],
  ] as const;
  const streamed = [
    ['streamed Relation', peopleRel(5)],
    ['streamed Insert', insert({ xid: 6, relOid: PEOPLE_OID, new: ['1', 'n', null, null, null] })],
    ['streamed Update', update({ xid: 6, relOid: PEOPLE_OID, new: ['1', 'n', null, null, null] })],
    ['streamed Delete', del({ xid: 6, relOid: PEOPLE_OID, key: ['1', null, null, null, null] })],
    ['streamed Truncate', truncate({ xid: 6, relOids: [PEOPLE_OID] })],
    ['streamed Message', message({ xid: 6, transactional: true, lsn: 9n, prefix: 'pre', content: 'content' })],
  ] as const;
  return [
    ...plain.map(([what, msg]) => ({ what, inStream: false, msg })),
    ...streamed.map(([what, msg]) => ({ what, inStream: true, msg })),
  ];
}

function decoderIn(inStream: boolean): PgoutputDecoder {
  const d = primed();
  if (inStream) dec(d, streamStart({ xid: 5, first: false }));
  return d;
}

test('every sample message decodes whole (the truncation tests below start from valid messages)', (t) => {
  for (const { what, inStream, msg } of samples()) {
    t.not(decoderIn(inStream).decode(msg, 0, msg.length), null, what);
  }
});

test('a message cut short anywhere throws a PgoutputError, never a RangeError', (t) => {
  for (const { what, inStream, msg } of samples()) {
    for (let cut = 1; cut < msg.length; cut++) {
      const part = msg.subarray(0, cut);
      const d = decoderIn(inStream);
      t.throws(() => d.decode(part, 0, part.length), { instanceOf: PgoutputError }, `${what} cut at ${cut}`);
    }
  }
});

test('a message cut short never reads into the next message of the same read buffer', (t) => {
  const next = commit({ commitLsn: lsn('7/7'), endLsn: lsn('7/8'), commitTs: 1n });
  for (const { what, inStream, msg } of samples()) {
    for (let cut = 1; cut < msg.length; cut++) {
      const { buf, frames } = pack([msg.subarray(0, cut), next, next]);
      const [s, e] = frames[0]!;
      const d = decoderIn(inStream);
      t.throws(() => d.decode(buf, s, e), { instanceOf: PgoutputError }, `${what} cut at ${cut}`);
    }
  }
});

test('a change or relation message with bytes after its end throws a PgoutputError', (t) => {
  for (const { what, inStream, msg } of samples()) {
    if (!/Relation|Insert|Update|Delete|Truncate|Message/.test(what)) continue;
    const longer = Buffer.concat([msg, Buffer.from([0x6e])]);
    t.throws(() => decoderIn(inStream).decode(longer, 0, longer.length), { instanceOf: PgoutputError }, what);
  }
});

test('a truncated Relation does not replace the known layout', (t) => {
  const d = primed();
  const r = relation({
    oid: PEOPLE_OID,
    schema: 'public',
    name: 'people',
    columns: [{ name: 'id', typeOid: INT8, isKey: true }],
  });
  t.throws(() => d.decode(r, 0, r.length - 1), { instanceOf: PgoutputError });
  const m = as(dec(d, insert({ relOid: PEOPLE_OID, new: ['1', 'n', null, 'd', '1'] })), 'insert');
  t.deepEqual(m.new.row, { id: '1', name: 'n', doc: 'd', amount: '1' });
});

test('relation objects are shared between a Relation message and the changes that use it', (t) => {
  const d = decoder();
  const rel: Relation = as(dec(d, peopleRel()), 'relation').rel;
  t.is(as(dec(d, insert({ relOid: PEOPLE_OID, new: ['1', null, null, null, null] })), 'insert').rel, rel);
});

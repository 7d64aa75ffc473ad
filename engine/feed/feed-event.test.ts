import test from 'ava';
import type { ChangeEvent } from '../../schemas/index.ts';
import { buildBatchRows } from '../delivery/batch-rows.ts';
import { compileFieldMasks } from '../delivery/field-masks.ts';
import { hmacHex } from '../masking/index.ts';
import { subscription, V1 } from '../testing/cycle-fixture.ts';
import { feedEvent, type FeedShape } from './feed-event.ts';
import { jsonValue } from './json-value.ts';

const KEY = new Uint8Array(32).fill(7);
const schema = { ...V1, version: 1 };
const fields = subscription().fields;
const masks = compileFieldMasks(fields, { hash: KEY }, { columns: V1.columns });
const shape: FeedShape = {
  subscription: 'audit-people',
  provider: 'civil',
  resource: 'people',
  key: ['id'],
  columns: V1.columns,
  masks,
  keyMask: () => compileFieldMasks([{ name: 'id', level: 'general', strategy: 'hash' }], { hash: KEY })[0]!,
};
const ev = (over: Partial<ChangeEvent>): ChangeEvent => ({
  resource: 'people',
  op: 'c',
  key: { id: '9007199254740993' },
  after: {
    id: '9007199254740993',
    name: '欧阳娜娜',
    mobile: '13812345678',
    id_card: '11010519491231002X',
    salary: '1.50',
  },
  position: '00000001/00000A00:0000000001',
  seq: '42',
  commitTs: '2026-12-03T08:00:00.123456Z',
  txId: '700',
  schemaVersion: 1,
  ...over,
});

test('an insert: CloudEvents attributes, the masked key as subject, int8 as a string, masks as in a batch file', (t) => {
  const e = ev({});
  const f = feedEvent(shape, e)!;
  t.like(f, {
    specversion: '1.0',
    id: 'audit-people:42',
    type: 'sluice.change.insert',
    source: 'sluice/civil/people',
    time: '2026-12-03T08:00:00.123456Z',
    subject: '{"id":"9007199254740993"}',
    datacontenttype: 'application/json',
    sluiceposition: '00000001/00000A00:0000000001',
  });
  t.deepEqual(f.data.key, { id: '9007199254740993' });
  // same input → same output: the batch file's values for the same event
  const batch = buildBatchRows([e], schema, masks);
  const col = (name: string) => batch.values[batch.columns.findIndex((c) => c.name === name)]![0];
  for (const m of masks) t.is(f.data.after![m.field], col(m.field), m.field);
  t.is(f.data.after!.mobile, hmacHex(KEY, '13812345678'));
  t.is(f.data.after!.name, '欧***');
  t.false('salary' in f.data.after!, 'a field not granted is absent');
  t.is(f.data.before, undefined);
});

test('deletes and updates: before when the source sent it, a key not granted is hashed, a truncate has no key', (t) => {
  const del = feedEvent(shape, ev({ op: 'd', after: undefined, before: { id: '1', name: '张三' }, key: { id: '1' } }))!;
  t.is(del.type, 'sluice.change.delete');
  t.is(del.data.after, null);
  t.is(del.data.before!.name, '张*');
  const bare = feedEvent(shape, ev({ op: 'd', after: undefined, key: { id: '1' } }))!;
  t.is(bare.data.before, undefined, 'REPLICA IDENTITY DEFAULT: the key only');
  const upd = feedEvent(shape, ev({ op: 'u', before: { id: '9007199254740993', name: '王五' } }))!;
  t.is(upd.type, 'sluice.change.update');
  t.is(upd.data.before!.name, '王*');
  const noKey = feedEvent({ ...shape, masks: masks.filter((m) => m.field !== 'id') }, ev({}))!;
  t.deepEqual(noKey.data.key, { id: hmacHex(KEY, '9007199254740993') });
  t.false('id' in noKey.data.after!);
  const trunc = feedEvent(shape, ev({ op: 't', key: {}, after: undefined }))!;
  t.is(trunc.type, 'sluice.change.truncate');
  t.is(trunc.subject, undefined);
  t.deepEqual(trunc.data, { op: 't', key: {}, after: null });
});

test("the subscription's filter decides as in batch files: leaving it is a delete, entering it an insert", (t) => {
  const filtered: FeedShape = {
    ...shape,
    rules: { filter: { test: (row) => (row.name == null ? null : String(row.name).startsWith('欧')), keyOnly: false } },
  };
  const out = feedEvent(
    filtered,
    ev({ op: 'u', before: { id: '9007199254740993', name: '欧阳' }, after: { id: '9007199254740993', name: '张' } }),
  )!;
  t.is(out.type, 'sluice.change.delete');
  const into = feedEvent(filtered, ev({ op: 'u', before: { id: '9007199254740993', name: '张' } }))!;
  t.is(into.type, 'sluice.change.insert');
  t.is(feedEvent(filtered, ev({ after: { id: '1', name: '张' } })), null, 'outside the filter: no event');
});

test('JSON values: numbers, booleans, base64 bytes, RFC 3339 timestamps, lists; int8, numeric and NaN as strings', (t) => {
  t.is(jsonValue({ kind: 'int32' }, '-7'), -7);
  t.is(jsonValue({ kind: 'int64' }, '9223372036854775807'), '9223372036854775807');
  t.is(jsonValue({ kind: 'decimal', precision: 20, scale: 4 }, '1234567890123456.7891'), '1234567890123456.7891');
  t.is(jsonValue({ kind: 'float64' }, '0.1'), 0.1);
  t.is(jsonValue({ kind: 'float64' }, 'NaN'), 'NaN');
  t.is(jsonValue({ kind: 'bool' }, 't'), true);
  t.is(jsonValue({ kind: 'bool' }, 'f'), false);
  t.is(jsonValue({ kind: 'binary' }, '\\x0102ff'), 'AQL/');
  t.is(jsonValue({ kind: 'timestamp', tz: 'UTC' }, '2026-12-03 08:00:00.123456+00'), '2026-12-03T08:00:00.123456Z');
  t.is(jsonValue({ kind: 'timestamp', tz: null }, '2026-12-03 08:00:00'), '2026-12-03T08:00:00');
  t.is(jsonValue({ kind: 'timestamp', tz: 'UTC' }, 'infinity'), 'infinity');
  t.deepEqual(jsonValue({ kind: 'list', element: { kind: 'int32' } }, '["1",null,"3"]'), [1, null, 3]);
  t.is(jsonValue({ kind: 'utf8', json: true }, '{"a": 1}'), '{"a": 1}', 'json as its text: exact');
  t.is(jsonValue({ kind: 'date' }, null), null);
});

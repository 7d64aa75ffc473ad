import test from 'ava';
import type { ChangeEvent } from '../../schemas/index.ts';
import { NetEffect } from './net-effect.ts';

type Op = ChangeEvent['op'];
let seq = 0;
const ev = (op: Op, id: number | null): ChangeEvent =>
  ({
    resource: 'r',
    op,
    key: id === null ? {} : { id: String(id) },
    position: String(++seq),
    seq: String(seq),
    commitTs: '2026-12-04T08:00:00.000000Z',
    txId: '1',
    schemaVersion: 1,
  }) as ChangeEvent;

/** Runs both passes over (event, op seen by the subscription) pairs; returns what is delivered, as "id:op". */
function net(events: [ChangeEvent, Op | null][]): string[] {
  const n = new NetEffect();
  for (const [e, op] of events) n.observe(e, op);
  const out: string[] = [];
  for (const [e, op] of events) {
    if (op === null) continue;
    const d = n.select(e, op);
    if (d) out.push(`${e.key.id ?? '-'}:${d}`);
  }
  return out;
}
const seen = (...events: ChangeEvent[]) => events.map((e) => [e, e.op] as [ChangeEvent, Op]);

test('insert then update: one c row with the final values (the last event)', (t) => {
  const a = ev('c', 1);
  const b = ev('u', 1);
  const n = new NetEffect();
  n.observe(a, 'c');
  n.observe(b, 'u');
  t.is(n.select(a, 'c'), null);
  t.is(n.select(b, 'u'), 'c');
});

test('created and deleted within the cycle: nothing', (t) => {
  t.deepEqual(net(seen(ev('c', 1), ev('u', 1), ev('d', 1))), []);
});

test('existing rows: updates fold into one u, an update then a delete is a d, a delete then a re-insert a u', (t) => {
  t.deepEqual(net(seen(ev('u', 1), ev('u', 1), ev('u', 1))), ['1:u']);
  t.deepEqual(net(seen(ev('u', 2), ev('d', 2))), ['2:d']);
  t.deepEqual(net(seen(ev('d', 3), ev('c', 3))), ['3:u']);
  t.deepEqual(net(seen(ev('d', 4))), ['4:d']);
});

test('keys are independent and delivered in the order of their last change', (t) => {
  t.deepEqual(net(seen(ev('c', 1), ev('u', 2), ev('u', 1), ev('c', 3), ev('d', 2))), ['1:c', '3:c', '2:d']);
});

test("the subscriber's view counts: a row leaving the filter is a delete for it, one entering an insert", (t) => {
  // existed for the subscriber, left the filter, came back: an update
  const a = ev('u', 1);
  const b = ev('u', 1);
  t.deepEqual(
    net([
      [a, 'd'],
      [b, 'c'],
    ]),
    ['1:u'],
  );
  // entered the filter, then left it: the subscriber never had it
  t.deepEqual(
    net([
      [ev('u', 2), 'c'],
      [ev('u', 2), 'd'],
    ]),
    [],
  );
  // changes outside the filter are not seen at all
  t.deepEqual(
    net([
      [ev('u', 3), null],
      [ev('u', 3), 'c'],
      [ev('u', 3), null],
    ]),
    ['3:c'],
  );
});

test('a truncate supersedes the changes before it; only the last truncate is delivered', (t) => {
  t.deepEqual(net(seen(ev('u', 1), ev('c', 2), ev('t', null), ev('c', 3), ev('t', null), ev('c', 4))), ['-:t', '4:c']);
});

test('state rows (r) stay state rows, unless deleted', (t) => {
  t.deepEqual(net(seen(ev('r', 1), ev('u', 1))), ['1:r']);
  t.deepEqual(net(seen(ev('r', 2), ev('d', 2))), ['2:d']);
});

test('composite keys are one key whatever the property order', (t) => {
  const a = { ...ev('c', null), key: { a: '1', b: '2' } } as ChangeEvent;
  const b = { ...ev('u', null), key: { b: '2', a: '1' } } as ChangeEvent;
  const n = new NetEffect();
  n.observe(a, 'c');
  n.observe(b, 'u');
  t.is(n.select(a, 'c'), null);
  t.is(n.select(b, 'u'), 'c');
  t.is(n.seen, 2);
});

test('state (snapshot mode): every key that still exists, once, as r at its last event; truncates only clear', (t) => {
  const events = seen(
    ev('r', 1),
    ev('r', 2),
    ev('u', 1),
    ev('c', 3),
    ev('d', 2),
    ev('t', null),
    ev('r', 4),
    ev('c', 5),
  );
  const n = new NetEffect('state');
  for (const [e, op] of events) n.observe(e, op);
  const out = events.map(([e, op]) => n.select(e, op)).map((op, i) => (op ? `${events[i]![0].key.id}:${op}` : null));
  t.deepEqual(
    out.filter((x) => x !== null),
    ['4:r', '5:r'],
  );
  const m = new NetEffect('state');
  const before = seen(ev('r', 1), ev('r', 2), ev('u', 1), ev('d', 2));
  for (const [e, op] of before) m.observe(e, op);
  t.deepEqual(
    before.map(([e, op]) => m.select(e, op)),
    [null, null, 'r', null],
  );
  t.deepEqual([...m.versions()], [1]);
});

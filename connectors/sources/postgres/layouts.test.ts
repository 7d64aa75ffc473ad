import test from 'ava';
import { isSluiceError } from '../../../engine/errors.ts';
import { LayoutRegistry } from './layouts.ts';
import type { PgColumn } from './type-map.ts';

const people = { resource: 'people', key: ['id'], keep: new Set(['id', 'name', 'amount']) };
const pg = (name: string, type: string, typeOid: number, typmod = -1): PgColumn => ({
  name,
  type,
  typeOid,
  typmod,
  typtype: 'b',
  category: '',
  notNull: false,
});
const TABLE = [
  pg('id', 'bigint', 20),
  pg('name', 'text', 25),
  pg('secret', 'text', 25),
  pg('amount', 'numeric(20,4)', 1700, 1310724),
];
const rel = (cols: PgColumn[]) =>
  cols.map((c) => ({ name: c.name, typeOid: c.typeOid, typmod: c.typmod, isKey: c.name === 'id' }));

test('the table at start and the same relation in the stream are one layout; nothing new to report', async (t) => {
  const r = new LayoutRegistry();
  const start = r.fromTable(people, TABLE);
  r.restart([start]);
  t.deepEqual(
    start.shape!.columns.map((c) => c.name),
    ['id', 'name', 'amount'],
    'only kept columns',
  );
  const streamed = r.fromRelation(people, 'public.people', rel(TABLE));
  t.is(streamed, start);
  t.false(r.pending);
  t.is(streamed.binding.layout, start.id);
});

test('a retyped or dropped column is a new layout, reported once with its types described; a known one is reused', async (t) => {
  const r = new LayoutRegistry();
  const start = r.fromTable(people, TABLE);
  r.restart([start]);
  const retyped = [TABLE[0]!, TABLE[1]!, TABLE[2]!, pg('amount', 'numeric(30,6)', 1700, 1966090)];
  const l2 = r.fromRelation(people, 'public.people', rel(retyped));
  t.not(l2.id, start.id);
  t.true(r.pending);
  const asked: string[][] = [];
  const shapes = await r.report(async (cols) => {
    asked.push(cols.map((c) => c.name));
    return cols.map((c) => retyped.find((x) => x.name === c.name)!);
  });
  t.deepEqual(asked, [['id', 'name', 'amount']]);
  t.deepEqual(shapes[0]!.columns.at(-1), {
    name: 'amount',
    type: { kind: 'decimal', precision: 30, scale: 6 },
    sourceType: 'numeric(30,6)',
  });
  t.is(shapes[0]!.layout, l2.id);
  t.false(r.pending);
  // an unkept column added changes nothing; the start layout seen again after a restart is reported again
  t.is(r.fromRelation(people, 'public.people', rel([...retyped, pg('extra', 'text', 25)])), l2);
  t.false(r.pending);
  r.restart([]);
  t.is(r.fromRelation(people, 'public.people', rel(TABLE)), start);
  t.deepEqual(
    (await r.report(async () => t.fail('known types are not described again') as never)).map((s) => s.layout),
    [start.id],
  );
});

test('a key column gone from the relation is refused, naming it', (t) => {
  const r = new LayoutRegistry();
  const err = t.throws(() => r.fromRelation(people, 'public.people', rel(TABLE.slice(1))));
  t.true(isSluiceError(err, 'SOURCE_FAILED'));
  t.regex(err!.message, /key column "id" is gone from public\.people/);
});

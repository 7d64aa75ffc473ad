import test from 'ava';
import type { ShapeChange } from '../../engine/catalog/index.ts';
import type { ResourceShape } from '../../engine/ports/index.ts';
import { MemoryStateStore } from '../../engine/testing/index.ts';
import { SchemaTracker } from './schema-tracker.ts';

const col = (name: string, sourceType = 'text') => ({
  name,
  type: sourceType === 'bigint' ? ({ kind: 'int64' } as const) : ({ kind: 'utf8' } as const),
  sourceType,
});
const shape = (layout: number, ...columns: ReturnType<typeof col>[]): ResourceShape => ({
  resource: 'people',
  key: ['id'],
  columns: [col('id', 'bigint'), ...columns],
  layout,
});

test('versions per shape, changes reported, dropped fields known across a reload', async (t) => {
  const state = new MemoryStateStore();
  const changes: [ShapeChange, number][] = [];
  const tracker = await SchemaTracker.load(state, ['people'], (_r, c, v) => changes.push([c, v]));
  t.is(tracker.version('people'), null);
  t.is(await tracker.register(shape(1, col('name'), col('notes'))), 1);
  t.is(await tracker.register(shape(1, col('name'), col('notes'))), 1);
  t.deepEqual(changes, [], 'the same shape again is no change');
  t.is(await tracker.register(shape(2, col('name'))), 2);
  t.deepEqual(changes, [[{ added: [], dropped: ['notes'], retyped: [] }, 2]]);
  t.deepEqual(
    tracker.dropped('people', ['id', 'name', 'notes', 'never']),
    ['notes'],
    'a field never streamed is not "dropped"',
  );
  // a stream resumed before the DDL shows the older shape: its own version, reported as a change back
  t.is(await tracker.register(shape(3, col('name'), col('notes'))), 1);
  t.deepEqual(changes.at(-1), [{ added: ['notes'], dropped: [], retyped: [] }, 1]);
  t.is(await tracker.register(shape(4, col('name'))), 2);

  const reloaded = await SchemaTracker.load(state, ['people'], () => {});
  t.is(reloaded.version('people'), 2, 'the newest recorded version until a stream reports one');
  t.deepEqual([...reloaded.streamed('people')!].sort(), ['id', 'name', 'notes']);
  t.deepEqual(reloaded.dropped('people', ['notes']), ['notes']);
  const h = await reloaded.history('people', [{ id: 'audit', fields: ['id', 'notes'] }]);
  t.deepEqual(
    h.versions.map((v) => [v.version, v.changes?.dropped ?? null]),
    [
      [1, null],
      [2, ['notes']],
    ],
  );
  t.deepEqual(h.subscriptions, [{ id: 'audit', dropped: ['notes'] }]);
});

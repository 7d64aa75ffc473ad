import test from 'ava';
import { hmacHex } from '../masking/index.ts';
import { testPosition } from '../testing/bus-conformance.ts';
import { col, ins, setup, subscription, TICK, TICK2, V2 } from '../testing/cycle-fixture.ts';
import { batchStem, tickLabel } from './stem.ts';

test('the grant drops the denied field and keeps the subscription order', (t) => {
  const fields = subscription().fields;
  t.deepEqual(
    fields.map((f) => [f.name, f.strategy]),
    [
      ['id', 'clear'],
      ['name', 'partial'],
      ['mobile', 'hash'],
      ['id_card', 'partial'],
      ['email', 'clear'],
    ],
  );
});

test('rows in seq order with _op, _seq and _commit_ts; deletes carry the key or the old row', async (t) => {
  const { state, sink, append, run } = await setup();
  await append([
    ins('1'),
    ins('2'),
    { op: 'u', key: { id: '1' }, before: null, after: { id: '1', name: '张三', mobile: null } },
    { op: 'd', key: { id: '2' } },
    ins('3', { name: '李四' }),
    { op: 'd', key: { id: '3' }, before: { id: '3', name: '李四', mobile: null } },
  ]);
  const result = await run(TICK);
  t.is(result.rows, 6);
  t.false(result.recovered);
  t.deepEqual(result.files, [
    {
      stem: '20261203T160000Z_1-6',
      rows: 6,
      firstSeq: 1n,
      lastSeq: 6n,
      manifestFile: '20261203T160000Z_1-6.manifest.json',
    },
  ]);
  t.is(sink.writes.length, 1);
  const w = sink.writes[0]!;
  const f = w.file;
  t.is(f.subscription, 'audit-people');
  t.is(f.rows, 6);
  t.deepEqual(
    f.columns.map((c) => c.name),
    ['id', 'name', 'mobile', 'id_card', '_op', '_seq', '_commit_ts'],
    'a granted field its schema version lacks (email came with version 2) is not a column of the file',
  );
  t.deepEqual(f.columns.at(-2)!.type, { kind: 'int64' });
  t.deepEqual(f.columns.at(-1)!.type, { kind: 'timestamp', tz: 'UTC' });
  t.deepEqual(col(f, '_op'), ['c', 'c', 'u', 'd', 'c', 'd']);
  t.deepEqual(col(f, '_seq'), ['1', '2', '3', '4', '5', '6']);
  t.deepEqual(
    col(f, '_commit_ts'),
    [1, 2, 3, 4, 5, 6].map((n) => `2025-12-03T15:00:0${n}.00000${n}Z`),
  );
  t.deepEqual(col(f, 'id'), ['1', '2', '1', '2', '3', '3']);
  // Delete with the key only: the other fields are NULL. Delete with the old row: its values.
  t.deepEqual(col(f, 'name'), ['欧***', '欧***', '张*', null, '李*', '李*']);

  const m = w.manifest;
  t.is(m.deliveryId, 'audit-people:1-6');
  t.deepEqual(m.seq, { first: '1', last: '6' });
  t.deepEqual(m.position, { first: testPosition(0x1001n, 0), last: testPosition(0x1006n, 0) });
  t.deepEqual(m.commitTs, { min: '2025-12-03T15:00:01.000001Z', max: '2025-12-03T15:00:06.000006Z' });
  t.deepEqual(m.ops, { c: 3, u: 1, d: 2, t: 0 });
  t.deepEqual(m.window, { from: null, to: TICK.toISOString() });
  t.is(m.schemaVersion, 1);
  t.is(m.rows, 6);
  t.is(f.metadata['sluice.schema_version'], '1');

  t.deepEqual(await state.cursor('audit-people'), { seq: 6n, lastTick: TICK.toISOString() });
  t.is(await state.openIntent('audit-people'), null);
  const [record, ...more] = await state.deliveries('audit-people');
  t.deepEqual(more, []);
  t.like(record, {
    deliveryId: 'audit-people:1-6',
    stem: '20261203T160000Z_1-6',
    firstSeq: 1n,
    lastSeq: 6n,
    rows: 6,
    manifestSha256: w.manifestSha256,
  });
  t.deepEqual(record!.parts, [{ file: '20261203T160000Z_1-6.parquet', sha256: w.sha256, bytes: w.bytes }]);
});

test('masks applied: hash = hmacHex(subscription key, value), partial, fallback noted; denied fields absent', async (t) => {
  const { state, sink, append, run } = await setup();
  await append([ins('1'), ins('2', { mobile: '13900001111', id_card: '110105491231002', salary: '99999.99' })]);
  await run(TICK);
  const { file, manifest } = sink.writes[0]!;
  const key = await state.subscriptionKey('audit-people');
  t.deepEqual(col(file, 'mobile'), [hmacHex(key, '13812345678'), hmacHex(key, '13900001111')]);
  t.regex(col(file, 'mobile')[0]!, /^[0-9a-f]{64}$/);
  // A 15-digit ID cannot be partially masked: it falls back to hash and the manifest says so.
  t.deepEqual(col(file, 'id_card'), ['110105********002X', hmacHex(key, '110105491231002')]);
  t.deepEqual(manifest.quality, [
    { column: 'id_card', seq: '2', check: 'mask-fallback-hash', detail: manifest.quality[0]!.detail },
  ]);
  t.false(manifest.quality[0]!.detail.includes('110105491231002'), 'no raw value in the manifest');
  // The core field resolves to deny: no column, and its values appear nowhere.
  t.false(file.columns.some((c) => c.name === 'salary'));
  t.false(JSON.stringify(file.values).includes('100.00'));
  t.false(JSON.stringify(file.values).includes('99999.99'));
  t.false(JSON.stringify(file.values).includes('13812345678'));
  t.deepEqual(file.columns[0]!.type, { kind: 'int64' }, 'clear keeps the source type');
  t.deepEqual(file.columns[2]!.type, { kind: 'utf8' }, 'hash is text');
  t.deepEqual(
    manifest.columns.slice(0, 4).map((c) => [c.name, c.strategy, c.tag ?? null, c.sourceType]),
    [
      ['id', 'clear', null, 'bigint'],
      ['name', 'partial', 'person_name', 'text'],
      ['mobile', 'hash', 'cn_mobile', 'text'],
      ['id_card', 'partial', 'cn_id_card', 'character(18)'],
    ],
  );
});

test('no file when nothing is new; the cursor stays', async (t) => {
  const { state, sink, append, run } = await setup();
  t.like(await run(TICK), { files: [], rows: 0, recovered: false });
  t.deepEqual(await state.cursor('audit-people'), { seq: 0n, lastTick: null });
  t.is(sink.writes.length, 0);

  await append([ins('1'), ins('2')]);
  t.is((await run(TICK)).files.length, 1);
  t.like(await run(TICK2), { files: [], rows: 0, recovered: false });
  t.is(sink.writes.length, 1);
  t.deepEqual(await state.cursor('audit-people'), { seq: 2n, lastTick: TICK.toISOString() });
  t.is(await state.openIntent('audit-people'), null);
  t.is((await state.deliveries('audit-people')).length, 1);
});

test('an intent left open at files-written is finished first, byte-identical, under its own tick', async (t) => {
  const { state, sink, append, run } = await setup();
  await append([ins('1'), ins('2'), { op: 'd', key: { id: '1' } }]);
  await t.throwsAsync(
    run(TICK, (p) => {
      if (p === 'files-written') throw new Error('crash');
    }),
    { message: 'crash' },
  );
  t.is(sink.writes.length, 1);
  t.like(await state.openIntent('audit-people'), { tick: TICK.toISOString(), fromSeq: 0n, toSeq: 3n });
  t.deepEqual(await state.cursor('audit-people'), { seq: 0n, lastTick: null });
  t.deepEqual(await state.deliveries('audit-people'), []);

  await append([ins('4'), ins('5')]); // arrives while the engine is down
  const result = await run(TICK2);
  t.true(result.recovered);
  t.deepEqual(
    result.files.map((f) => f.stem),
    ['20261203T160000Z_1-3', '20261203T170000Z_4-5'],
  );
  t.is(sink.writes.length, 3);
  const [crashed, redone, next] = sink.writes;
  t.is(redone!.path, crashed!.path);
  t.is(redone!.sha256, crashed!.sha256);
  t.is(redone!.data, crashed!.data);
  t.is(redone!.manifestText, crashed!.manifestText);
  t.is(redone!.manifestSha256, crashed!.manifestSha256);
  t.deepEqual(next!.manifest.window, { from: TICK.toISOString(), to: TICK2.toISOString() });
  t.deepEqual(
    (await state.deliveries('audit-people')).map((d) => [d.stem, d.manifestSha256]),
    [
      ['20261203T160000Z_1-3', crashed!.manifestSha256],
      ['20261203T170000Z_4-5', next!.manifestSha256],
    ],
  );
  t.deepEqual(await state.cursor('audit-people'), { seq: 5n, lastTick: TICK2.toISOString() });
});

test('a sink that fails after writing leaves the intent open; the rerun rewrites the same file', async (t) => {
  const { state, sink, append, run } = await setup();
  await append([ins('1'), ins('2', { id_card: 'not-an-id' })]);
  sink.failAfterWrite = () => true;
  await t.throwsAsync(run(TICK));
  t.not(await state.openIntent('audit-people'), null);
  sink.failAfterWrite = undefined;
  const result = await run(TICK2);
  t.true(result.recovered);
  t.deepEqual(
    result.files.map((f) => f.stem),
    ['20261203T160000Z_1-2'],
  );
  t.is(sink.writes.length, 2);
  t.is(sink.writes[1]!.sha256, sink.writes[0]!.sha256);
  t.is(sink.writes[1]!.manifestText, sink.writes[0]!.manifestText);
  t.is(sink.files.size, 1);
  t.deepEqual(await state.cursor('audit-people'), { seq: 2n, lastTick: TICK.toISOString() });
});

test('a crash after the intent but before any file: the rerun writes under the intent tick', async (t) => {
  const { state, sink, append, run } = await setup();
  await append([ins('1')]);
  await t.throwsAsync(
    run(TICK, (p) => {
      if (p === 'intent-committed') throw new Error('crash');
    }),
  );
  t.is(sink.writes.length, 0);
  const result = await run(TICK2);
  t.true(result.recovered);
  t.deepEqual(
    result.files.map((f) => f.stem),
    ['20261203T160000Z_1-1'],
  );
  t.deepEqual(await state.cursor('audit-people'), { seq: 1n, lastTick: TICK.toISOString() });
});

test('a crash after the delivery committed delivers nothing twice', async (t) => {
  const { state, sink, append, run } = await setup();
  await append([ins('1'), ins('2')]);
  await t.throwsAsync(
    run(TICK, (p) => {
      if (p === 'delivery-committed') throw new Error('crash');
    }),
  );
  t.like(await run(TICK2), { files: [], rows: 0, recovered: false });
  t.is(sink.writes.length, 1);
  t.is((await state.deliveries('audit-people')).length, 1);
});

test('a range spanning two schema versions yields one file per version, never a mixed one', async (t) => {
  const { state, sink, append, run } = await setup();
  await append([ins('1'), ins('2')]);
  const v2 = await state.registerSchema(V2);
  t.is(v2, 2);
  await append([
    { ...ins('3', { email: 'a@example.org' }), schemaVersion: 2 },
    { ...ins('4', { email: 'b@example.org' }), schemaVersion: 2 },
    { ...ins('5'), schemaVersion: 2 },
  ]);
  const result = await run(TICK);
  t.deepEqual(
    result.files.map((f) => [f.stem, f.rows]),
    [
      ['20261203T160000Z_1-2', 2],
      ['20261203T160000Z_3-5', 3],
    ],
  );
  const [a, b] = sink.writes;
  t.is(sink.writes.length, 2);
  t.is(a!.file.metadata['sluice.schema_version'], '1');
  t.is(b!.file.metadata['sluice.schema_version'], '2');
  t.is(a!.manifest.schemaVersion, 1);
  t.is(b!.manifest.schemaVersion, 2);
  t.deepEqual(col(a!.file, '_seq'), ['1', '2']);
  t.deepEqual(col(b!.file, '_seq'), ['3', '4', '5']);
  t.deepEqual(col(b!.file, 'email'), ['a@example.org', 'b@example.org', null]);
  t.is(b!.manifest.columns.find((c) => c.name === 'email')!.sourceType, 'text');
  t.false(
    a!.manifest.columns.some((c) => c.name === 'email'),
    'version 1 has no email column',
  );
  // Both files belong to one intent: one cursor move, two records.
  t.deepEqual(
    (await state.deliveries('audit-people')).map((d) => d.stem),
    ['20261203T160000Z_1-2', '20261203T160000Z_3-5'],
  );
  t.deepEqual(await state.cursor('audit-people'), { seq: 5n, lastTick: TICK.toISOString() });
});

test('maxRowsPerFile splits a backlog into several files in one tick', async (t) => {
  const { state, sink, append, run } = await setup({ maxRowsPerFile: 3 });
  await append(['1', '2', '3', '4', '5', '6', '7'].map((id) => ins(id)));
  const result = await run(TICK);
  t.deepEqual(
    result.files.map((f) => [f.stem, f.rows, f.firstSeq, f.lastSeq]),
    [
      ['20261203T160000Z_1-3', 3, 1n, 3n],
      ['20261203T160000Z_4-6', 3, 4n, 6n],
      ['20261203T160000Z_7-7', 1, 7n, 7n],
    ],
  );
  t.is(result.rows, 7);
  t.deepEqual(
    sink.writes.map((w) => col(w.file, 'id')),
    [['1', '2', '3'], ['4', '5', '6'], ['7']],
  );
  t.is((await state.deliveries('audit-people')).length, 3);
  t.deepEqual(await state.cursor('audit-people'), { seq: 7n, lastTick: TICK.toISOString() });
});

test('stems: <tick UTC as 20261203T160000Z>_<first>-<last>', async (t) => {
  t.is(batchStem('2026-12-03T16:00:00.000Z', 1n, 42n), '20261203T160000Z_1-42');
  t.is(tickLabel('2026-12-04T00:00:00+08:00'), '20261203T160000Z');
  t.is(tickLabel('2026-12-03T16:00:00.999Z'), '20261203T160000Z');
  t.is(tickLabel('2026-01-05T03:04:05Z'), '20260105T030405Z');
  t.is(
    batchStem('2026-12-03T16:00:00Z', 9223372036854775806n, 9223372036854775807n),
    '20261203T160000Z_9223372036854775806-9223372036854775807',
  );
  t.throws(() => tickLabel('not a date'), { instanceOf: RangeError });

  const { append, run } = await setup();
  await append([ins('1'), ins('2')]);
  const r = await run(new Date(Date.UTC(2026, 0, 5, 3, 4, 5, 250)));
  t.deepEqual(
    r.files.map((f) => f.stem),
    ['20260105T030405Z_1-2'],
  );
});

test('a file goes to the sink in full row groups (the last shorter), and comes out the same when re-created', async (t) => {
  const { state, sink, append, run } = await setup({}, 4);
  await append(Array.from({ length: 10 }, (_, i) => ins(String(i + 1))));
  const first = await run(TICK);
  t.is(first.rows, 10);
  t.deepEqual(sink.writes[0]!.file.groups, [4, 4, 2]);
  t.deepEqual(col(sink.writes[0]!.file, '_seq'), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  // the same range again (as after a crash) gives the same file
  const again = await setup({}, 4);
  await again.append(Array.from({ length: 10 }, (_, i) => ins(String(i + 1))));
  await again.state.secret('audit-people', 'hash'); // a key of its own: compare the content, not the hashes
  await again.run(TICK);
  t.deepEqual(
    again.sink.writes[0]!.file.values.filter((_, c) => again.sink.writes[0]!.file.columns[c]!.name !== 'mobile'),
    sink.writes[0]!.file.values.filter((_, c) => sink.writes[0]!.file.columns[c]!.name !== 'mobile'),
  );
  t.is((await state.cursor('audit-people')).seq, 10n);
});

test('a row needing _unchanged after the first row groups were written: the file is written again with it', async (t) => {
  const { sink, append, run } = await setup({}, 4);
  await append([
    ...Array.from({ length: 9 }, (_, i) => ins(String(i + 1))),
    { op: 'u', key: { id: '3' }, after: { id: '3', mobile: '13900000000' }, unchanged: ['name'] },
  ]);
  const result = await run(TICK);
  t.is(result.rows, 10);
  t.is(sink.aborted, 1, 'the first attempt, without _unchanged, was given up');
  t.is(sink.writes.length, 1);
  const f = sink.writes[0]!.file;
  t.deepEqual(f.groups, [4, 4, 2]);
  t.deepEqual(col(f, '_unchanged'), [null, null, null, null, null, null, null, null, null, '["name"]']);
  t.true(sink.writes[0]!.manifest.columns.some((c) => c.name === '_unchanged'));
});

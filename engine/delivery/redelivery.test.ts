import test from 'ava';
import { isSluiceError } from '../errors.ts';
import { col, ins, setup, TICK, TICK2 } from '../testing/cycle-fixture.ts';
import { runRedelivery } from './redelivery.ts';

const AT = new Date('2026-12-04T09:30:00.400Z');

test('a re-delivery writes the range again under its own time, names the originals, and moves no cursor', async (t) => {
  const { state, sink, append, run, sub, deps } = await setup();
  await append([ins('1'), ins('2')]);
  await run(TICK);
  await append([ins('3'), { op: 'd', key: { id: '1' } }]);
  await run(TICK2);
  const before = await state.cursor(sub.id);
  const written = sink.writes.length;

  const r = await runRedelivery(sub, { from: { seq: 2n }, at: AT }, deps);
  t.deepEqual(
    r.files.map((f) => [f.stem, f.redeliveryOf]),
    [['20261204T093000Z_2-4', ['audit-people:1-2', 'audit-people:3-4']]],
  );
  t.is(r.fromSeq, '2');
  t.is(r.toSeq, '4');
  const { file, manifest } = sink.writes.at(-1)!;
  t.is(sink.writes.length, written + 1, 'the originals are not written again');
  t.deepEqual(col(file, '_seq'), ['2', '3', '4']);
  t.deepEqual(manifest.redeliveryOf, ['audit-people:1-2', 'audit-people:3-4']);
  t.is(manifest.deliveryId, 'audit-people:2-4@20261204T093000Z');
  t.deepEqual(await state.cursor(sub.id), before, 'the cursor stays');
  const records = await state.deliveries(sub.id);
  t.deepEqual(records.at(-1)!.redeliveryOf, ['audit-people:1-2', 'audit-people:3-4']);

  // the same rows as the originals gave (same grant, same keys)
  const originals = sink.writes.slice(0, 2);
  t.deepEqual(col(file, 'mobile'), [
    ...col(originals[0]!.file, 'mobile').slice(1),
    ...col(originals[1]!.file, 'mobile'),
  ]);

  // a later cycle delivers only what is new
  await append([ins('5')]);
  t.deepEqual(
    (await run(new Date('2026-12-04T10:00:00Z'))).files.map((f) => f.stem),
    ['20261204T100000Z_5-5'],
  );
});

test('by time: the deliveries made at or after --from, before --to', async (t) => {
  const { append, run, sub, deps } = await setup();
  await append([ins('1')]);
  await run(TICK);
  await append([ins('2')]);
  await run(TICK2);
  await append([ins('3')]);
  await run(new Date('2026-12-03T18:00:00Z'));
  const r = await runRedelivery(
    sub,
    { from: { time: new Date('2026-12-03T16:30:00Z') }, to: { time: new Date('2026-12-03T18:00:00Z') }, at: AT },
    deps,
  );
  t.deepEqual(
    r.files.map((f) => f.stem),
    ['20261204T093000Z_2-2'],
  );
});

test('refused with what is wrong: not delivered yet, an empty range, nothing delivered since', async (t) => {
  const { append, run, sub, deps, sink } = await setup();
  await append([ins('1'), ins('2')]);
  await run(TICK);
  await append([ins('3')]); // on the bus, not delivered
  const cases: [Parameters<typeof runRedelivery>[1], RegExp][] = [
    [{ from: { seq: 1n }, to: { seq: 3n }, at: AT }, /has received changes up to _seq 2; 3 is not delivered yet/],
    [{ from: { seq: 3n }, at: AT }, /nothing to re-deliver: the range _seq 3-2 is empty/],
    [{ from: { seq: 0n }, at: AT }, /--from must be a _seq of 1 or more/],
    [{ from: { time: new Date('2026-12-05T00:00:00Z') }, at: AT }, /no delivery at or after 2026-12-05T00:00:00.000Z/],
  ];
  for (const [req, message] of cases) {
    const e = await t.throwsAsync(runRedelivery(sub, req, deps), { message });
    t.true(isSluiceError(e, 'USAGE'));
  }
  t.is(sink.writes.length, 1, 'nothing written');
});

test('a re-delivery left open by a crash is finished first, byte-identical', async (t) => {
  const { state, sink, append, run, sub, deps } = await setup();
  await append([ins('1'), ins('2'), ins('3')]);
  await run(TICK);
  await t.throwsAsync(
    runRedelivery(
      sub,
      { from: { seq: 1n }, at: AT },
      {
        ...deps,
        checkpoint: (p) => {
          if (p === 'files-written') throw new Error('crash');
        },
      },
    ),
    { message: 'crash' },
  );
  t.like(await state.openIntent(sub.id, 'redelivery'), { fromSeq: 0n, toSeq: 3n });
  t.is(await state.openIntent(sub.id), null, 'no cycle intent is open');
  const crashed = sink.writes.at(-1)!;

  const finished = await runRedelivery(sub, null, deps);
  t.true(finished.recovered);
  const redone = sink.writes.at(-1)!;
  t.is(redone.path, crashed.path);
  t.is(redone.sha256, crashed.sha256);
  t.is(redone.manifestText, crashed.manifestText);
  t.is(await state.openIntent(sub.id, 'redelivery'), null);
  t.is((await state.deliveries(sub.id)).filter((d) => d.redeliveryOf).length, 1);
});

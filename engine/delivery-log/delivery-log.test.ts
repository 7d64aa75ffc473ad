import test from 'ava';
import { MemoryStateStore } from '../testing/memory-state-store.ts';
import { DeliveryLog } from './delivery-log.ts';
import { actionLeaf } from './leaf.ts';
import { leafHash, rootOf, verifyConsistency, verifyInclusion } from './merkle.ts';

const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const utf8 = (s: string) => new TextEncoder().encode(s);

test('checkpoints, audit paths and consistency proofs over the stored leaves, as the log grows', async (t) => {
  const state = new MemoryStateStore();
  const log = new DeliveryLog(state);
  t.deepEqual(await log.checkpoint(), {
    size: 0,
    root: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });
  const leaves: string[] = [];
  for (let i = 0; i < 13; i++) {
    const leaf = actionLeaf({
      action: 'pause',
      subject: `sub-${i}`,
      by: 'ops',
      at: `2026-12-04T08:00:${String(i).padStart(2, '0')}Z`,
    });
    leaves.push(leaf);
    await state.appendLogLeaf({ leaf, subscription: `sub-${i}` });
  }
  const cp = await log.checkpoint();
  t.is(cp.size, 13);
  t.is(cp.root, Buffer.from(rootOf(leaves.map((l) => leafHash(utf8(l))))).toString('hex'));
  const old = await log.checkpoint(5);
  for (const index of [0, 4, 12]) {
    const p = await log.inclusion(index);
    t.is(p.leaf, leaves[index]!);
    t.true(verifyInclusion(index, p.size, unhex(p.leafHash), p.auditPath.map(unhex), unhex(cp.root)));
  }
  const p5 = await log.inclusion(3, 5);
  t.true(verifyInclusion(3, 5, unhex(p5.leafHash), p5.auditPath.map(unhex), unhex(old.root)), 'in an older checkpoint');
  const c = await log.consistency(5);
  t.deepEqual([c.from, c.to], [old, cp]);
  t.true(verifyConsistency(5, 13, c.proof.map(unhex), unhex(old.root), unhex(cp.root)));
  await t.throwsAsync(log.inclusion(13), { message: /leaf 13 is not in the log of size 13/ });
  await t.throwsAsync(log.checkpoint(14), { message: /holds 13 leaves, not 14/ });
  await t.throwsAsync(log.consistency(0), { message: /from size 0 to 13/ });
});

test('action leaves are canonical JSON (RFC 8785): keys sorted, no spaces, the same text for the same action', (t) => {
  const a = actionLeaf({
    action: 'classify',
    subject: 'people.mobile',
    at: '2026-12-04T08:00:00Z',
    details: { share: 'none', level: 'important' },
  });
  t.is(
    a,
    '{"action":"classify","at":"2026-12-04T08:00:00Z","details":{"level":"important","share":"none"},"subject":"people.mobile","type":"sluice.action"}',
  );
});

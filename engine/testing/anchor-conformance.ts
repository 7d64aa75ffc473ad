import type { TestFn } from 'ava';
import { isSluiceError } from '../errors.ts';
import type { Anchor } from '../ports/index.ts';

export interface AnchorFixture {
  anchor: Anchor;
  cleanup(): Promise<void>;
}

const root = (c: string) => c.repeat(64);

/**
 * The {@link Anchor} port's contract, for the chain adapter (contracts/anchor-client.ts on anvil) and the in-memory
 * double alike: checkpoints grow, anchoring is idempotent by size, a size with another root or below the latest is
 * refused, and `find` gives the anchoring of a size.
 */
export function anchorConformance(test: TestFn, name: string, factory: () => Promise<AnchorFixture>): void {
  test(`${name} › anchor › checkpoints grow; the same one again is not sent twice; another root or a smaller size is refused`, async (t) => {
    const { anchor, cleanup } = await factory();
    try {
      t.deepEqual(await anchor.latest(), { size: 0, root: '' });
      t.is(await anchor.find(3), null);
      const a = await anchor.anchor({ size: 3, root: root('a') });
      t.like(a, { size: 3, root: root('a') });
      t.regex(a.txHash, /^0x[0-9a-f]+$/);
      const b = await anchor.anchor({ size: 10, root: root('b') });
      t.true(b.blockNumber >= a.blockNumber);
      t.deepEqual(await anchor.latest(), { size: 10, root: root('b') });
      t.deepEqual(await anchor.anchor({ size: 3, root: root('a') }), a, 'an anchored size again: its receipt');
      t.deepEqual(await anchor.anchor({ size: 10, root: root('b') }), b);
      t.deepEqual(await anchor.find(3), a);
      const other = await t.throwsAsync(anchor.anchor({ size: 10, root: root('c') }));
      t.true(isSluiceError(other, 'STATE_CORRUPT'), String(other));
      const below = await t.throwsAsync(anchor.anchor({ size: 5, root: root('d') }));
      t.true(isSluiceError(below, 'CONFLICT'), String(below));
      t.deepEqual(await anchor.latest(), { size: 10, root: root('b') });
    } finally {
      await cleanup();
    }
  });
}

import test from 'ava';
import { JsonRpcProvider, Wallet } from 'ethers';
import { ChainAnchor } from '../../contracts/anchor-client.ts';
import { deliveryAnchor, deployContracts } from '../../contracts/deploy.ts';
import { anchorConformance } from '../../engine/testing/anchor-conformance.ts';
import { anvilKey, startAnvil } from '../../ops/chain/anvil.ts';

/** The chain adapter of the Anchor port against DeliveryAnchor on a real anvil: the same suite as the double. */
anchorConformance(test, 'chain', async () => {
  const anvil = await startAnvil();
  const rpc = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const { anchor: address } = await deployContracts(new Wallet(anvilKey(0), rpc));
  rpc.destroy();
  const anchor = new ChainAnchor({ rpc: anvil.url, key: anvilKey(0), address });
  return {
    anchor,
    cleanup: async () => {
      anchor.close();
      await anvil.stop();
    },
  };
});

test('chain anchor: a node that does not answer is UNAVAILABLE, naming it', async (t) => {
  const anchor = new ChainAnchor({ rpc: 'http://127.0.0.1:1', key: anvilKey(0), address: `0x${'00'.repeat(20)}` });
  const e = await t.throwsAsync(anchor.latest());
  t.regex(e!.message, /the chain at http:\/\/127\.0\.0\.1:1 does not answer/);
});

test('chain anchor: a transaction dropped before it was mined is sent again by the next attempt, anchored once', async (t) => {
  const anvil = await startAnvil();
  t.teardown(() => anvil.stop());
  const rpc = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  t.teardown(() => rpc.destroy());
  const { anchor: address } = await deployContracts(new Wallet(anvilKey(0), rpc));
  const anchor = new ChainAnchor({ rpc: anvil.url, key: anvilKey(0), address, timeoutMs: 1000 });
  t.teardown(() => anchor.close());
  await rpc.send('evm_setAutomine', [false]); // the node stops mining: the transaction waits in its pool…
  const first = await t.throwsAsync(anchor.anchor({ size: 4, root: 'ab'.repeat(32) }));
  t.regex(first!.message, /the chain at/);
  await rpc.send('anvil_dropAllTransactions', []); // …and is dropped
  await rpc.send('evm_setAutomine', [true]);
  t.deepEqual(await anchor.latest(), { size: 0, root: '' }, 'nothing anchored');
  const r = await anchor.anchor({ size: 4, root: 'ab'.repeat(32) });
  t.is(r.size, 4);
  const c = deliveryAnchor(address, rpc);
  t.is((await c.queryFilter(c.filters.Checkpoint!())).length, 1, 'one checkpoint event');
});

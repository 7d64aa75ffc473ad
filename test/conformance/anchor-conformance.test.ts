import test from 'ava';
import { JsonRpcProvider, Wallet } from 'ethers';
import { ChainAnchor } from '../../contracts/anchor-client.ts';
import { deployContracts } from '../../contracts/deploy.ts';
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

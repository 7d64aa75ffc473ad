import { JsonRpcProvider, Network } from 'ethers';
import { SluiceError } from '../engine/errors.ts';

/** The chain id a JSON-RPC node reports, or UNAVAILABLE naming the URL (5 s). */
export async function chainIdOf(rpc: string): Promise<number> {
  try {
    const res = await fetch(rpc, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as { result?: string };
    if (!body.result) throw new Error(`HTTP ${res.status}`);
    return Number(BigInt(body.result));
  } catch (e) {
    throw new SluiceError('UNAVAILABLE', `the chain at ${rpc} does not answer: ${(e as Error).message}`, {
      retriable: true,
      cause: e,
    });
  }
}

/**
 * A JSON-RPC provider for a node that answered: its network fixed (no background re-detection, which would log
 * while the node is down) and no response cache (a nonce read twice must be read twice).
 */
export async function connectRpc(rpc: string): Promise<{ provider: JsonRpcProvider; chainId: number }> {
  const chainId = await chainIdOf(rpc);
  const network = Network.from(chainId);
  return { provider: new JsonRpcProvider(rpc, network, { staticNetwork: network, cacheTimeout: -1 }), chainId };
}

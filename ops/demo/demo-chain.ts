import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { deployContracts } from '../../contracts/deploy.ts';
import { ChainPolicy } from '../../contracts/policy-client.ts';
import { connectRpc } from '../../contracts/rpc.ts';
import type { Config } from '../../schemas/index.ts';
import { anvilKey, startAnvil, type Anvil } from '../chain/anvil.ts';
import { applyFor, publishResources, registerOrganisations } from '../chain/organisations.ts';

/** The demo's chain: anvil (from npm) keeping its blocks under dataDir, the contracts, anvil's funded accounts. */
export interface DemoChain {
  anvil: Anvil;
  policy: string;
  anchor: string;
  /** anvil's accounts 1 and 2: the provider's and the subscriber's. */
  provider: string;
  subscriber: string;
}

/**
 * Starts anvil with its state in `<dataDir>/anvil-state.json` (a second demo finds its contracts again) and deploys
 * SharingPolicy and DeliveryAnchor unless `<dataDir>/chain.json` names contracts the chain still holds. The
 * operator's key (anvil's account 0) is put in SLUICE_DEMO_OPERATOR_KEY, which the demo's config refers to.
 */
export async function startDemoChain(dataDir: string): Promise<DemoChain> {
  process.env.SLUICE_DEMO_OPERATOR_KEY = anvilKey(0);
  const anvil = await startAnvil({ stateFile: join(dataDir, 'anvil-state.json') });
  const saved = join(dataDir, 'chain.json');
  const { provider } = await connectRpc(anvil.url);
  try {
    let addresses = existsSync(saved)
      ? (JSON.parse(readFileSync(saved, 'utf8')) as { policy: string; anchor: string })
      : null;
    if (addresses && (await provider.getCode(addresses.policy)) === '0x') addresses = null;
    if (!addresses) {
      const d = await deployContracts(new Wallet(anvilKey(0), provider));
      addresses = { policy: d.policy, anchor: d.anchor };
      writeFileSync(saved, `${JSON.stringify(addresses, null, 2)}\n`);
    }
    return {
      anvil,
      ...addresses,
      provider: new Wallet(anvilKey(1)).address,
      subscriber: new Wallet(anvilKey(2)).address,
    };
  } finally {
    provider.destroy();
  }
}

/** Each organisation's part, with its own key: the operator registers and attests, the provider publishes, the subscriber applies. */
export async function grantOnChain(cfg: Config, chain: DemoChain): Promise<string> {
  const as = (key: string) => new ChainPolicy({ rpc: chain.anvil.url, address: chain.policy, key });
  const operator = as(anvilKey(0));
  const provider = as(anvilKey(1));
  const subscriber = as(anvilKey(2));
  try {
    await registerOrganisations(operator, cfg);
    for (const p of cfg.providers) await publishResources(provider, cfg, p.id);
    const lines: string[] = [];
    for (const s of cfg.subscriptions) {
      const d = await applyFor(subscriber, s);
      lines.push(
        `${s.id}: granted on chain ${d.granted.map((g) => `${g.name} (${g.strategy})`).join(', ')}` +
          (d.denied.length ? `; denied ${d.denied.map((x) => `${x.field} (${x.reason})`).join(', ')}` : ''),
      );
    }
    return lines.join('\n');
  } finally {
    operator.close();
    provider.close();
    subscriber.close();
  }
}

import type { ChainDecision, ChainPolicy } from '../../contracts/policy-client.ts';
import type { Config, SubscriptionConfig } from '../../schemas/index.ts';
import { maskingMatrix, maskingTags } from '../config/masking-matrix.ts';

/**
 * Each organisation's part on SharingPolicy, from the config — shared by the CLI (`sluice contracts register`,
 * `sluice policy publish`, `sluice apply`) and `sluice demo --chain`. Every call is signed by the `ChainPolicy`'s key.
 */

/** The operator: provider accounts, subscribers' attested attributes, the masking policy. Returns what it did. */
export async function registerOrganisations(operator: ChainPolicy, cfg: Config): Promise<string[]> {
  const done: string[] = [];
  for (const p of cfg.providers) {
    if (!p.account) continue;
    await operator.registerProvider(p.id, p.account);
    done.push(`provider ${p.id}: account ${p.account}`);
  }
  for (const s of cfg.subscribers) {
    if (!s.account) continue;
    await operator.attest(s.account, {
      id: s.id,
      clearance: s.clearance,
      ...(s.organisation ? { organisation: s.organisation } : {}),
      ...(s.adminLevel ? { adminLevel: s.adminLevel } : {}),
    });
    done.push(
      `subscriber ${s.id}: account ${s.account} attested (clearance ${s.clearance}, ${s.adminLevel ?? 'no administrative level'})`,
    );
  }
  await operator.setMasking(maskingMatrix(cfg.masking), maskingTags(cfg.masking));
  done.push('masking policy set');
  return done;
}

/** A provider: its resources' classified fields and conditions. Returns what it published. */
export async function publishResources(provider: ChainPolicy, cfg: Config, providerId: string): Promise<string[]> {
  const done: string[] = [];
  for (const r of cfg.resources.filter((x) => x.provider === providerId)) {
    await provider.registerResource(r.id, providerId, r.fields);
    done.push(`resource ${r.id}: ${Object.keys(r.fields).length} fields published`);
  }
  return done;
}

/** A subscriber: applies for the subscription's fields with its purpose and business system. */
export function applyFor(subscriber: ChainPolicy, s: SubscriptionConfig): Promise<ChainDecision> {
  return subscriber.apply(s.id, {
    resource: s.resource,
    fields: s.fields,
    ...(s.masks ? { masks: s.masks } : {}),
    purpose: s.purpose,
    businessSystem: s.businessSystem,
  });
}

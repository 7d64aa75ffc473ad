import type { ChainDecision, ChainPolicy } from '../../contracts/policy-client.ts';
import type { CycleDenial } from '../../engine/delivery/cycle-types.ts';
import { isSluiceError } from '../../engine/errors.ts';
import type { Logger } from '../../engine/ports/index.ts';
import type { GrantedField } from '../../engine/rules/grant.ts';
import type { ResourceConfig } from '../../schemas/index.ts';

type Decided = { fields: GrantedField[]; denied: CycleDenial[] };

/**
 * A subscription's grant with a chain configured (issue 8): SharingPolicy decides — its stored application under the
 * current conditions, the operator's attestations and the provider's revocations, with the usage counted here — so
 * only the fields granted on chain are delivered, masked by the chain's strategy (and none whose validity window the
 * clock says is over or not begun: an idle chain's block time lags). When the chain cannot be read:
 * `cached` delivers under the last decision read from it, minus the fields the local evaluator denies by now (an
 * expired window); `pause` delivers nothing until it returns. Called at each cycle tick and by feeds at most every
 * second, so a revocation stops deliveries within seconds.
 */
export function chainGrant(opts: {
  policy: ChainPolicy;
  subscription: string;
  /** The subscription's requested fields now (the contract holds their hashes). */
  fields: () => string[];
  resource: () => ResourceConfig;
  /** The local evaluator's decision (same rules, the config's attributes). */
  local: (tick: Date) => Promise<Decided>;
  usage: () => Promise<ReadonlyMap<string, number>>;
  onOutage: 'cached' | 'pause';
  logger: Logger;
}): (tick: Date) => Promise<Decided> {
  let cached: ChainDecision | null = null;
  let down = false;
  const all = (reason: string, message: string): Decided => ({
    fields: [],
    denied: opts.fields().map((field) => ({ field, reason, message })),
  });
  return async (tick) => {
    let d: ChainDecision | null;
    try {
      d = await opts.policy.currentDecision(opts.subscription, opts.fields(), await opts.usage());
      if (down)
        opts.logger.info('the chain answers again: grants are read from it', { subscription: opts.subscription });
      down = false;
      cached = d;
    } catch (e) {
      if (!isSluiceError(e, 'UNAVAILABLE')) throw e;
      if (!down) {
        opts.logger.error(
          opts.onOutage === 'pause' || !cached
            ? 'the chain cannot be read: nothing is delivered until it answers'
            : 'the chain cannot be read: delivering under the grant last read from it',
          { subscription: opts.subscription, error: e.message },
        );
      }
      down = true;
      if (opts.onOutage === 'pause' || !cached) {
        return all('chain-unavailable', `the chain cannot be read (${e.message}); chain.onOutage: ${opts.onOutage}`);
      }
      const local = await opts.local(tick);
      const still = new Set(local.fields.map((f) => f.name));
      return decided(cached, opts.resource(), still, local.denied);
    }
    if (d === null) {
      return all(
        'not-applied',
        `subscription "${opts.subscription}" has no application on chain: sluice apply ${opts.subscription} -c <config> --key env:NAME`,
      );
    }
    // a view call sees the time of the latest block, which an idle chain does not advance: validity windows are
    // also checked against the clock here, so an expired window stops deliveries on time
    const local = await opts.local(tick);
    const timed = local.denied.filter((x) => x.reason === 'expired' || x.reason === 'not-yet-valid');
    if (timed.length === 0) return decided(d, opts.resource(), null, []);
    const keep = new Set(opts.fields().filter((f) => !timed.some((x) => x.field === f)));
    return decided(d, opts.resource(), keep, timed);
  };
}

/** The chain's decision as the engine's grant (levels and tags from the config), optionally intersected. */
function decided(d: ChainDecision, r: ResourceConfig, keep: Set<string> | null, localDenied: CycleDenial[]): Decided {
  const fields: GrantedField[] = [];
  const denied: CycleDenial[] = d.denied.map((x) => ({
    field: x.field,
    reason: x.reason,
    message: `field "${x.field}" is not granted on chain (${x.reason})`,
  }));
  for (const g of d.granted) {
    const f = Object.hasOwn(r.fields, g.name) ? r.fields[g.name] : undefined;
    if (!f || g.strategy === 'deny') continue;
    if (keep && !keep.has(g.name)) {
      denied.push(localDenied.find((x) => x.field === g.name) ?? { field: g.name, reason: 'expired', message: '' });
      continue;
    }
    fields.push({ name: g.name, level: f.level, ...(f.tag !== undefined ? { tag: f.tag } : {}), strategy: g.strategy });
  }
  return { fields, denied };
}

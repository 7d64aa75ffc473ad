import type { Command } from 'commander';
import { ChainPolicy, type ChainDecision } from '../../contracts/policy-client.ts';
import { SluiceError } from '../../engine/errors.ts';
import type { Config } from '../../schemas/index.ts';
import { formatPath } from '../config/issues.ts';
import { loadConfig } from '../config/load.ts';
import { applyFor, publishResources, registerOrganisations } from '../chain/organisations.ts';
import { keyFromEnv } from './contracts.ts';
import { EXIT } from './exit-codes.ts';
import { renderTable } from './table.ts';

/** The validated config with a chain block (exit 1 naming the problems otherwise). */
function chainConfig(file: string): Config & { chain: NonNullable<Config['chain']> } {
  const loaded = loadConfig(file, { mode: 'validate' });
  const errors = loaded.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `${file}: ${errors.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
    );
  }
  if (!loaded.config.chain)
    throw new SluiceError('USAGE', `${file} has no chain block (rpc, operatorKey, policy, anchor)`);
  return loaded.config as Config & { chain: NonNullable<Config['chain']> };
}

const policyFor = (cfg: ReturnType<typeof chainConfig>, key?: string) =>
  new ChainPolicy({
    rpc: cfg.chain.rpc,
    address: cfg.chain.policy,
    ...(key ? { key } : {}),
    confirmations: cfg.chain.confirmations ?? 1,
  });

function printDecision(d: ChainDecision): void {
  const rows = [
    ...d.granted.map((g) => ({ FIELD: g.name, DECISION: 'granted', 'STRATEGY / REASON': g.strategy })),
    ...d.denied.map((x) => ({ FIELD: x.field, DECISION: 'denied', 'STRATEGY / REASON': x.reason })),
  ];
  for (const line of renderTable(['FIELD', 'DECISION', 'STRATEGY / REASON'], rows)) process.stdout.write(`${line}\n`);
}

/**
 * `sluice contracts register` (the operator: provider accounts, subscriber attestations, the masking policy),
 * `sluice policy publish|revoke` (a provider), `sluice apply` (a subscriber) — each signed with its own key.
 */
export function policyCommands(program: Command, setCode: (c: number) => void): void {
  const contracts = program.commands.find((c) => c.name() === 'contracts')!;
  contracts
    .command('register')
    .description(
      "as the operator (chain.operatorKey): register every provider's account, attest every subscriber's " +
        'attributes (organisation, administrative level, clearance) to its account, and set the masking policy',
    )
    .requiredOption('-c, --config <file>', 'the config (chain block, providers[].account, subscribers[].account)')
    .action(async (o: { config: string }) => {
      const cfg = chainConfig(o.config);
      const p = policyFor(cfg, cfg.chain.operatorKey);
      try {
        for (const line of await registerOrganisations(p, cfg)) process.stdout.write(`${line}\n`);
        setCode(EXIT.OK);
      } finally {
        p.close();
      }
    });

  const policy = program.command('policy').description("a provider's sharing conditions on chain (SharingPolicy)");
  policy
    .command('publish')
    .description("register the provider's resources: every classified field with its level, tag, share and conditions")
    .requiredOption('-c, --config <file>', 'the config')
    .requiredOption('--provider <id>', 'the provider whose resources to publish')
    .requiredOption('--key <env:NAME>', "the provider's private key, read from this environment variable")
    .action(async (o: { config: string; provider: string; key: string }) => {
      const cfg = chainConfig(o.config);
      if (!cfg.providers.some((p) => p.id === o.provider)) {
        throw new SluiceError('NOT_FOUND', `no provider "${o.provider}" in ${o.config}`);
      }
      const p = policyFor(cfg, keyFromEnv(o.key));
      try {
        for (const line of await publishResources(p, cfg, o.provider)) process.stdout.write(`${line}\n`);
        setCode(EXIT.OK);
      } finally {
        p.close();
      }
    });
  policy
    .command('revoke <subscription>')
    .description("revoke fields of a subscription's grant (all of them without --field): deliveries stop within 5 s")
    .requiredOption('-c, --config <file>', 'the config')
    .requiredOption('--key <env:NAME>', "the provider's private key, read from this environment variable")
    .option('--field <name...>', 'the fields to revoke (default: all)')
    .action(async (subscription: string, o: { config: string; key: string; field?: string[] }) => {
      const cfg = chainConfig(o.config);
      const p = policyFor(cfg, keyFromEnv(o.key));
      try {
        await p.revoke(subscription, o.field ?? []);
        process.stdout.write(`revoked ${o.field ? o.field.join(', ') : 'every field'} of ${subscription}\n`);
        setCode(EXIT.OK);
      } finally {
        p.close();
      }
    });

  program
    .command('apply <subscription>')
    .description(
      "as the subscriber: apply on chain for the subscription's fields with its purpose and business system; the " +
        'contract decides each field at once (prints the decision)',
    )
    .requiredOption('-c, --config <file>', 'the config')
    .requiredOption('--key <env:NAME>', "the subscriber's private key, read from this environment variable")
    .action(async (subscription: string, o: { config: string; key: string }) => {
      const cfg = chainConfig(o.config);
      const s = cfg.subscriptions.find((x) => x.id === subscription);
      if (!s) throw new SluiceError('NOT_FOUND', `no subscription "${subscription}" in ${o.config}`);
      const p = policyFor(cfg, keyFromEnv(o.key));
      try {
        const d = await applyFor(p, s);
        printDecision(d);
        setCode(EXIT.OK);
      } finally {
        p.close();
      }
    });
}

import type { Command } from 'commander';
import { NonceManager, Wallet } from 'ethers';
import { deployContracts } from '../../contracts/deploy.ts';
import { connectRpc } from '../../contracts/rpc.ts';
import { SluiceError } from '../../engine/errors.ts';
import { ENV_REF } from '../config/load.ts';
import { EXIT } from './exit-codes.ts';

/** A private key given as `env:NAME`: read from the environment, never from the command line. */
export function keyFromEnv(ref: string, option = '--key'): string {
  const m = ENV_REF.exec(ref);
  if (!m) {
    throw new SluiceError(
      'USAGE',
      `${option} takes env:NAME (the key is read from that environment variable, never from the command line)`,
    );
  }
  const value = process.env[m[1]!];
  if (!value) throw new SluiceError('USAGE', `${option} ${ref}: the environment variable ${m[1]} is not set`);
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(value.trim())) {
    throw new SluiceError('USAGE', `${option} ${ref}: not a private key (32 bytes as hex)`);
  }
  return value.trim().startsWith('0x') ? value.trim() : `0x${value.trim()}`;
}

/** `sluice contracts deploy`: SharingPolicy and DeliveryAnchor, with the operator key; prints the config block. */
export function contractsCommand(program: Command, setCode: (c: number) => void): void {
  const contracts = program
    .command('contracts')
    .description('the on-chain contracts: SharingPolicy and DeliveryAnchor');
  contracts
    .command('deploy')
    .description(
      'deploy SharingPolicy and DeliveryAnchor with the operator key (it becomes their operator) and print the ' +
        'chain block for the config',
    )
    .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain, e.g. http://127.0.0.1:8545')
    .requiredOption('--key <env:NAME>', "the operator's private key, read from this environment variable")
    .option('--json', 'print addresses, chain id, operator and gas as JSON')
    .action(async (o: { rpc: string; key: string; json?: boolean }) => {
      const key = keyFromEnv(o.key);
      const { provider, chainId } = await connectRpc(o.rpc);
      try {
        const operator = new Wallet(key, provider);
        const d = await deployContracts(new NonceManager(operator));
        if (o.json) {
          process.stdout.write(
            `${JSON.stringify(
              {
                chainId: Number(chainId),
                operator: operator.address,
                policy: d.policy,
                anchor: d.anchor,
                gas: { policy: Number(d.gas.policy), anchor: Number(d.gas.anchor) },
              },
              null,
              2,
            )}\n`,
          );
        } else {
          process.stdout.write(
            [
              `deployed on chain ${chainId} by operator ${operator.address}:`,
              `  SharingPolicy   ${d.policy}   (gas ${d.gas.policy})`,
              `  DeliveryAnchor  ${d.anchor}   (gas ${d.gas.anchor})`,
              '',
              'config:',
              'chain:',
              `  rpc: ${o.rpc}`,
              `  operatorKey: ${o.key}`,
              `  policy: "${d.policy}"`,
              `  anchor: "${d.anchor}"`,
              '',
            ].join('\n'),
          );
        }
        setCode(EXIT.OK);
      } finally {
        provider.destroy();
      }
    });
}

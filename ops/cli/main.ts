import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isSluiceError } from '../../engine/errors.ts';
import { catalogCommand, classifyCommand } from './catalog.ts';
import { demoCommand } from './demo.ts';
import { doctorCommand } from './doctor.ts';
import { qualityCommand } from './quality.ts';
import { decryptCommand, keygenCommand, keysCommand } from './keys.ts';
import { EXIT } from './exit-codes.ts';
import { inspectCommand } from './inspect.ts';
import { lagCommand } from './lag.ts';
import { runCommand } from './run.ts';
import { snapshotCommands } from './snapshots.ts';
import { schemasCommand } from './schemas.ts';
import { fieldsCommand } from './fields.ts';
import { contractsCommand } from './contracts.ts';
import { policyCommands } from './policy.ts';
import { cycleCommands } from './cycles.ts';
import { redeliverCommand } from './redeliver.ts';
import { dlqCommand } from './dlq.ts';
import { validateCommand } from './validate.ts';
import { verifyCommand } from './verify.ts';

/** Parses argv and runs one command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('sluice')
    .description('Sluice — data subscription and sync engine for government data sharing')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let code: number = EXIT.OK;
  const set = (c: number) => (code = c);
  validateCommand(program, set);
  runCommand(program, set);
  demoCommand(program, set);
  inspectCommand(program, set);
  lagCommand(program, set);
  catalogCommand(program, set);
  classifyCommand(program, set);
  qualityCommand(program, set);
  keygenCommand(program, set);
  decryptCommand(program, set);
  keysCommand(program, set);
  doctorCommand(program, set);
  snapshotCommands(program, set);
  schemasCommand(program, set);
  fieldsCommand(program, set);
  cycleCommands(program, set);
  redeliverCommand(program, set);
  dlqCommand(program, set);
  contractsCommand(program, set);
  policyCommands(program, set);
  verifyCommand(program, set);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version')
        return EXIT.OK;
      return EXIT.USAGE;
    }
    if (isSluiceError(e)) {
      process.stderr.write(`sluice: ${e.message}\n`);
      const recovery = e.details.recovery;
      if (typeof recovery === 'string') process.stderr.write(`  to recover: ${recovery}\n`);
      return e.code === 'UNAVAILABLE' ? EXIT.UNAVAILABLE : e.code === 'USAGE' ? EXIT.USAGE : EXIT.NEGATIVE;
    }
    process.stderr.write(`sluice: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.NEGATIVE;
  }
  return code;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

import type { Command } from 'commander';
import { formatIssue } from '../config/issues.ts';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../log/logger.ts';
import { startEngine } from '../runtime/engine.ts';
import { crashPointFromEnv } from './crash-point.ts';
import { EXIT } from './exit-codes.ts';
import { parseDuration, shutdownGate } from './lifecycle.ts';

export function runCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('run')
    .description('run the engine: tail the providers, deliver each cycle, serve the local API')
    .option('-c, --config <file>', 'config file', './sluice.yaml')
    .option(
      '--recover-slot <provider>',
      "create a provider's unusable replication slot (missing, invalidated, advanced by another program) anew and " +
        're-snapshot all its resources; repeat for several providers',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .action(async (o: { config: string; recoverSlot?: string[] }) => {
      const say = (s: string) => process.stderr.write(`sluice: ${s}\n`);
      const gate = shutdownGate(say);
      const loaded = loadConfig(o.config, { mode: 'run' });
      for (const i of loaded.issues) process.stderr.write(formatIssue(o.config, i) + '\n');
      if (!loaded.ok) {
        setCode(EXIT.NEGATIVE);
        return;
      }
      const log = createLogger();
      const engine = await startEngine(loaded.config, {
        logger: log,
        ...crashPointFromEnv(),
        ...(o.recoverSlot ? { recoverSlot: o.recoverSlot } : {}),
      });
      say(`running; API ${engine.apiUrl} (runtime.json in ${loaded.config.dataDir})`);
      const code = await gate.drainOnSignal(engine.drain, parseDuration(loaded.config.drainTimeout, 30_000), log);
      process.exit(code);
    });
}

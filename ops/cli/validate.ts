import type { Command } from 'commander';
import { formatIssue } from '../config/issues.ts';
import { loadConfig } from '../config/load.ts';
import { EXIT } from './exit-codes.ts';

export function validateCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('validate')
    .description('check a config offline: every problem with its path and line; exit 1 on any error')
    .option('-c, --config <file>', 'config file', './sluice.yaml')
    .option('--json', 'print the issues as JSON')
    .action((o: { config: string; json?: boolean }) => {
      const loaded = loadConfig(o.config, { mode: 'validate' });
      const errors = loaded.issues.filter((i) => i.severity === 'error').length;
      const warnings = loaded.issues.length - errors;
      if (o.json) {
        process.stdout.write(
          JSON.stringify({ file: loaded.file, ok: loaded.ok, issues: loaded.issues }, null, 2) + '\n',
        );
      } else {
        for (const i of loaded.issues) process.stdout.write(formatIssue(o.config, i) + '\n');
        process.stdout.write(
          loaded.ok
            ? `${o.config}: valid${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}\n`
            : `${o.config}: ${errors} error${errors > 1 ? 's' : ''}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}\n`,
        );
      }
      setCode(loaded.ok ? EXIT.OK : EXIT.NEGATIVE);
    });
}

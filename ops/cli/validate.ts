import type { Command } from 'commander';
import { onlineIssues } from '../config/online-checks.ts';
import { formatIssue, type ConfigIssue } from '../config/issues.ts';
import { loadConfig } from '../config/load.ts';
import { describeResources } from '../runtime/describe-resources.ts';
import { EXIT } from './exit-codes.ts';

export function validateCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('validate')
    .description(
      'check a config: every problem with its path and line; exit 1 on any error. Offline by default (the file only); ' +
        '--online also connects: columns exist, filter types, REPLICA IDENTITY for filters (exit 3 if unreachable)',
    )
    .option('-c, --config <file>', 'config file', './sluice.yaml')
    .option('--online', 'also check against the provider databases')
    .option('--json', 'print the issues as JSON')
    .action(async (o: { config: string; json?: boolean; online?: boolean }) => {
      const loaded = loadConfig(o.config, { mode: o.online ? 'run' : 'validate' });
      const issues: ConfigIssue[] = [...loaded.issues];
      let unreachable = false;
      if (o.online && loaded.ok) {
        const online = onlineIssues(loaded.config, await describeResources(loaded.config));
        unreachable = online.some((i) => i.path[0] === 'providers');
        issues.push(...online);
      }
      const errors = issues.filter((i) => i.severity === 'error').length;
      const warnings = issues.length - errors;
      const ok = errors === 0;
      if (o.json) {
        process.stdout.write(JSON.stringify({ file: loaded.file, ok, issues }, null, 2) + '\n');
      } else {
        for (const i of issues) process.stdout.write(formatIssue(o.config, i) + '\n');
        const w = warnings ? `${warnings} warning${warnings > 1 ? 's' : ''}` : '';
        process.stdout.write(
          ok
            ? `${o.config}: valid${o.online ? ' (online)' : ''}${w ? ` (${w})` : ''}\n`
            : `${o.config}: ${errors} error${errors > 1 ? 's' : ''}${w ? `, ${w}` : ''}\n`,
        );
      }
      setCode(ok ? EXIT.OK : unreachable ? EXIT.UNAVAILABLE : EXIT.NEGATIVE);
    });
}

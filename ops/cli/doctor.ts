import type { Command } from 'commander';
import pg from 'pg';
import { diagnoseProvider } from '../../connectors/sources/postgres/doctor.ts';
import type { DoctorCheck } from '../../connectors/sources/postgres/doctor-rules.ts';
import { SluiceError } from '../../engine/errors.ts';
import { formatIssue } from '../config/issues.ts';
import { loadConfig } from '../config/load.ts';
import { EXIT } from './exit-codes.ts';

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

/**
 * `sluice doctor`: checks each provider database before attaching it — wal_level, slot and sender headroom,
 * max_slot_wal_keep_size, the REPLICATION privilege, publication rights, and per table: existence, columns, SELECT,
 * who may publish it, replica identity (and what FULL would enable), primary key. Exit 1 on any failure, 3 when a
 * provider cannot be reached.
 */
export function doctorCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('doctor')
    .description(
      'check each provider database before attaching it, and explain every problem in plain words with its fix ' +
        '(exit 1 on any failure, 3 when a provider is unreachable)',
    )
    .option('-c, --config <file>', 'config file', './sluice.yaml')
    .option('--provider <id>', 'only this provider')
    .option('--json', 'print the checks as JSON')
    .action(async (o: { config: string; provider?: string; json?: boolean }) => {
      const loaded = loadConfig(o.config, { mode: 'run' });
      if (!loaded.ok) {
        for (const i of loaded.issues) process.stderr.write(`${formatIssue(o.config, i)}\n`);
        setCode(EXIT.NEGATIVE);
        return;
      }
      const cfg = loaded.config;
      const providers = cfg.providers.filter((p) => !o.provider || p.id === o.provider);
      if (providers.length === 0) throw new SluiceError('USAGE', `no provider "${o.provider}" in ${o.config}`);
      const report: { provider: string; reachable: boolean; error?: string; checks: DoctorCheck[] }[] = [];
      for (const p of providers) {
        const client = new pg.Client({
          connectionString: p.connector.url,
          connectionTimeoutMillis: 10_000,
          application_name: 'sluice-doctor',
        });
        client.on('error', () => {});
        try {
          await client.connect();
        } catch (e) {
          report.push({ provider: p.id, reachable: false, error: (e as Error).message, checks: [] });
          continue;
        }
        try {
          report.push({ provider: p.id, reachable: true, checks: await diagnoseProvider(client, cfg, p.id) });
        } finally {
          await client.end().catch(() => {});
        }
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ providers: report }, null, 2)}\n`);
      else {
        for (const r of report) {
          process.stdout.write(`provider ${r.provider}\n`);
          if (!r.reachable) process.stdout.write(`  FAIL  cannot connect: ${r.error}\n`);
          for (const c of r.checks) {
            process.stdout.write(`  ${MARK[c.status]}  ${c.subject}: ${c.detail}\n`);
            if (c.fix && c.status !== 'ok') process.stdout.write(`        fix: ${c.fix}\n`);
          }
        }
      }
      const unreachable = report.some((r) => !r.reachable);
      const failed = report.some((r) => r.checks.some((c) => c.status === 'fail'));
      setCode(unreachable ? EXIT.UNAVAILABLE : failed ? EXIT.NEGATIVE : EXIT.OK);
    });
}

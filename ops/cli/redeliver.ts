import type { Command } from 'commander';
import type { RedeliveryView } from '../api/cycle-routes.ts';
import { apiTarget, requestJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';

interface Options extends ApiTarget {
  from: string;
  to?: string;
  json?: boolean;
}

/** `sluice redeliver <subscription> --from <seq|time> [--to <seq|time>]`, through the running engine. */
export function redeliverCommand(program: Command, setCode: (c: number) => void): void {
  apiTarget(
    program
      .command('redeliver <subscription>')
      .description(
        'produce new files for changes a subscription has already received (under its grant and masks as of now), ' +
          'named by the time of the re-delivery, each manifest naming the deliveries it repeats (redeliveryOf); the ' +
          'original files and the cursor are not touched. A time means the deliveries made at or after it (--from) ' +
          'or before it (--to)',
      ),
  )
    .requiredOption('--from <seq|time>', 'the first _seq to deliver again, or an RFC 3339 time')
    .option('--to <seq|time>', 'the last _seq, or an RFC 3339 time (default: the last delivered)')
    .option('--json', 'print what was written as JSON')
    .action(async (subscription: string, o: Options) => {
      const body = { from: o.from, ...(o.to !== undefined ? { to: o.to } : {}) };
      const path = `/v1/subscriptions/${encodeURIComponent(subscription)}/redeliver`;
      const r = await requestJson<RedeliveryView>(resolveApi(o), 'POST', path, body, 3_600_000);
      const out = (s: string) => process.stdout.write(`${s}\n`);
      if (o.json) out(JSON.stringify(r, null, 2));
      else if (r.files.length === 0) {
        out(`${subscription}: _seq ${r.fromSeq}-${r.toSeq} holds no row for it now (filtered out or held back)`);
      } else {
        out(`${subscription}: re-delivered _seq ${r.fromSeq}-${r.toSeq}: ${r.rows} rows in ${r.files.length} file(s)`);
        for (const f of r.files) out(`  ${f.manifestFile}  (${f.rows} rows, _seq ${f.firstSeq}-${f.lastSeq})`);
        out(`  repeats: ${r.redeliveryOf.join(', ')}`);
      }
      setCode(EXIT.OK);
    });
}

import type { Command } from 'commander';
import type { QualityReport } from '../../engine/quality/index.ts';
import { getJson, requestJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';
import { renderTable } from './table.ts';

export function qualityCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('quality <resource>')
    .description(
      "show a resource's data quality — null rates of key and required fields, type and length conformance, ID-number " +
        'check digits, code-table membership, duplicate keys — from the stream sample and the last scan; --scan checks ' +
        'every row of the table now. Exit 1 when any check failed.',
    )
    .option('-c, --config <file>', 'config of the running engine (for its runtime.json)', './sluice.yaml')
    .option('--api <url>', 'the engine API (default: SLUICE_API, else <dataDir>/runtime.json)')
    .option('--scan', 'check every row of the table now (a consistent snapshot read)')
    .option('--json', 'print the reports as JSON')
    .action(async (resource: string, o: ApiTarget & { scan?: boolean; json?: boolean }) => {
      const api = resolveApi(o);
      const path = `/v1/quality/${encodeURIComponent(resource)}`;
      if (o.scan) await requestJson<QualityReport>(api, 'POST', `${path}/scan`, undefined, 30 * 60_000);
      const { reports } = await getJson<{ reports: QualityReport[] }>(api, path);
      if (o.json) process.stdout.write(`${JSON.stringify({ resource, reports }, null, 2)}\n`);
      else print(resource, reports);
      setCode(reports.some((r) => r.rowsFailed > 0 || r.counts.length > 0) ? EXIT.NEGATIVE : EXIT.OK);
    });
}

function print(resource: string, reports: QualityReport[]): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (reports.length === 0) out(`${resource}: nothing checked yet (no changes streamed; run with --scan)`);
  for (const r of reports) {
    out(
      `${resource} — ${r.source === 'scan' ? 'scan of the table' : 'stream sample'}: ${r.rowsChecked} rows checked, ` +
        `${r.rowsFailed} failed (since ${r.startedAt}, updated ${r.updatedAt})`,
    );
    const nulls = Object.entries(r.nullRates);
    if (nulls.length) out(`  null rate: ${nulls.map(([c, v]) => `${c} ${(v * 100).toFixed(2)}%`).join(', ')}`);
    if (r.counts.length === 0) out('  every check passed');
    else {
      const rows = r.counts.map((c) => ({ check: c.check, column: c.column, failures: c.failures }));
      for (const line of renderTable(['check', 'column', 'failures'], rows)) out(`  ${line}`);
      for (const c of r.counts.filter((x) => x.sampleKeys.length > 0)) {
        out(`  ${c.check} ${c.column}: keys (hashed) ${c.sampleKeys.join(' ')}`);
      }
    }
  }
}

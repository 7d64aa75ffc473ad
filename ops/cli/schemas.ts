import type { Command } from 'commander';
import type { SchemaHistory } from '../api/schema-routes.ts';
import { apiTarget, getJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';

interface Options extends ApiTarget {
  json?: boolean;
}

/** `sluice schemas <resource>`: the schema versions a resource's stream went through, and what each changed. */
export function schemasCommand(program: Command, setCode: (c: number) => void): void {
  apiTarget(
    program
      .command('schemas <resource>')
      .description(
        "show a resource's schema versions (each Parquet file holds one): columns added, dropped and retyped at " +
          'each, the current one, and the subscriptions asking for fields the table no longer has',
      ),
  )
    .option('--json', 'print the history as JSON')
    .action(async (resource: string, o: Options) => setCode(await show(resource, o)));
}

async function show(resource: string, o: Options): Promise<number> {
  const h = await getJson<SchemaHistory>(resolveApi(o), `/v1/resources/${encodeURIComponent(resource)}/schemas`);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(h, null, 2)}\n`);
    return EXIT.OK;
  }
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (h.versions.length === 0) {
    out(`${resource}: no schema recorded yet (its source has not started)`);
    return EXIT.OK;
  }
  const rows = h.versions.map((v) => ({
    version: `${v.version}${v.version === h.current ? ' (current)' : ''}`,
    columns: v.columns.length,
    changes: v.changes
      ? [
          ...v.changes.added.map((c) => `+${c}`),
          ...v.changes.dropped.map((c) => `-${c}`),
          ...v.changes.retyped.map((r) => `${r.name}: ${r.from} → ${r.to}`),
        ].join(', ') || '(column order or key)'
      : 'first',
  }));
  // the changes are the point of this table: printed whole, not cut to a table cell
  const w = Math.max('version'.length, ...rows.map((r) => r.version.length));
  out(`${'version'.padEnd(w)}  columns  changes`);
  for (const r of rows) out(`${r.version.padEnd(w)}  ${String(r.columns).padStart(7)}  ${r.changes}`);
  const current = h.versions.find((v) => v.version === h.current);
  if (current) out(`current columns: ${current.columns.map((c) => `${c.name} ${c.sourceType}`).join(', ')}`);
  for (const s of h.subscriptions.filter((x) => x.dropped.length > 0)) {
    out(`subscription ${s.id} asks for ${s.dropped.join(', ')}, no longer in the table: delivered without them`);
  }
  return EXIT.OK;
}

import { Option, type Command } from 'commander';
import type { CatalogField, CatalogResource } from '../../engine/catalog/index.ts';
import { SluiceError } from '../../engine/errors.ts';
import { getJson, requestJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';
import { renderTable } from './table.ts';

const apiOptions = (c: Command) =>
  c
    .option('-c, --config <file>', 'config of the running engine (for its runtime.json)', './sluice.yaml')
    .option('--api <url>', 'the engine API (default: SLUICE_API, else <dataDir>/runtime.json)');

export function catalogCommand(program: Command, setCode: (c: number) => void): void {
  apiOptions(
    program
      .command('catalog [resource]')
      .description(
        'show the data map: each resource with its catalogue metadata and every column of its table — type and length ' +
          'from the database, classification (config or runtime override), sharing type and conditions; unclassified ' +
          'columns are never shared',
      ),
  )
    .option('--json', 'print the catalog as JSON')
    .action(async (resource: string | undefined, o: ApiTarget & { json?: boolean }) => {
      const api = resolveApi(o);
      const resources = resource
        ? [await getJson<CatalogResource>(api, `/v1/catalog/${encodeURIComponent(resource)}`)]
        : (await getJson<{ resources: CatalogResource[] }>(api, '/v1/catalog')).resources;
      if (o.json) process.stdout.write(`${JSON.stringify({ resources }, null, 2)}\n`);
      else resources.forEach((r, i) => printResource(r, i > 0));
      setCode(EXIT.OK);
    });
}

export function classifyCommand(program: Command, setCode: (c: number) => void): void {
  apiOptions(
    program
      .command('classify <resource.column>')
      .description(
        "record a provider's classification of a column at runtime (stored in the state DB, shown as an override of " +
          'the config); the column enters the platform from now on and can then be granted. --clear removes it.',
      ),
  )
    .addOption(new Option('--level <level>', 'classification level').choices(['core', 'important', 'general']))
    .addOption(new Option('--share <share>', 'sharing type').choices(['unconditional', 'conditional', 'none']))
    .option('--tag <tag>', 'sensitivity tag (person_name, cn_id_card, cn_mobile, bank_card, address, email, phone, …)')
    .option('--by <who>', 'who classifies (recorded with it)', process.env.USER)
    .option('--clear', 'remove the runtime classification (the config applies again)')
    .action(
      async (
        target: string,
        o: ApiTarget & { level?: string; share?: string; tag?: string; by?: string; clear?: boolean },
      ) => {
        const dot = target.indexOf('.');
        if (dot <= 0 || dot === target.length - 1) {
          throw new SluiceError('USAGE', `"${target}" is not <resource>.<column>, e.g. relief-recipients.mobile`);
        }
        const path = `/v1/catalog/${encodeURIComponent(target.slice(0, dot))}/fields/${encodeURIComponent(target.slice(dot + 1))}`;
        if (o.clear && (o.level || o.share || o.tag)) {
          throw new SluiceError('USAGE', '--clear takes no --level, --share or --tag');
        }
        if (!o.clear && (!o.level || !o.share)) {
          throw new SluiceError('USAGE', 'classify needs --level and --share (or --clear)');
        }
        const api = resolveApi(o);
        if (o.clear) {
          const { removed } = await requestJson<{ removed: boolean }>(api, 'DELETE', path);
          process.stdout.write(
            removed
              ? `${target}: runtime classification removed; the config applies\n`
              : `${target}: no runtime classification\n`,
          );
          setCode(EXIT.OK);
          return;
        }
        const field = await requestJson<CatalogField>(api, 'PUT', path, {
          level: o.level,
          share: o.share,
          ...(o.tag ? { tag: o.tag } : {}),
          ...(o.by ? { by: o.by } : {}),
        });
        process.stdout.write(
          `${target}: ${classification(field)} (runtime${field.configClassification ? `, overrides config: ${describe(field.configClassification)}` : ''})\n`,
        );
        setCode(EXIT.OK);
      },
    );
}

function describe(c: NonNullable<CatalogField['classification']>): string {
  return [c.level, c.tag, c.share].filter(Boolean).join(' ');
}

function classification(f: CatalogField): string {
  return f.classification ? describe(f.classification) : 'unclassified';
}

function conditions(f: CatalogField): string {
  const c = f.classification?.conditions;
  if (!c) return '';
  return Object.entries(c)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`)
    .join(' ');
}

function printResource(r: CatalogResource, gap: boolean): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (gap) out('');
  out(`${r.id}${r.title ? ` — ${r.title}` : ''}`);
  out(
    `  provider: ${r.provider}${r.providerTitle ? ` (${r.providerTitle})` : ''}; table ${r.table}; key ${r.key.join(', ')}`,
  );
  if (r.abstract) out(`  abstract: ${r.abstract}`);
  if (r.updateCycle) out(`  update cycle: ${r.updateCycle}`);
  if (r.estimatedRows) out(`  rows (estimate): ${r.estimatedRows}`);
  if (!r.described.ok) out(`  (types unknown: ${r.described.error})`);
  const rows = r.fields.map((f) => ({
    field: `${f.name}${f.key ? ' (key)' : ''}`,
    type: f.sourceType ?? '?',
    null: f.nullable === undefined ? '?' : f.nullable ? 'yes' : 'no',
    level: f.status === 'unclassified' ? 'UNCLASSIFIED' : (f.classification?.level ?? ''),
    tag: f.classification?.tag ?? '',
    share: f.status === 'unclassified' ? 'never' : (f.classification?.share ?? ''),
    by:
      f.status === 'missing'
        ? 'MISSING in table'
        : f.status === 'dropped'
          ? 'DROPPED from table'
          : f.classifiedBy === 'runtime'
            ? `runtime${f.configClassification ? ' (overrides config)' : ''}`
            : (f.classifiedBy ?? ''),
    conditions: conditions(f),
  }));
  for (const line of renderTable(['field', 'type', 'null', 'level', 'tag', 'share', 'by', 'conditions'], rows))
    out(`  ${line}`);
  for (const q of r.quality ?? []) {
    const worst = q.counts.map((c) => `${c.check} ${c.column} ${c.failures}`).join(', ');
    out(`  quality (${q.source}): ${q.rowsChecked} rows checked, ${q.rowsFailed} failed${worst ? ` — ${worst}` : ''}`);
  }
  const codes = r.fields.filter((f) => f.codeTable);
  for (const f of codes) {
    out(
      `  code table ${f.name}: ${Object.entries(f.codeTable!)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
  }
}

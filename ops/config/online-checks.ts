import type { DescribedTable } from '../../engine/catalog/index.ts';
import { checkFilter, filterFieldRefs, parseFilter } from '../../engine/rules/filter/index.ts';
import type { ColumnType, Config } from '../../schemas/index.ts';
import type { ConfigIssue } from './issues.ts';

/**
 * What only the databases can tell (`sluice validate --online`, and every `run` start): each classified column and
 * key exists in its table; each filter type-checks against the column types; a filter on non-key columns needs the
 * old row of updates and deletes (REPLICA IDENTITY FULL) to see rows move out of it. A provider that cannot be
 * reached is one issue on its url.
 */
export function onlineIssues(
  cfg: Config,
  described: ReadonlyMap<string, DescribedTable | Error>,
  streamed: (resource: string) => ReadonlySet<string> | undefined = () => undefined,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const err = (path: (string | number)[], message: string) => issues.push({ severity: 'error', path, message });
  const warn = (path: (string | number)[], message: string) => issues.push({ severity: 'warning', path, message });
  const unreachable = new Set<string>();
  cfg.resources.forEach((r, ri) => {
    const d = described.get(r.id);
    if (!d) return;
    if (d instanceof Error) {
      const pi = cfg.providers.findIndex((p) => p.id === r.provider);
      if (/unreachable/.test(d.message)) {
        if (!unreachable.has(r.provider)) err(['providers', pi, 'connector', 'url'], d.message);
        unreachable.add(r.provider);
      } else err(['resources', ri, 'table'], d.message);
      return;
    }
    const columns = new Set(d.columns.map((c) => c.name));
    r.key.forEach((k, j) => {
      if (!columns.has(k)) err(['resources', ri, 'key', j], `column "${k}" does not exist in ${d.table}`);
    });
    for (const name of Object.keys(r.fields)) {
      if (columns.has(name)) continue;
      if (streamed(r.id)?.has(name)) {
        warn(
          ['resources', ri, 'fields', name],
          `column "${name}" was dropped from ${d.table} after it was streamed: subscriptions go on without it (remove it from the config)`,
        );
      } else err(['resources', ri, 'fields', name], `column "${name}" does not exist in ${d.table}`);
    }
  });
  cfg.subscriptions.forEach((s, i) => {
    const r = cfg.resources.find((x) => x.id === s.resource);
    const d = r ? described.get(r.id) : undefined;
    if (!s.filter || !r || !d || d instanceof Error) return;
    const parsed = parseFilter(s.filter);
    if (!parsed.ok) return; // reported offline
    const types = new Map<string, ColumnType>(d.columns.map((c) => [c.name, c.type]));
    for (const e of checkFilter(parsed.ast, types)) {
      err(['subscriptions', i, 'filter'], `column ${e.column}: ${e.message}`);
    }
    const nonKey = filterFieldRefs(parsed.ast).filter((f) => !r.key.includes(f.name));
    if (nonKey.length > 0 && d.replicaIdentity !== 'full') {
      err(
        ['subscriptions', i, 'filter'],
        `the filter uses ${[...new Set(nonKey.map((f) => `"${f.name}"`))].join(', ')}, which are not key columns: to deliver an update that moves a row out of the filter as a delete, Sluice needs the old row — run ALTER TABLE ${d.table} REPLICA IDENTITY FULL (it is ${d.replicaIdentity ?? 'default'})`,
      );
    }
  });
  return issues;
}

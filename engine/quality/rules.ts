import type { QualityColumn, QualityRules } from './checks.ts';
import type { ColumnSpec, ResourceConfig } from '../../schemas/index.ts';

/** Length of a character type from its database name: `character varying(20)` → 20, `character(18)` → 18. */
function lengthOf(sourceType: string | undefined): number | undefined {
  const m = sourceType ? /^(?:character varying|character|varchar|char|bpchar)\((\d+)\)$/.exec(sourceType) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * The quality rules of a resource: its key, and every shareable classified column with its type and length from
 * the database (a registered shape or a description) and its tag, `required` and code table from the catalog.
 */
export function qualityRules(
  resource: Pick<ResourceConfig, 'key' | 'fields'>,
  columns: readonly (ColumnSpec & { sourceType?: string; length?: number })[],
): QualityRules {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const names = [
    ...new Set([
      ...resource.key,
      ...Object.entries(resource.fields)
        .filter(([, f]) => f.share !== 'none')
        .map(([n]) => n),
    ]),
  ];
  return {
    key: resource.key,
    columns: names.map((name): QualityColumn => {
      const c = byName.get(name);
      const f = Object.hasOwn(resource.fields, name) ? resource.fields[name] : undefined;
      const length = c?.length ?? lengthOf(c?.sourceType);
      return {
        name,
        ...(c ? { type: c.type } : {}),
        ...(length !== undefined ? { length } : {}),
        ...(f?.tag ? { tag: f.tag } : {}),
        ...(f?.required ? { required: true } : {}),
        ...(f?.codeTable ? { codeTable: f.codeTable } : {}),
      };
    }),
  };
}

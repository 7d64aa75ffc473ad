import type { FieldConfig, ResourceConfig } from '../../schemas/index.ts';
import type { ClassificationRecord } from '../ports/index.ts';

/**
 * A resource's fields with the providers' runtime classifications applied (DESIGN.md: runtime changes are overrides
 * that win until cleared). A runtime classification replaces the config's level, tag and share of the column and
 * keeps what only the config can say (conditions, code table, required, generalize); it may also classify a column
 * the config does not list at all. Pure: returns a new record.
 */
export function effectiveFields(
  resource: Pick<ResourceConfig, 'id' | 'fields'>,
  overrides: readonly ClassificationRecord[],
): Record<string, FieldConfig> {
  const fields: Record<string, FieldConfig> = { ...resource.fields };
  for (const o of overrides) {
    if (o.resource !== resource.id) continue;
    const base: Partial<FieldConfig> = Object.hasOwn(fields, o.column) ? { ...fields[o.column] } : {};
    delete base.tag;
    fields[o.column] = { ...base, level: o.level, share: o.share, ...(o.tag ? { tag: o.tag } : {}) };
  }
  return fields;
}

/** The config's resources with {@link effectiveFields} applied to each. */
export function withClassifications<R extends Pick<ResourceConfig, 'id' | 'fields'>>(
  resources: readonly R[],
  overrides: readonly ClassificationRecord[],
): R[] {
  return resources.map((r) => ({ ...r, fields: effectiveFields(r, overrides) }));
}

import type { RowRules } from '../../engine/delivery/batch-rows.ts';
import type { ResourceSchema } from '../../engine/ports/index.ts';
import { compileQualityChecks, qualityRules } from '../../engine/quality/index.ts';
import { compileFilter, filterFieldRefs, parseFilter } from '../../engine/rules/filter/index.ts';
import type { ColumnType, ResourceConfig } from '../../schemas/index.ts';

/**
 * A subscription's row rules, compiled once per schema version (types belong to the version): its filter (parsed
 * and checked before the engine starts; `keyOnly` when it uses key columns only) and the resource's quality checks
 * with the provider's policy. Nothing is parsed or looked up per row.
 */
export function rowRules(resource: () => ResourceConfig, filter: string | undefined) {
  const cache = new Map<number, RowRules>();
  const parsed = filter === undefined ? undefined : parseFilter(filter);
  if (parsed && !parsed.ok) throw new Error(`filter does not parse: ${parsed.error.message}`); // validated before
  return (schema: ResourceSchema): RowRules => {
    let rules = cache.get(schema.version);
    if (rules) return rules;
    const r = resource();
    const types = new Map<string, ColumnType>(schema.columns.map((c) => [c.name, c.type]));
    rules = {
      quality: {
        check: compileQualityChecks(qualityRules(r, schema.columns)),
        onFailure: r.quality?.onFailure ?? 'flag',
      },
      ...(parsed?.ok
        ? {
            filter: {
              test: compileFilter(parsed.ast, types),
              keyOnly: filterFieldRefs(parsed.ast).every((f) => r.key.includes(f.name)),
            },
          }
        : {}),
    };
    cache.set(schema.version, rules);
    return rules;
  };
}

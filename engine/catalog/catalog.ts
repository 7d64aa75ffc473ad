import { columnTypeName } from '../../schemas/index.ts';
import type { ConditionsConfig, FieldConfig, ProviderConfig, ResourceConfig } from '../../schemas/index.ts';
import type { ClassificationRecord } from '../ports/index.ts';
import type { QualityReport } from '../quality/index.ts';
import { effectiveFields } from './classification.ts';
import type { DescribedTable } from './described.ts';

/** How a catalog field came to be classified. */
export type ClassificationSource = 'config' | 'runtime';

export interface CatalogClassification {
  level: FieldConfig['level'];
  tag?: string;
  share: FieldConfig['share'];
  conditions?: ConditionsConfig;
}

/** One field of the data map. */
export interface CatalogField {
  name: string;
  /**
   * `classified`: shareable as its classification says; `unclassified`: in the table, not classified — never shared;
   * `missing`: classified in the config but not in the table (the source refuses to start); `dropped`: classified,
   * streamed before, gone from the table since — subscriptions go on without it.
   */
  status: 'classified' | 'unclassified' | 'missing' | 'dropped';
  key: boolean;
  /** From the database (absent when it could not be described). */
  sourceType?: string;
  type?: string;
  length?: number;
  precision?: number;
  scale?: number;
  nullable?: boolean;
  comment?: string;
  title?: string;
  classification?: CatalogClassification;
  classifiedBy?: ClassificationSource;
  /** When a runtime classification overrides the config: the config's, so that both are shown. */
  configClassification?: CatalogClassification;
  runtime?: { by?: string; at: string };
  /** Allowed values → labels. */
  codeTable?: Record<string, string>;
  required?: boolean;
}

/** One resource of the data map (the national catalogue's core metadata and its data items). */
export interface CatalogResource {
  id: string;
  title?: string;
  provider: string;
  providerTitle?: string;
  abstract?: string;
  updateCycle?: string;
  table: string;
  key: string[];
  estimatedRows?: number;
  /** The latest data-quality reports (scan, stream): counts by check and column, never values. */
  quality?: QualityReport[];
  /** Whether the table could be described (types and lengths come from the database). */
  described: { ok: true } | { ok: false; error: string };
  fields: CatalogField[];
}

function classificationOf(f: FieldConfig): CatalogClassification {
  return {
    level: f.level,
    ...(f.tag ? { tag: f.tag } : {}),
    share: f.share,
    ...(f.conditions ? { conditions: f.conditions } : {}),
  };
}

/**
 * The data map entry of a resource: the table's columns in table order (from the database), each with its effective
 * classification (config, overridden by runtime classifications), then any classified column the table lacks.
 * Without a description (provider unreachable) the config's fields are listed, in config order. `streamed`: the
 * columns the resource's stream carried before (a classified one the table lacks was dropped). Pure.
 */
export function catalogResource(
  resource: ResourceConfig,
  provider: ProviderConfig | undefined,
  described: DescribedTable | Error,
  overrides: readonly ClassificationRecord[],
  streamed: ReadonlySet<string> = new Set(),
): CatalogResource {
  const effective = effectiveFields(resource, overrides);
  const runtime = new Map(overrides.filter((o) => o.resource === resource.id).map((o) => [o.column, o]));
  const key = new Set(resource.key);
  const field = (name: string, d?: DescribedTable['columns'][number]): CatalogField => {
    const f = Object.hasOwn(effective, name) ? effective[name] : undefined;
    const configured = Object.hasOwn(resource.fields, name) ? resource.fields[name] : undefined;
    const o = runtime.get(name);
    return {
      name,
      status: !f
        ? 'unclassified'
        : d || described instanceof Error
          ? 'classified'
          : streamed.has(name)
            ? 'dropped'
            : 'missing',
      key: key.has(name),
      ...(d
        ? {
            sourceType: d.sourceType,
            type: columnTypeName(d.type),
            ...(d.length !== undefined ? { length: d.length } : {}),
            ...(d.precision !== undefined ? { precision: d.precision } : {}),
            ...(d.scale !== undefined ? { scale: d.scale } : {}),
            nullable: d.nullable,
            ...(d.comment ? { comment: d.comment } : {}),
          }
        : {}),
      ...(f?.title ? { title: f.title } : {}),
      ...(f ? { classification: classificationOf(f), classifiedBy: o ? 'runtime' : 'config' } : {}),
      ...(o && configured ? { configClassification: classificationOf(configured) } : {}),
      ...(o ? { runtime: { ...(o.by ? { by: o.by } : {}), at: o.at } } : {}),
      ...(f?.codeTable ? { codeTable: f.codeTable } : {}),
      ...(f?.required ? { required: true } : {}),
    };
  };
  let fields: CatalogField[];
  if (described instanceof Error) {
    const names = [...new Set([...resource.key, ...Object.keys(effective)])];
    fields = names.map((n) => field(n));
  } else {
    const inTable = new Set(described.columns.map((c) => c.name));
    fields = [
      ...described.columns.map((c) => field(c.name, c)),
      ...Object.keys(effective)
        .filter((n) => !inTable.has(n))
        .map((n) => field(n)),
    ];
  }
  return {
    id: resource.id,
    ...(resource.title ? { title: resource.title } : {}),
    provider: resource.provider,
    ...(provider?.title ? { providerTitle: provider.title } : {}),
    ...(resource.abstract ? { abstract: resource.abstract } : {}),
    ...(resource.updateCycle ? { updateCycle: resource.updateCycle } : {}),
    table: resource.table.includes('.') ? resource.table : `public.${resource.table}`,
    key: resource.key,
    ...(described instanceof Error ? {} : { estimatedRows: described.estimatedRows }),
    described: described instanceof Error ? { ok: false, error: described.message } : { ok: true },
    fields,
  };
}

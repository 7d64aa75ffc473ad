import {
  catalogResource,
  withClassifications,
  type CatalogResource,
  type DescribedTable,
} from '../../engine/catalog/index.ts';
import { SluiceError } from '../../engine/errors.ts';
import type { ClassificationRecord, StateStore } from '../../engine/ports/index.ts';
import type { QualityReport } from '../../engine/quality/index.ts';
import type { Config, FieldConfig, ResourceConfig } from '../../schemas/index.ts';
import { describeResources } from './describe-resources.ts';

const PLAIN_IDENT = /^[a-z_][a-z0-9_]*$/;

/** A provider's classification request (`sluice classify`, `PUT /v1/catalog/<resource>/fields/<column>`). */
export interface ClassifyRequest {
  level: FieldConfig['level'];
  tag?: string;
  share: FieldConfig['share'];
  by?: string;
}

/**
 * The running engine's data map: the config's resources with the providers' runtime classifications applied
 * (stored in the state DB; they win over the config until cleared). A change calls `onChange` with the resource so
 * that the engine can re-bind its source and re-decide its subscriptions.
 */
export class RuntimeCatalog {
  private overrides: ClassificationRecord[] = [];
  private effective: ResourceConfig[];

  constructor(
    private readonly cfg: Config,
    private readonly state: StateStore,
    private readonly onChange: (resource: ResourceConfig, before: ResourceConfig) => Promise<void>,
    private readonly quality: (resource: string) => Promise<QualityReport[]>,
    private readonly describe: (
      cfg: Pick<Config, 'providers' | 'resources'>,
    ) => Promise<Map<string, DescribedTable | Error>> = describeResources,
    /** The columns a resource's stream carried so far (its recorded schema versions). */
    private readonly streamed: (resource: string) => ReadonlySet<string> | undefined = () => undefined,
  ) {
    this.effective = cfg.resources;
  }

  /** Loads the stored runtime classifications (at start). */
  async load(): Promise<void> {
    this.overrides = await this.state.classifications();
    this.effective = withClassifications(this.cfg.resources, this.overrides);
  }

  /** The config with runtime classifications applied. */
  config(): Config {
    return { ...this.cfg, resources: this.effective };
  }

  resource(id: string): ResourceConfig {
    const r = this.effective.find((x) => x.id === id);
    if (!r) {
      throw new SluiceError(
        'NOT_FOUND',
        `unknown resource "${id}" (resources: ${this.effective.map((x) => x.id).join(', ') || 'none'})`,
        { details: { resource: id } },
      );
    }
    return r;
  }

  /** The data map, described live from the providers' databases. */
  async catalog(only?: string): Promise<CatalogResource[]> {
    const resources = only ? [this.resource(only)] : this.effective;
    const configured = resources.map((r) => this.cfg.resources.find((x) => x.id === r.id)!);
    const described = await this.describe({ providers: this.cfg.providers, resources: configured });
    return Promise.all(
      configured.map(async (r) => {
        const entry = catalogResource(
          r,
          this.cfg.providers.find((p) => p.id === r.provider),
          described.get(r.id) ?? new Error('not described'),
          this.overrides,
          this.streamed(r.id),
        );
        const quality = await this.quality(r.id);
        return quality.length > 0 ? { ...entry, quality } : entry;
      }),
    );
  }

  /**
   * Records a provider's classification of `resource.column` (the column must exist in the table; key columns
   * always enter the platform and cannot be made `none`). Returns the field as the catalog now shows it.
   */
  async classify(resourceId: string, column: string, req: ClassifyRequest): Promise<CatalogResource['fields'][number]> {
    const before = this.resource(resourceId);
    if (!PLAIN_IDENT.test(column) || column.startsWith('_')) {
      throw new SluiceError(
        'USAGE',
        `column "${column}" is not a plain identifier (lowercase letters, digits, _, not starting with _)`,
        { details: { resource: resourceId, column } },
      );
    }
    if (req.share === 'none' && before.key.includes(column)) {
      throw new SluiceError('USAGE', `column "${column}" is a key column of "${resourceId}": it cannot be share none`, {
        details: { resource: resourceId, column },
      });
    }
    const [entry] = await this.catalog(resourceId);
    if (!entry!.described.ok) {
      throw new SluiceError('UNAVAILABLE', `cannot check column "${column}": ${entry!.described.error}`, {
        details: { resource: resourceId, column },
      });
    }
    if (!entry!.fields.some((f) => f.name === column && f.status !== 'missing' && f.status !== 'dropped')) {
      throw new SluiceError('NOT_FOUND', `table ${entry!.table} has no column "${column}"`, {
        details: { resource: resourceId, column },
      });
    }
    await this.state.setClassification({
      resource: resourceId,
      column,
      level: req.level,
      ...(req.tag ? { tag: req.tag } : {}),
      share: req.share,
      ...(req.by ? { by: req.by } : {}),
      at: new Date().toISOString().replace('Z', '000Z'),
    });
    await this.reload(before);
    return (await this.catalog(resourceId))[0]!.fields.find((f) => f.name === column)!;
  }

  /** Removes the runtime classification of `resource.column`: the config's applies again (or none). */
  async declassify(resourceId: string, column: string): Promise<boolean> {
    const before = this.resource(resourceId);
    const removed = await this.state.clearClassification(resourceId, column);
    if (removed) await this.reload(before);
    return removed;
  }

  private async reload(before: ResourceConfig): Promise<void> {
    await this.load();
    await this.onChange(this.resource(before.id), before);
  }
}

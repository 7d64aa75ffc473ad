import { SluiceError } from '../../engine/errors.ts';
import type { StateStore, SubscriptionOverride } from '../../engine/ports/index.ts';
import type { Config, SubscriptionConfig } from '../../schemas/index.ts';
import { formatPath } from '../config/issues.ts';
import { semanticIssues } from '../config/semantic.ts';

const PLAIN_IDENT = /^[a-z_][a-z0-9_]*$/;

/** A subscription's fields as the engine applies them: the config's, or an operator's runtime override. */
export interface SubscriptionFields {
  subscription: string;
  fields: string[];
  config: string[];
  override?: { fields: string[]; by?: string; at: string };
}

/**
 * Operators' runtime changes to subscriptions (stored in the state DB; they win over the config until reset), for now
 * the fields a subscription asks for (`sluice fields`). A change is checked by the same rules as `sluice validate`
 * against the config as it applies now (runtime classifications included) before it is stored; `onChange` lets the
 * engine re-decide the grant (a field granted anew is backfilled).
 */
export class RuntimeSubscriptions {
  private overrides: SubscriptionOverride[] = [];

  constructor(
    private readonly state: StateStore,
    private readonly onChange: (subscription: string) => Promise<void>,
  ) {}

  async load(): Promise<void> {
    this.overrides = await this.state.subscriptionOverrides();
  }

  /** `cfg` with the overrides applied. */
  apply(cfg: Config): Config {
    return { ...cfg, subscriptions: cfg.subscriptions.map((s) => this.applied(s)) };
  }

  fields(cfg: Config, subscription: string): SubscriptionFields {
    const s = configured(cfg, subscription);
    const o = this.override(subscription);
    return {
      subscription,
      fields: o?.value ?? s.fields,
      config: s.fields,
      ...(o ? { override: { fields: o.value, ...(o.by ? { by: o.by } : {}), at: o.at } } : {}),
    };
  }

  /** Replaces the fields a subscription asks for; refused (CONFIG_INVALID, every problem named) when invalid. */
  async setFields(cfg: Config, subscription: string, fields: string[], by?: string): Promise<SubscriptionFields> {
    configured(cfg, subscription);
    const bad = fields.filter((f) => !PLAIN_IDENT.test(f));
    if (fields.length === 0 || bad.length > 0 || new Set(fields).size !== fields.length) {
      throw new SluiceError(
        'USAGE',
        fields.length === 0
          ? `subscription "${subscription}": fields must name at least one field`
          : bad.length > 0
            ? `subscription "${subscription}": ${bad.map((f) => JSON.stringify(f)).join(', ')} is not a plain field name`
            : `subscription "${subscription}": a field is named twice`,
        { details: { subscription } },
      );
    }
    const candidate = this.apply(cfg);
    const i = candidate.subscriptions.findIndex((s) => s.id === subscription);
    candidate.subscriptions[i] = { ...candidate.subscriptions[i]!, fields };
    const problems = semanticIssues(candidate).filter(
      (p) => p.severity === 'error' && p.path[0] === 'subscriptions' && p.path[1] === i,
    );
    if (problems.length > 0) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `subscription "${subscription}": ${problems.map((p) => `${formatPath(p.path.slice(2))}: ${p.message}`).join('; ')}`,
        { details: { subscription, issues: problems } },
      );
    }
    await this.state.setSubscriptionOverride({
      subscription,
      setting: 'fields',
      value: fields,
      ...(by ? { by } : {}),
      at: new Date().toISOString().replace('Z', '000Z'),
    });
    await this.load();
    await this.onChange(subscription);
    return this.fields(cfg, subscription);
  }

  /** Back to the config's fields; false when there was no override. */
  async resetFields(cfg: Config, subscription: string): Promise<boolean> {
    configured(cfg, subscription);
    const removed = await this.state.clearSubscriptionOverride(subscription, 'fields');
    if (removed) {
      await this.load();
      await this.onChange(subscription);
    }
    return removed;
  }

  private override(subscription: string): (SubscriptionOverride & { setting: 'fields' }) | undefined {
    return this.overrides.find(
      (o): o is SubscriptionOverride & { setting: 'fields' } =>
        o.subscription === subscription && o.setting === 'fields',
    );
  }

  private applied(s: SubscriptionConfig): SubscriptionConfig {
    const o = this.override(s.id);
    return o ? { ...s, fields: o.value } : s;
  }
}

function configured(cfg: Config, subscription: string): SubscriptionConfig {
  const s = cfg.subscriptions.find((x) => x.id === subscription);
  if (!s) {
    throw new SluiceError('NOT_FOUND', `unknown subscription "${subscription}"`, { details: { subscription } });
  }
  return s;
}

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

/** A subscription's exchange cycle as the engine applies it: the config's cadence, or an operator's override. */
export interface SubscriptionCycle {
  subscription: string;
  cadence: string;
  timezone: string;
  config: { cadence: string; timezone: string };
  override?: { by?: string; at: string };
  /** Set while paused (`sluice pause`): no cycle runs. */
  paused?: { reason?: string; by?: string; at: string };
}

type Setting = SubscriptionOverride['setting'];
type OverrideOf<S extends Setting> = SubscriptionOverride & { setting: S };

/**
 * Operators' runtime changes to subscriptions (stored in the state DB; they win over the config until reset): the
 * fields a subscription asks for (`sluice fields`), its exchange cycle (`sluice cycle set`) and whether it is paused
 * (`sluice pause`). A change is checked by the same rules as `sluice validate` against the config as it applies now
 * (runtime classifications included) before it is stored; `onChange` lets the engine act on it (re-decide the grant —
 * a field granted anew is backfilled —, or re-schedule the cycle).
 */
export class RuntimeSubscriptions {
  private overrides: SubscriptionOverride[] = [];

  constructor(
    private readonly state: StateStore,
    private readonly onChange: (subscription: string, setting: Setting) => Promise<void>,
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
    const o = this.override(subscription, 'fields');
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
    this.check(cfg, subscription, (s) => ({ ...s, fields }), []);
    await this.store({ subscription, setting: 'fields', value: fields, ...(by ? { by } : {}), at: now() });
    return this.fields(cfg, subscription);
  }

  /** Back to the config's fields; false when there was no override. */
  resetFields(cfg: Config, subscription: string): Promise<boolean> {
    return this.reset(cfg, subscription, 'fields');
  }

  cycle(cfg: Config, subscription: string): SubscriptionCycle {
    const s = configured(cfg, subscription);
    // a live feed has no exchange cycle: shown as such (it can still be paused)
    const config =
      s.delivery.mode === 'batch'
        ? { cadence: s.delivery.cadence, timezone: s.delivery.timezone ?? 'UTC' }
        : { cadence: FEED_CADENCE, timezone: 'UTC' };
    const o = this.override(subscription, 'cadence');
    const p = this.override(subscription, 'paused');
    return {
      subscription,
      cadence: o?.value.cadence ?? config.cadence,
      timezone: o ? (o.value.timezone ?? config.timezone) : config.timezone,
      config,
      ...(o ? { override: { ...(o.by ? { by: o.by } : {}), at: o.at } } : {}),
      ...(p ? { paused: { ...p.value, ...(p.by ? { by: p.by } : {}), at: p.at } } : {}),
    };
  }

  /**
   * Changes a subscription's exchange cycle (the config's time zone when `timezone` is not given); refused
   * (CONFIG_INVALID, naming the problem) for a bad cron expression or an unknown time zone.
   */
  async setCadence(
    cfg: Config,
    subscription: string,
    cadence: string,
    timezone?: string,
    by?: string,
  ): Promise<SubscriptionCycle> {
    if (configured(cfg, subscription).delivery.mode === 'feed') {
      throw new SluiceError(
        'CONFLICT',
        `subscription "${subscription}" is a live feed: it has no exchange cycle (sluice pause|resume still apply)`,
        { details: { subscription } },
      );
    }
    const value = { cadence, ...(timezone !== undefined ? { timezone } : {}) };
    this.check(cfg, subscription, (s) => ({ ...s, delivery: { ...s.delivery, ...value } }), ['delivery']);
    await this.store({ subscription, setting: 'cadence', value, ...(by ? { by } : {}), at: now() });
    return this.cycle(cfg, subscription);
  }

  /** Back to the config's cycle; false when there was no override. */
  resetCadence(cfg: Config, subscription: string): Promise<boolean> {
    return this.reset(cfg, subscription, 'cadence');
  }

  /** Stops the subscription's cycles until `resume` (kept across restarts). */
  async pause(cfg: Config, subscription: string, reason?: string, by?: string): Promise<SubscriptionCycle> {
    configured(cfg, subscription);
    const value = reason ? { reason } : {};
    await this.store({ subscription, setting: 'paused', value, ...(by ? { by } : {}), at: now() });
    return this.cycle(cfg, subscription);
  }

  /** Lets the cycles run again; false when it was not paused. */
  resume(cfg: Config, subscription: string): Promise<boolean> {
    return this.reset(cfg, subscription, 'paused');
  }

  isPaused(subscription: string): boolean {
    return this.override(subscription, 'paused') !== undefined;
  }

  /**
   * Refuses a change whose candidate config breaks `sluice validate`'s rules for this subscription (only problems
   * under `under`, a path relative to the subscription; anywhere in it when empty).
   */
  private check(
    cfg: Config,
    subscription: string,
    change: (s: SubscriptionConfig) => SubscriptionConfig,
    under: string[],
  ): void {
    configured(cfg, subscription);
    const candidate = this.apply(cfg);
    const i = candidate.subscriptions.findIndex((s) => s.id === subscription);
    candidate.subscriptions[i] = change(candidate.subscriptions[i]!);
    const problems = semanticIssues(candidate).filter(
      (p) =>
        p.severity === 'error' &&
        p.path[0] === 'subscriptions' &&
        p.path[1] === i &&
        under.every((k, j) => p.path[2 + j] === k),
    );
    if (problems.length > 0) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `subscription "${subscription}": ${problems.map((p) => `${formatPath(p.path.slice(2))}: ${p.message}`).join('; ')}`,
        { details: { subscription, issues: problems } },
      );
    }
  }

  private async store(o: SubscriptionOverride): Promise<void> {
    await this.state.setSubscriptionOverride(o);
    await this.load();
    await this.onChange(o.subscription, o.setting);
  }

  private async reset(cfg: Config, subscription: string, setting: Setting): Promise<boolean> {
    configured(cfg, subscription);
    const removed = await this.state.clearSubscriptionOverride(subscription, setting);
    if (removed) {
      await this.load();
      await this.onChange(subscription, setting);
    }
    return removed;
  }

  private override<S extends Setting>(subscription: string, setting: S): OverrideOf<S> | undefined {
    return this.overrides.find((o): o is OverrideOf<S> => o.subscription === subscription && o.setting === setting);
  }

  private applied(s: SubscriptionConfig): SubscriptionConfig {
    const f = this.override(s.id, 'fields');
    const c = this.override(s.id, 'cadence');
    return {
      ...s,
      ...(f ? { fields: f.value } : {}),
      ...(c && s.delivery.mode === 'batch' ? { delivery: { ...s.delivery, ...c.value } } : {}),
    };
  }
}

/** What `cadence` shows for a live feed. */
export const FEED_CADENCE = 'live feed';

/** An override's instant: ISO 8601 with µs, as the state DB gives it back. */
const now = () => new Date().toISOString().replace('Z', '000Z');

function configured(cfg: Config, subscription: string): SubscriptionConfig {
  const s = cfg.subscriptions.find((x) => x.id === subscription);
  if (!s) {
    throw new SluiceError('NOT_FOUND', `unknown subscription "${subscription}"`, { details: { subscription } });
  }
  return s;
}

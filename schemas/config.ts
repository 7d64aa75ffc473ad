/**
 * The Sluice configuration contract. This TypeBox definition is the single source: the JSON Schema
 * (`schemas/config.schema.json`, draft 2020-12) is generated from it by `npm run schemas`, and the TS types are
 * derived from it with `Static<>` — nothing is written twice. A test fails when the JSON file is stale.
 */
import { Type, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';

/** A union of string literals that keeps its literal TS type. */
function oneOf<const T extends readonly string[]>(values: T, opts: { description?: string } = {}) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    opts,
  ) as unknown as TUnion<TLiteral<T[number]>[]>;
}

/** `^[a-z][a-z0-9-]{0,39}$` — providers, resources, subscribers, subscriptions (DESIGN.md, Operating rules). */
export const ID_PATTERN = '^[a-z][a-z0-9-]{0,39}$';
const Id = (description: string) => Type.String({ pattern: ID_PATTERN, description });
const strict = { additionalProperties: false } as const;

export const Level = Type.Union([Type.Literal('core'), Type.Literal('important'), Type.Literal('general')], {
  description: 'Classification level (Data Security Law; GB/T 43697-2024).',
});
export const Share = Type.Union([Type.Literal('unconditional'), Type.Literal('conditional'), Type.Literal('none')], {
  description: 'Sharing type of the national catalogue.',
});
export const StrategyName = oneOf(['clear', 'partial', 'generalize', 'encrypt', 'hash', 'null', 'deny']);
export const AdminLevel = oneOf(['national', 'provincial', 'municipal', 'county']);

export const FieldConfig = Type.Object(
  {
    level: Level,
    tag: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Sensitivity tag: person_name, cn_id_card, cn_mobile, bank_card, address, email, phone, …',
      }),
    ),
    share: Share,
    title: Type.Optional(Type.String()),
  },
  strict,
);

const Duration = (description: string) => Type.String({ pattern: '^[0-9]+(ms|s|m)$', description });

export const PostgresConnector = Type.Object(
  {
    kind: Type.Literal('postgres'),
    url: Type.String({ minLength: 1, description: 'postgres:// URL of the provider database; usually env:NAME.' }),
    heartbeat: Type.Optional(
      Duration(
        'Interval of pg_logical_emit_message heartbeats through the slot (keep an idle slot advancing, measure lag); "0s" turns them off. Default "10s".',
      ),
    ),
    stallAlertAfter: Type.Optional(
      Duration(
        'Alert (sluice_source_stalled = 1, a warning in the log, /v1/status) when the confirmed position has not moved for this long while the server writes WAL. Default "5m".',
      ),
    ),
  },
  strict,
);

export const Provider = Type.Object(
  {
    id: Id('Provider id.'),
    title: Type.Optional(Type.String()),
    connector: PostgresConnector,
  },
  strict,
);

export const Resource = Type.Object(
  {
    id: Id('Resource id.'),
    title: Type.Optional(Type.String()),
    provider: Type.String({ description: 'Id of the provider that publishes the resource.' }),
    table: Type.String({ description: 'schema.table (or table, meaning public.table) in the provider database.' }),
    key: Type.Array(Type.String(), { minItems: 1, description: 'Key columns.' }),
    fields: Type.Record(Type.String(), FieldConfig, {
      description: 'Classified columns; a column not listed is never shared.',
    }),
  },
  strict,
);

export const Subscriber = Type.Object(
  {
    id: Id('Subscriber id.'),
    title: Type.Optional(Type.String()),
    clearance: Type.Integer({
      minimum: 0,
      maximum: 4,
      description: 'Clearance 0–4; thresholds of the masking matrix.',
    }),
    adminLevel: Type.Optional(AdminLevel),
  },
  strict,
);

export const MaskingRow = Type.Record(Type.String({ pattern: '^([0-4]|default)$' }), StrategyName, {
  additionalProperties: false,
  description: 'Clearance thresholds "0".."4" and "default" → strategy; the highest key ≤ clearance applies.',
});
export const Masking = Type.Object(
  { core: Type.Optional(MaskingRow), important: Type.Optional(MaskingRow), general: Type.Optional(MaskingRow) },
  strict,
);

export const BatchDelivery = Type.Object(
  {
    mode: Type.Literal('batch'),
    cadence: Type.String({ description: 'Cron expression (5 or 6 fields, seconds first when 6).' }),
    timezone: Type.Optional(Type.String({ description: 'IANA time zone of the cadence; default UTC.' })),
    incremental: Type.Optional(
      Type.Literal('changes', { description: 'changes (latest and snapshot arrive with a later issue).' }),
    ),
    format: Type.Optional(Type.Literal('parquet')),
    compression: Type.Optional(Type.Union([Type.Literal('zstd'), Type.Literal('snappy'), Type.Literal('none')])),
    dir: Type.String({ description: 'Output directory; files land in <dir>/<subscription>/.' }),
  },
  strict,
);

export const Subscription = Type.Object(
  {
    id: Id('Subscription id.'),
    subscriber: Type.String(),
    resource: Type.String(),
    fields: Type.Array(Type.String(), { minItems: 1, uniqueItems: true }),
    masks: Type.Optional(
      Type.Record(Type.String(), StrategyName, {
        description: 'Per-field overrides; may only be stricter than the matrix.',
      }),
    ),
    purpose: Type.String({ minLength: 1 }),
    businessSystem: Type.String({ minLength: 1 }),
    delivery: BatchDelivery,
  },
  strict,
);

export const Config = Type.Object(
  {
    dataDir: Type.Optional(Type.String({ description: 'Embedded state and runtime.json; default ./.sluice.' })),
    state: Type.Optional(Type.Object({ url: Type.String({ minLength: 1 }) }, strict)),
    bus: Type.Optional(Type.Object({ kind: Type.Literal('postgres') }, strict)),
    api: Type.Optional(
      Type.Object(
        {
          listen: Type.String({
            pattern: '^[^:]+:[0-9]{1,5}$',
            description: 'host:port, loopback by default; port 0 picks a free one.',
          }),
        },
        strict,
      ),
    ),
    drainTimeout: Type.Optional(Duration('Forced-stop deadline, e.g. "30s".')),
    providers: Type.Array(Provider),
    resources: Type.Array(Resource),
    subscribers: Type.Array(Subscriber),
    masking: Type.Optional(Masking),
    subscriptions: Type.Array(Subscription),
  },
  { ...strict, $id: 'https://sluice.example/schemas/config.schema.json', title: 'Sluice configuration' },
);

export type Config = Static<typeof Config>;
export type ProviderConfig = Static<typeof Provider>;
export type ResourceConfig = Static<typeof Resource>;
export type FieldConfig = Static<typeof FieldConfig>;
export type SubscriberConfig = Static<typeof Subscriber>;
export type SubscriptionConfig = Static<typeof Subscription>;
export type MaskingConfig = Static<typeof Masking>;

/** The JSON Schema document as written to schemas/config.schema.json. */
export function configJsonSchema(): TSchema {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...structuredClone(Config) };
}

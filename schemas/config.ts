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

/** Per-field sharing conditions (a subset of the IDS usage-control classes); all listed ones must hold. */
export const Conditions = Type.Object(
  {
    organisations: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: "Subscribers allowed: a subscriber's id or its organisation.",
      }),
    ),
    adminLevels: Type.Optional(
      Type.Array(AdminLevel, { minItems: 1, description: 'Administrative levels of the subscriber allowed.' }),
    ),
    purposes: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: "The subscription's purpose must be one of these.",
      }),
    ),
    businessSystems: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: "The subscription's business system must be one of these.",
      }),
    ),
    validFrom: Type.Optional(
      Type.String({ format: 'date-time', description: 'Not granted before this instant (RFC 3339).' }),
    ),
    validUntil: Type.Optional(
      Type.String({ format: 'date-time', description: 'Not granted from this instant on (RFC 3339, exclusive).' }),
    ),
    maxDeliveries: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Deliveries (files or feed ranges) of this field to one subscription.' }),
    ),
    minClearance: Type.Optional(Type.Integer({ minimum: 0, maximum: 4, description: 'Lowest subscriber clearance.' })),
  },
  {
    ...strict,
    description:
      'Conditions of a conditional field; a conditional field without them is granted to any subscriber for which it does not resolve to deny.',
  },
);

/** How `generalize` coarsens a field's values. */
export const GeneralizeConfig = Type.Object(
  {
    date: Type.Optional(
      oneOf(['year', 'month'], { description: 'Dates and timestamps to YYYY or YYYY-MM (default year).' }),
    ),
    buckets: Type.Optional(
      Type.Array(Type.Union([Type.String({ pattern: '^-?[0-9]+(\\.[0-9]+)?$' }), Type.Number()]), {
        minItems: 1,
        description: 'Ascending bucket boundaries of a numeric field: labels <b0, [b0,b1), …, >=bn.',
      }),
    ),
    idRegionDigits: Type.Optional(
      Type.Union([Type.Literal(2), Type.Literal(4), Type.Literal(6)], {
        description: 'Resident ID numbers: digits of the division code kept with the birth year (default 4).',
      }),
    ),
  },
  strict,
);

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
    conditions: Type.Optional(Conditions),
    codeTable: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Allowed values and their labels (code → label); other values fail the code-table check.',
      }),
    ),
    required: Type.Optional(Type.Boolean({ description: 'Nulls fail the null check (key columns always do).' })),
    generalize: Type.Optional(GeneralizeConfig),
  },
  strict,
);

const Duration = (description: string) => Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$', description });

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
    snapshot: Type.Optional(
      Type.Object(
        {
          mode: Type.Optional(
            oneOf(['initial', 'never'], {
              description:
                "initial (default): when a resource is first attached (a new provider, or a table added to one) its current rows are delivered as _op = r before its changes; never: only changes from the slot's creation on.",
            }),
          ),
          chunkRows: Type.Optional(
            Type.Integer({
              minimum: 100,
              maximum: 1000000,
              description: 'Rows per snapshot chunk (one keyset read, one bus append). Default 10000.',
            }),
          ),
        },
        strict,
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
    account: Type.Optional(
      Type.String({
        pattern: '^0x[0-9a-fA-F]{40}$',
        description:
          "The provider's chain account: it signs its resources' conditions and revocations (sluice policy publish|revoke).",
      }),
    ),
  },
  strict,
);

export const Resource = Type.Object(
  {
    id: Id('Resource id.'),
    title: Type.Optional(Type.String()),
    provider: Type.String({ description: 'Id of the provider that publishes the resource.' }),
    table: Type.String({ description: 'schema.table (or table, meaning public.table) in the provider database.' }),
    abstract: Type.Optional(Type.String({ description: 'What the resource holds (catalogue abstract).' })),
    updateCycle: Type.Optional(
      Type.String({
        description: 'How often the provider updates it (catalogue update cycle), e.g. real-time, daily.',
      }),
    ),
    key: Type.Array(Type.String(), { minItems: 1, description: 'Key columns.' }),
    fields: Type.Record(Type.String(), FieldConfig, {
      description: 'Classified columns; a column not listed is never shared.',
    }),
    quality: Type.Optional(
      Type.Object(
        {
          onFailure: Type.Optional(
            oneOf(['deliver', 'flag', 'hold'], {
              description:
                'A row failing a quality check: deliver it as is, flag it (_quality names the checks; default), or hold it back (reported, not delivered).',
            }),
          ),
          sample: Type.Optional(
            Type.Number({
              exclusiveMinimum: 0,
              maximum: 1,
              description: 'Share of streamed changes checked for the quality report (default 1: all).',
            }),
          ),
        },
        strict,
      ),
    ),
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
    organisation: Type.Optional(
      Type.String({ minLength: 1, description: 'Organisation (e.g. unified social credit code) for conditions.' }),
    ),
    publicKey: Type.Optional(
      Type.String({
        minLength: 1,
        description: "X25519 public key (base64url, 32 bytes) the encrypt strategy's data keys are wrapped for.",
      }),
    ),
    account: Type.Optional(
      Type.String({
        pattern: '^0x[0-9a-fA-F]{40}$',
        description:
          "The subscriber's chain account: it signs applications (sluice apply); the operator attests its attributes to it.",
      }),
    ),
  },
  strict,
);

export const MaskingRow = Type.Record(Type.String({ pattern: '^([0-4]|default)$' }), StrategyName, {
  additionalProperties: false,
  description: 'Clearance thresholds "0".."4" and "default" → strategy; the highest key ≤ clearance applies.',
});
const PartialKeep = Type.Object(
  { keepFirst: Type.Optional(Type.Integer({ minimum: 0 })), keepLast: Type.Optional(Type.Integer({ minimum: 0 })) },
  strict,
);
export const Masking = Type.Object(
  {
    core: Type.Optional(MaskingRow),
    important: Type.Optional(MaskingRow),
    general: Type.Optional(MaskingRow),
    tags: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), MaskingRow, {
        description:
          "Per-tag rows, e.g. cn_id_card: {default: hash}: a field with the tag gets the stricter of its level's strategy and the tag's.",
      }),
    ),
    partial: Type.Optional(
      Type.Record(
        oneOf(['person_name', 'cn_id_card', 'cn_mobile', 'bank_card', 'email', 'address', 'phone']),
        PartialKeep,
        {
          description: 'Per-tag partial formats: code points kept first and last (REFERENCE defaults otherwise).',
        },
      ),
    ),
    generalize: Type.Optional(
      Type.Object(
        { date: Type.Optional(oneOf(['year', 'month'])) },
        { ...strict, description: 'Defaults of generalize.' },
      ),
    ),
  },
  strict,
);

export const BatchDelivery = Type.Object(
  {
    mode: Type.Literal('batch'),
    cadence: Type.String({ description: 'Cron expression (5 or 6 fields, seconds first when 6).' }),
    timezone: Type.Optional(Type.String({ description: 'IANA time zone of the cadence; default UTC.' })),
    incremental: Type.Optional(
      Type.Union([Type.Literal('changes'), Type.Literal('latest'), Type.Literal('snapshot')], {
        description:
          'changes (default): every change, in order; latest: the net effect per key within the cycle (insert then ' +
          'update: one insert with the final values; inserted and deleted: nothing); snapshot: the full current ' +
          'state at each cycle, read consistently from the source (<tick>_snapshot.parquet, rows _op = r).',
      }),
    ),
    format: Type.Optional(Type.Literal('parquet')),
    compression: Type.Optional(Type.Union([Type.Literal('zstd'), Type.Literal('snappy'), Type.Literal('none')])),
    partSize: Type.Optional(
      Type.String({
        pattern: '^[0-9]+(KB|MB|GB)$',
        description:
          'A batch file larger than this is split into parts <stem>.p001.parquet, … under one manifest (KB, MB, GB are powers of 1024; a part may pass it by up to two row groups). Default "1GB".',
      }),
    ),
    rowGroupRows: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_048_576,
        description: 'Rows per Parquet row group (memory while writing is one row group). Default 65536.',
      }),
    ),
    dir: Type.String({ description: 'Output directory; files land in <dir>/<subscription>/.' }),
  },
  strict,
);

const FeedNats = Type.Object(
  {
    url: Type.String({ minLength: 1, description: 'NATS server URL, e.g. nats://127.0.0.1:4222; usually env:NAME.' }),
    subject: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$',
        description: 'Subject the events are published on; default sluice.feed.<subscriber>.<subscription>.',
      }),
    ),
    stream: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{1,64}$',
        description:
          'JetStream stream holding the subject: created when missing, its subjects extended. Default SLUICE_FEED.',
      }),
    ),
    maxAge: Type.Optional(
      Duration(
        'How long the stream keeps an event for replays (JetStream max_age, set when the stream is created). Default "7d".',
      ),
    ),
  },
  strict,
);

const FeedWebhook = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Receiver URL (http or https); usually env:NAME.' }),
    secret: Type.String({
      minLength: 1,
      description: 'Standard Webhooks signing secret (whsec_ followed by base64, at least 24 bytes); always env:NAME.',
    }),
    batchSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description:
          'Events per request: 1 posts single events (application/cloudevents+json), more posts batches (application/cloudevents-batch+json). Default 100.',
      }),
    ),
    linger: Type.Optional(
      Duration('How long to wait for more events before posting a batch that is not full. Default "0ms".'),
    ),
    timeout: Type.Optional(Duration('A request without a 2xx answer within this is a failed attempt. Default "10s".')),
    maxAttempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description:
          'Attempts per request before its events go to the dead-letter store (later events of their keys wait behind them). Default 8.',
      }),
    ),
    backoff: Type.Optional(
      Type.Object(
        {
          initial: Type.Optional(
            Duration(
              'Wait before the first retry; doubles each time, times a random factor of 1 to 2 (jitter). Default "500ms".',
            ),
          ),
          max: Type.Optional(Duration('Longest wait between attempts. Default "60s".')),
        },
        strict,
      ),
    ),
  },
  strict,
);

export const FeedDelivery = Type.Object(
  {
    mode: Type.Literal('feed'),
    nats: Type.Optional(FeedNats),
    webhook: Type.Optional(FeedWebhook),
    maxInFlight: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        description:
          'Events of this subscription read from the bus and not yet acknowledged, at most (memory is bounded by it; a backlog stays in the bus). Default 1000.',
      }),
    ),
  },
  { ...strict, description: 'Live event feed: exactly one of nats or webhook.' },
);

/** `delivery`: chosen by its `mode` (a discriminator, so a wrong key is reported against the mode given). */
const Delivery = Type.Unsafe<Static<typeof BatchDelivery> | Static<typeof FeedDelivery>>({
  type: 'object',
  required: ['mode'],
  discriminator: { propertyName: 'mode' },
  oneOf: [BatchDelivery, FeedDelivery],
});

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
    filter: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Row filter, e.g. \"amount > 500 and region in ('110105', '110108')\": comparisons, and/or/not, in, between, is null, like, DATE '…', exact decimals.",
      }),
    ),
    filterFields: Type.Optional(
      Type.Array(Type.String(), {
        uniqueItems: true,
        description:
          "Operator's allowance: fields the filter may use although they are not delivered in clear to this subscriber.",
      }),
    ),
    purpose: Type.String({ minLength: 1 }),
    businessSystem: Type.String({ minLength: 1 }),
    delivery: Delivery,
  },
  strict,
);

const Address = (description: string) => Type.String({ pattern: '^0x[0-9a-fA-F]{40}$', description });

/** The chain (issue 8): SharingPolicy decides grants, DeliveryAnchor holds the delivery log's checkpoints. */
const Chain = Type.Object(
  {
    rpc: Type.String({ pattern: '^(https?|wss?)://', description: 'JSON-RPC URL of the EVM node; usually env:NAME.' }),
    operatorKey: Type.String({
      pattern: '^(0x)?[0-9a-fA-F]{64}$',
      description:
        "The platform operator's private key (32 bytes, hex): give it as env:NAME, never in the file. It signs checkpoints.",
    }),
    policy: Address('SharingPolicy address (sluice contracts deploy prints it).'),
    anchor: Address('DeliveryAnchor address (sluice contracts deploy prints it).'),
    confirmations: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description: 'Blocks a checkpoint transaction must be under before it counts as anchored. Default 1.',
      }),
    ),
    onOutage: Type.Optional(
      Type.Union([Type.Literal('cached'), Type.Literal('pause')], {
        description:
          'While the chain cannot be read: cached — deliver under the last grants read from it, minus whatever the conditions deny by now (an expired window); pause — deliver nothing. Default cached.',
      }),
    ),
    anchorEvery: Type.Optional(
      Type.Object(
        {
          leaves: Type.Optional(
            Type.Integer({
              minimum: 1,
              description: 'Anchor once this many leaves are not anchored yet. Default 100.',
            }),
          ),
          interval: Type.Optional(
            Duration('Anchor at least this often while leaves wait (one transaction however many). Default "30s".'),
          ),
        },
        strict,
      ),
    ),
  },
  strict,
);

export const Config = Type.Object(
  {
    dataDir: Type.Optional(Type.String({ description: 'Embedded state and runtime.json; default ./.sluice.' })),
    state: Type.Optional(Type.Object({ url: Type.String({ minLength: 1 }) }, strict)),
    bus: Type.Optional(
      Type.Object(
        {
          kind: Type.Literal('postgres'),
          retention: Type.Optional(
            Type.Object(
              {
                keepDelivered: Type.Optional(
                  Duration(
                    'Changes every subscription of their resource has received stay on the bus this long (for sluice redeliver), then are trimmed. Default "7d".',
                  ),
                ),
                max: Type.Optional(
                  Duration(
                    'No change stays on the bus longer, delivered or not: a paused or stuck subscription loses what it had not received (it then gets a backfill of the current state) instead of pinning storage forever. An alert is raised as a subscription approaches it (a quarter of it left). Default "30d".',
                  ),
                ),
              },
              strict,
            ),
          ),
        },
        strict,
      ),
    ),
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
    chain: Type.Optional(Chain),
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
export type ConditionsConfig = Static<typeof Conditions>;
export type GeneralizeConfig = Static<typeof GeneralizeConfig>;

/** The JSON Schema document as written to schemas/config.schema.json. */
export function configJsonSchema(): TSchema {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...structuredClone(Config) };
}
export type BatchDeliveryConfig = Static<typeof BatchDelivery>;
export type FeedDeliveryConfig = Static<typeof FeedDelivery>;
export type ChainConfig = Static<typeof Chain>;

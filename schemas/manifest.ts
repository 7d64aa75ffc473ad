/**
 * The batch manifest (`<stem>.manifest.json`, DESIGN.md "Batch output"). Written last, after every part is in place;
 * a subscriber checks each part's sha256 against it. The log index is not here: it is assigned when the delivery is
 * committed and lives in the delivery record.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const MANIFEST_FORMAT = 'sluice.batch/1';

const Int64 = Type.String({ pattern: '^-?[0-9]+$', description: 'int64 as a decimal string' });

export const ManifestColumn = Type.Object(
  {
    name: Type.String(),
    type: Type.String({ description: 'Logical type, e.g. int64, decimal(20,4), timestamptz, utf8.' }),
    sourceType: Type.Optional(Type.String({ description: 'The source column type, e.g. numeric(20,4).' })),
    strategy: Type.Optional(Type.String({ description: 'Masking strategy applied (granted fields only).' })),
    tag: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const ManifestPart = Type.Object(
  {
    file: Type.String(),
    rows: Type.Integer(),
    bytes: Type.Integer(),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);

export const Manifest = Type.Object(
  {
    format: Type.Literal(MANIFEST_FORMAT),
    deliveryId: Type.String({ description: '<subscription>:<firstSeq>-<lastSeq>' }),
    subscription: Type.String(),
    subscriber: Type.String(),
    resource: Type.String(),
    provider: Type.String(),
    grantId: Type.String({ description: 'Identifies the grant the delivery was made under (config grant for now).' }),
    purpose: Type.String(),
    businessSystem: Type.String(),
    incremental: Type.Union([Type.Literal('changes'), Type.Literal('latest'), Type.Literal('snapshot')], {
      description:
        'changes: every change; latest: the net effect per key within the cycle (one row per key); snapshot: the ' +
        'full current state (rows _op = r, all with _seq = seq.last, the bus high-water mark of the read).',
    }),
    redeliveryOf: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'A re-delivery (sluice redeliver): the deliveryIds of the original files whose changes it holds again. ' +
          'Its stem carries the time of the re-delivery.',
      }),
    ),
    netted: Type.Optional(
      Type.Integer({ description: 'latest: changes folded into a later row of the same key (not in the file).' }),
    ),
    schemaVersion: Type.Integer(),
    tick: Type.String({ description: 'The cycle tick, RFC 3339 UTC.' }),
    window: Type.Object(
      { from: Type.Union([Type.String(), Type.Null()]), to: Type.String() },
      { additionalProperties: false, description: 'Label: [previous tick, tick).' },
    ),
    seq: Type.Object({ first: Int64, last: Int64 }, { additionalProperties: false }),
    position: Type.Object({ first: Type.String(), last: Type.String() }, { additionalProperties: false }),
    commitTs: Type.Object({ min: Type.String(), max: Type.String() }, { additionalProperties: false }),
    rows: Type.Integer(),
    ops: Type.Object(
      { c: Type.Integer(), u: Type.Integer(), d: Type.Integer(), t: Type.Integer() },
      { additionalProperties: false, description: 'Rows per _op: insert, update, delete, truncate.' },
    ),
    columns: Type.Array(ManifestColumn),
    keys: Type.Optional(
      Type.Object(
        {
          hash: Type.Integer({ minimum: 1, description: "Version of the subscription's HMAC key (hash strategy)." }),
          encrypt: Type.Optional(Type.Integer({ minimum: 1, description: 'Version of its AES data key.' })),
        },
        { additionalProperties: false, description: 'Secret versions used (rotation adds versions).' },
      ),
    ),
    encryption: Type.Optional(
      Type.Object(
        {
          alg: Type.Literal('AES-256-GCM', {
            description: 'Each value: nonce(12) ‖ ciphertext ‖ tag(16), AAD = column name.',
          }),
          keyId: Type.String(),
          wrappedKey: Type.Object(
            {
              alg: Type.String(),
              keyId: Type.String(),
              epk: Type.String(),
              nonce: Type.String(),
              ciphertext: Type.String(),
            },
            {
              additionalProperties: false,
              description: "The data key wrapped for the subscriber's X25519 public key.",
            },
          ),
        },
        {
          additionalProperties: false,
          description: 'Present when a column is encrypted: what `sluice decrypt` needs.',
        },
      ),
    ),
    parts: Type.Array(ManifestPart, { minItems: 1 }),
    quality: Type.Array(
      Type.Object(
        { column: Type.String(), seq: Int64, check: Type.String(), detail: Type.String() },
        { additionalProperties: false },
      ),
      { description: 'Values that could not be written as-is or masked as configured (no raw sensitive values).' },
    ),
  },
  {
    additionalProperties: false,
    $id: 'https://sluice.example/schemas/manifest.schema.json',
    title: 'Sluice batch manifest',
  },
);
export type Manifest = Static<typeof Manifest>;

export function manifestJsonSchema(): TSchema {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...structuredClone(Manifest) };
}

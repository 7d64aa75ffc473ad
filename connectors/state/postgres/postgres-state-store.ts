import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';
import { SluiceError } from '../../../engine/errors.ts';
import type {
  DeliveryIntent,
  DeliveryRecord,
  ResourceSchema,
  StateStore,
  SubscriptionCursor,
} from '../../../engine/ports/index.ts';
import { withTransaction } from './transaction.ts';

type Shape = Omit<ResourceSchema, 'version' | 'resource'>;

const UNIQUE_VIOLATION = '23505';

/** State in Postgres (the embedded cluster by default). Tables come from ./migrations.ts. */
export class PostgresStateStore implements StateStore {
  constructor(private readonly pool: pg.Pool) {}

  async registerSchema(shape: Omit<ResourceSchema, 'version'>): Promise<number> {
    const { resource, ...body } = shape;
    return withTransaction(this.pool, async (c) => {
      await c.query('select pg_advisory_xact_lock(hashtext($1))', [`schema:${resource}`]);
      const { rows } = await c.query<{ version: number; shape: Shape }>(
        'select version, shape from sluice_resource_schemas where resource = $1 order by version desc limit 1',
        [resource],
      );
      const last = rows[0];
      if (last && isDeepStrictEqual(last.shape, JSON.parse(JSON.stringify(body)))) return last.version;
      const version = (last?.version ?? 0) + 1;
      await c.query('insert into sluice_resource_schemas (resource, version, shape) values ($1, $2, $3)', [
        resource,
        version,
        JSON.stringify(body),
      ]);
      return version;
    });
  }

  async schema(resource: string, version: number): Promise<ResourceSchema> {
    const { rows } = await this.pool.query<{ shape: Shape }>(
      'select shape from sluice_resource_schemas where resource = $1 and version = $2',
      [resource, version],
    );
    const row = rows[0];
    if (!row) {
      throw new SluiceError('STATE_CORRUPT', `no schema version ${version} recorded for resource "${resource}"`, {
        details: { resource, version },
      });
    }
    return { resource, version, ...row.shape };
  }

  async subscriptionKey(subscription: string): Promise<Uint8Array> {
    await this.pool.query(
      'insert into sluice_subscription_keys (subscription, hmac_key) values ($1, $2) on conflict do nothing',
      [subscription, randomBytes(32)],
    );
    const { rows } = await this.pool.query<{ hmac_key: Buffer }>(
      'select hmac_key from sluice_subscription_keys where subscription = $1',
      [subscription],
    );
    return new Uint8Array(rows[0]!.hmac_key);
  }

  async cursor(subscription: string): Promise<SubscriptionCursor> {
    const { rows } = await this.pool.query<{ seq: string; last_tick: string | null }>(
      'select seq, last_tick from sluice_cursors where subscription = $1',
      [subscription],
    );
    return { seq: BigInt(rows[0]?.seq ?? 0), lastTick: rows[0]?.last_tick ?? null };
  }

  async openIntent(subscription: string): Promise<DeliveryIntent | null> {
    const { rows } = await this.pool.query<{
      resource: string;
      tick: string;
      window_from: string | null;
      from_seq: string;
      to_seq: string;
      fields: DeliveryIntent['fields'];
    }>('select resource, tick, window_from, from_seq, to_seq, fields from sluice_intents where subscription = $1', [
      subscription,
    ]);
    const r = rows[0];
    if (!r) return null;
    return {
      subscription,
      resource: r.resource,
      tick: r.tick,
      windowFrom: r.window_from,
      fromSeq: BigInt(r.from_seq),
      toSeq: BigInt(r.to_seq),
      fields: r.fields,
    };
  }

  async beginIntent(i: DeliveryIntent): Promise<void> {
    try {
      await this.pool.query(
        `insert into sluice_intents (subscription, resource, tick, window_from, from_seq, to_seq, fields)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [
          i.subscription,
          i.resource,
          i.tick,
          i.windowFrom,
          i.fromSeq.toString(),
          i.toSeq.toString(),
          JSON.stringify(i.fields),
        ],
      );
    } catch (e) {
      if ((e as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new SluiceError('STATE_CORRUPT', `subscription "${i.subscription}" already has an open delivery intent`, {
          cause: e,
          details: { subscription: i.subscription },
        });
      }
      throw e;
    }
  }

  async completeIntent(i: DeliveryIntent, records: DeliveryRecord[]): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      const del = await c.query('delete from sluice_intents where subscription = $1 and tick = $2 and to_seq = $3', [
        i.subscription,
        i.tick,
        i.toSeq.toString(),
      ]);
      if (del.rowCount !== 1) {
        throw new SluiceError('STATE_CORRUPT', `no open intent for subscription "${i.subscription}" at ${i.tick}`, {
          details: { subscription: i.subscription, tick: i.tick },
        });
      }
      for (const record of records) {
        await c.query(
          `insert into sluice_deliveries (delivery_id, subscription, stem, first_seq, last_seq, rows, manifest_sha256, parts)
           values ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            record.deliveryId,
            record.subscription,
            record.stem,
            record.firstSeq.toString(),
            record.lastSeq.toString(),
            record.rows,
            record.manifestSha256,
            JSON.stringify(record.parts),
          ],
        );
      }
      await c.query(
        `insert into sluice_cursors (subscription, seq, last_tick) values ($1, $2, $3)
         on conflict (subscription) do update set seq = excluded.seq, last_tick = excluded.last_tick`,
        [i.subscription, i.toSeq.toString(), i.tick],
      );
    });
  }

  async deliveries(subscription: string): Promise<DeliveryRecord[]> {
    const { rows } = await this.pool.query<{
      delivery_id: string;
      stem: string;
      first_seq: string;
      last_seq: string;
      rows: number;
      manifest_sha256: string;
      parts: DeliveryRecord['parts'];
    }>('select * from sluice_deliveries where subscription = $1 order by id', [subscription]);
    return rows.map((r) => ({
      deliveryId: r.delivery_id,
      subscription,
      stem: r.stem,
      firstSeq: BigInt(r.first_seq),
      lastSeq: BigInt(r.last_seq),
      rows: r.rows,
      manifestSha256: r.manifest_sha256,
      parts: r.parts,
    }));
  }

  async close(): Promise<void> {}
}

import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';
import { SluiceError } from '../../../engine/errors.ts';
import type {
  ClassificationRecord,
  SubscriptionOverride,
  CycleRun,
  CycleState,
  DeliveryIntent,
  IntentKind,
  SecretKind,
  SubscriptionSecret,
  DeliveryRecord,
  LogLeaf,
  AnchorReceipt,
  DeadLetter,
  FeedRange,
  ResourceSchema,
  StateStore,
  SubscriptionCursor,
  SubscriptionStart,
} from '../../../engine/ports/index.ts';
import type { QualityReport } from '../../../engine/quality/index.ts';
import { subscriptionStart } from '../../../engine/delivery/subscription-start.ts';
import { withTransaction } from './transaction.ts';
import { actionLeaves } from '../../../engine/delivery-log/leaf.ts';

type Shape = Omit<ResourceSchema, 'version' | 'resource'>;

const UNIQUE_VIOLATION = '23505';

const kindOf = (i: DeliveryIntent): IntentKind => (i.redeliveryOf ? 'redelivery' : 'cycle');

interface SecretRow {
  kind: SecretKind;
  version: number;
  secret: Buffer;
  recipient: string | null;
  wrapped: unknown;
}

const secretOf = (r: SecretRow): SubscriptionSecret => ({
  kind: r.kind,
  version: r.version,
  key: new Uint8Array(r.secret),
  ...(r.recipient && r.wrapped ? { wrapped: { recipient: r.recipient, key: r.wrapped } } : {}),
});

/** State in Postgres (the embedded cluster by default). Tables come from ./migrations.ts. */
export class PostgresStateStore implements StateStore {
  constructor(private readonly pool: pg.Pool) {}

  async registerSchema(shape: Omit<ResourceSchema, 'version'>): Promise<number> {
    const { resource, ...body } = shape;
    return withTransaction(this.pool, async (c) => {
      await c.query('select pg_advisory_xact_lock(hashtext($1))', [`schema:${resource}`]);
      const { rows } = await c.query<{ version: number; shape: Shape }>(
        'select version, shape from sluice_resource_schemas where resource = $1 order by version desc',
        [resource],
      );
      const normalized = JSON.parse(JSON.stringify(body)) as Shape;
      const known = rows.find((r) => isDeepStrictEqual(r.shape, normalized));
      if (known) return known.version;
      const version = (rows[0]?.version ?? 0) + 1;
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

  async schemas(resource: string): Promise<ResourceSchema[]> {
    const { rows } = await this.pool.query<{ version: number; shape: Shape }>(
      'select version, shape from sluice_resource_schemas where resource = $1 order by version',
      [resource],
    );
    return rows.map((r) => ({ resource, version: r.version, ...r.shape }));
  }

  async subscriptionKey(subscription: string): Promise<Uint8Array> {
    return (await this.secret(subscription, 'hash')).key;
  }

  async secret(subscription: string, kind: SecretKind, version?: number): Promise<SubscriptionSecret> {
    if (version === undefined) {
      await this.pool.query(
        `insert into sluice_subscription_secrets (subscription, kind, version, secret) values ($1, $2, 1, $3)
         on conflict do nothing`,
        [subscription, kind, randomBytes(32)],
      );
    }
    const { rows } = await this.pool.query<SecretRow>(
      `select kind, version, secret, recipient, wrapped from sluice_subscription_secrets
        where subscription = $1 and kind = $2 and ($3::int is null or version = $3) order by version desc limit 1`,
      [subscription, kind, version ?? null],
    );
    if (!rows[0]) {
      throw new SluiceError(
        'STATE_CORRUPT',
        `subscription "${subscription}" has no ${kind} secret version ${version}`,
        {
          details: { subscription, kind, version },
        },
      );
    }
    return secretOf(rows[0]);
  }

  async rotateSecret(subscription: string, kind: SecretKind): Promise<SubscriptionSecret> {
    return withTransaction(this.pool, async (c) => {
      await c.query('select pg_advisory_xact_lock(hashtext($1))', [`secret:${subscription}:${kind}`]);
      const { rows } = await c.query<SecretRow>(
        `insert into sluice_subscription_secrets (subscription, kind, version, secret)
         select $1, $2, coalesce(max(version), 0) + 1, $3 from sluice_subscription_secrets
          where subscription = $1 and kind = $2
         returning kind, version, secret, recipient, wrapped`,
        [subscription, kind, randomBytes(32)],
      );
      const secret = secretOf(rows[0]!);
      const leaf = actionLeaves.rotateKey(subscription, kind, secret.version, new Date().toISOString());
      await appendLeaf(c, { leaf, kind: 'action', subscription });
      return secret;
    });
  }

  async wrapSecret(
    subscription: string,
    version: number,
    recipient: string,
    wrapped: unknown,
  ): Promise<SubscriptionSecret> {
    await this.pool.query(
      `update sluice_subscription_secrets set recipient = $3, wrapped = $4
        where subscription = $1 and kind = 'encrypt' and version = $2 and wrapped is null`,
      [subscription, version, recipient, JSON.stringify(wrapped)],
    );
    return this.secret(subscription, 'encrypt', version);
  }

  async cursor(subscription: string): Promise<SubscriptionCursor> {
    const { rows } = await this.pool.query<{ seq: string; last_tick: string | null }>(
      'select seq, last_tick from sluice_cursors where subscription = $1',
      [subscription],
    );
    return { seq: BigInt(rows[0]?.seq ?? 0), lastTick: rows[0]?.last_tick ?? null };
  }

  async registerSubscription(s: {
    subscription: string;
    resource: string;
    fields: string[];
    head: bigint;
  }): Promise<SubscriptionStart> {
    return withTransaction(this.pool, async (c) => {
      const { rows } = await c.query<{ fields: string[]; backfill: string | null }>(
        'select fields, backfill from sluice_subscriptions where subscription = $1 for update',
        [s.subscription],
      );
      const known = rows[0] ?? null;
      const hasCursor = known
        ? true
        : ((await c.query('select 1 from sluice_cursors where subscription = $1', [s.subscription])).rowCount ?? 0) > 0;
      const start = subscriptionStart(known, hasCursor, s);
      await c.query(
        `insert into sluice_subscriptions (subscription, resource, fields, backfill, started_seq)
         values ($1, $2, $3, $4, $5)
         on conflict (subscription) do update set fields = excluded.fields, backfill = excluded.backfill`,
        [s.subscription, s.resource, JSON.stringify(s.fields), start.backfill, s.head.toString()],
      );
      if (start.created) {
        await c.query(`insert into sluice_cursors (subscription, seq, last_tick) values ($1, $2, null)`, [
          s.subscription,
          s.head.toString(),
        ]);
      }
      return start;
    });
  }

  async requireBackfill(subscription: string, why: string): Promise<void> {
    await this.pool.query('update sluice_subscriptions set backfill = $2 where subscription = $1', [subscription, why]);
  }

  async backfillRequested(subscription: string): Promise<void> {
    await this.pool.query('update sluice_subscriptions set backfill = null where subscription = $1', [subscription]);
  }

  async openIntent(subscription: string, kind: IntentKind = 'cycle'): Promise<DeliveryIntent | null> {
    const { rows } = await this.pool.query<{
      redelivery_of: DeliveryIntent['redeliveryOf'] | null;
      resource: string;
      tick: string;
      window_from: string | null;
      from_seq: string;
      to_seq: string;
      fields: DeliveryIntent['fields'];
      keys: DeliveryIntent['keys'] | null;
    }>(
      `select resource, tick, window_from, from_seq, to_seq, fields, keys, redelivery_of
         from sluice_intents where subscription = $1 and kind = $2`,
      [subscription, kind],
    );
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
      ...(r.keys ? { keys: r.keys } : {}),
      ...(r.redelivery_of ? { redeliveryOf: r.redelivery_of } : {}),
    };
  }

  async beginIntent(i: DeliveryIntent): Promise<void> {
    try {
      await this.pool.query(
        `insert into sluice_intents (subscription, resource, tick, window_from, from_seq, to_seq, fields, keys, kind,
                                     redelivery_of)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          i.subscription,
          i.resource,
          i.tick,
          i.windowFrom,
          i.fromSeq.toString(),
          i.toSeq.toString(),
          JSON.stringify(i.fields),
          i.keys ? JSON.stringify(i.keys) : null,
          kindOf(i),
          i.redeliveryOf ? JSON.stringify(i.redeliveryOf) : null,
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
      const del = await c.query(
        'delete from sluice_intents where subscription = $1 and kind = $2 and tick = $3 and to_seq = $4',
        [i.subscription, kindOf(i), i.tick, i.toSeq.toString()],
      );
      if (del.rowCount !== 1) {
        throw new SluiceError('STATE_CORRUPT', `no open intent for subscription "${i.subscription}" at ${i.tick}`, {
          details: { subscription: i.subscription, tick: i.tick },
        });
      }
      for (const record of records) await insertRecord(c, record);
      if (records.length > 0 && i.fields.length > 0) {
        await c.query(
          `insert into sluice_field_usage (subscription, field, deliveries)
           select $1, f, 1 from unnest($2::text[]) f
           on conflict (subscription, field) do update set deliveries = sluice_field_usage.deliveries + 1`,
          [i.subscription, i.fields.map((f) => f.name)],
        );
      }
      if (i.redeliveryOf) return; // a re-delivery leaves the cursor where it is
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
      redelivery_of: string[] | null;
      log_index: string | null;
      leaf: string | null;
    }>(
      `select d.*, l.leaf from sluice_deliveries d left join sluice_log l on l.idx = d.log_index
        where d.subscription = $1 order by d.id`,
      [subscription],
    );
    return rows.map((r) => ({
      deliveryId: r.delivery_id,
      subscription,
      stem: r.stem,
      firstSeq: BigInt(r.first_seq),
      lastSeq: BigInt(r.last_seq),
      rows: r.rows,
      manifestSha256: r.manifest_sha256,
      parts: r.parts,
      ...(r.redelivery_of ? { redeliveryOf: r.redelivery_of } : {}),
      leaf: r.leaf ?? '', // deliveries recorded before the delivery log existed have no leaf
      ...(r.log_index !== null ? { logIndex: BigInt(r.log_index) } : {}),
    }));
  }

  async appendLogLeaf(l: { leaf: string; subscription?: string }): Promise<bigint> {
    return withTransaction(this.pool, (c) =>
      appendLeaf(c, {
        leaf: l.leaf,
        kind: 'action',
        ...(l.subscription !== undefined ? { subscription: l.subscription } : {}),
      }),
    );
  }

  async logSize(): Promise<bigint> {
    const { rows } = await this.pool.query<{ n: string }>(
      'select coalesce(max(idx) + 1, 0)::text as n from sluice_log',
    );
    return BigInt(rows[0]!.n);
  }

  async logLeaves(from: bigint, to: bigint): Promise<LogLeaf[]> {
    const { rows } = await this.pool.query<{
      idx: string;
      leaf: string;
      kind: LogLeaf['kind'];
      subscription: string | null;
      delivery_id: string | null;
      appended_at: Date;
    }>('select * from sluice_log where idx >= $1 and idx < $2 order by idx', [from.toString(), to.toString()]);
    return rows.map((r) => ({
      index: BigInt(r.idx),
      leaf: r.leaf,
      kind: r.kind,
      ...(r.subscription !== null ? { subscription: r.subscription } : {}),
      ...(r.delivery_id !== null ? { deliveryId: r.delivery_id } : {}),
      at: r.appended_at.toISOString(),
    }));
  }

  async recordCheckpoint(c: AnchorReceipt & { at: string }): Promise<void> {
    const { rows } = await this.pool.query<{ root: string }>(
      `with ins as (
         insert into sluice_checkpoints (size, root, chain_id, contract, tx_hash, block_number, anchored_at)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (size) do nothing returning root)
       select root from ins union all select root from sluice_checkpoints where size = $1`,
      [c.size, c.root, c.chainId, c.contract, c.txHash, c.blockNumber, c.at],
    );
    if (rows.some((r) => r.root !== c.root)) {
      throw new SluiceError('STATE_CORRUPT', `checkpoint ${c.size} is recorded with another root`, {
        details: { size: c.size },
      });
    }
  }

  async checkpoints(): Promise<(AnchorReceipt & { at: string })[]> {
    const { rows } = await this.pool.query<{
      size: string;
      root: string;
      chain_id: string;
      contract: string;
      tx_hash: string;
      block_number: string;
      anchored_at: string;
    }>('select * from sluice_checkpoints order by size');
    return rows.map((r) => ({
      size: Number(r.size),
      root: r.root,
      chainId: Number(r.chain_id),
      contract: r.contract,
      txHash: r.tx_hash,
      blockNumber: Number(r.block_number),
      at: r.anchored_at,
    }));
  }

  async deliveryCount(subscription: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      'select count(*) as n from sluice_deliveries where subscription = $1',
      [subscription],
    );
    return Number(rows[0]!.n);
  }

  async completeFeedRange(r: FeedRange): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      const { rows } = await c.query<{ seq: string }>(
        'select seq from sluice_cursors where subscription = $1 for update',
        [r.subscription],
      );
      const at = BigInt(rows[0]?.seq ?? 0);
      if (r.toSeq < at) {
        throw new SluiceError(
          'STATE_CORRUPT',
          `feed range of "${r.subscription}" ends at ${r.toSeq}, before its cursor ${at}`,
          { details: { subscription: r.subscription } },
        );
      }
      if (r.record) await insertRecord(c, r.record);
      if (r.parked.length > 0) {
        await c.query(
          `insert into sluice_dead_letters (subscription, seq, event_id, key, body, state, attempts, error, parked_at)
           select $1, x.seq, x.id, x.key, x.body, x.state, x.attempts, x.error, x.parked_at
             from jsonb_to_recordset($2::jsonb)
                  as x(seq bigint, id text, key text, body text, state text, attempts int, error text, parked_at text)`,
          [
            r.subscription,
            JSON.stringify(
              r.parked.map((d) => ({
                seq: d.seq.toString(),
                id: d.id,
                key: d.key,
                body: d.body,
                state: d.state,
                attempts: d.attempts,
                error: d.error ?? null,
                parked_at: d.parkedAt,
              })),
            ),
          ],
        );
      }
      await c.query(
        `insert into sluice_cursors (subscription, seq, last_tick) values ($1, $2, $3)
         on conflict (subscription) do update set seq = excluded.seq, last_tick = excluded.last_tick`,
        [r.subscription, r.toSeq.toString(), r.at],
      );
    });
  }

  async deadLetters(subscription: string): Promise<DeadLetter[]> {
    const { rows } = await this.pool.query<{
      seq: string;
      event_id: string;
      key: string;
      body: string;
      state: DeadLetter['state'];
      attempts: number;
      error: string | null;
      parked_at: string;
    }>('select * from sluice_dead_letters where subscription = $1 order by seq', [subscription]);
    return rows.map((r) => ({
      subscription,
      seq: BigInt(r.seq),
      id: r.event_id,
      key: r.key,
      body: r.body,
      state: r.state,
      attempts: r.attempts,
      ...(r.error !== null ? { error: r.error } : {}),
      parkedAt: r.parked_at,
    }));
  }

  async removeDeadLetters(subscription: string, seqs: bigint[]): Promise<number> {
    const { rowCount } = await this.pool.query(
      'delete from sluice_dead_letters where subscription = $1 and seq = any($2::bigint[])',
      [subscription, seqs.map(String)],
    );
    return rowCount ?? 0;
  }

  async markDeadLetters(
    subscription: string,
    seqs: bigint[],
    change: { state: DeadLetter['state']; attempts: number; error?: string },
  ): Promise<void> {
    await this.pool.query(
      `update sluice_dead_letters set state = $3, attempts = attempts + $4, error = coalesce($5, error)
        where subscription = $1 and seq = any($2::bigint[])`,
      [subscription, seqs.map(String), change.state, change.attempts, change.error ?? null],
    );
  }

  async fieldUsage(subscription: string): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ field: string; deliveries: string }>(
      'select field, deliveries from sluice_field_usage where subscription = $1',
      [subscription],
    );
    return new Map(rows.map((r) => [r.field, Number(r.deliveries)]));
  }

  async classifications(): Promise<ClassificationRecord[]> {
    const { rows } = await this.pool.query<{
      resource: string;
      column: string;
      classification: Pick<ClassificationRecord, 'level' | 'tag' | 'share'>;
      classified_by: string | null;
      at: string;
    }>(
      `select resource, "column", classification, classified_by,
              to_char(classified_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
         from sluice_classifications order by resource, "column"`,
    );
    return rows.map((r) => ({
      resource: r.resource,
      column: r.column,
      level: r.classification.level,
      ...(r.classification.tag ? { tag: r.classification.tag } : {}),
      share: r.classification.share,
      ...(r.classified_by ? { by: r.classified_by } : {}),
      at: r.at,
    }));
  }

  async setClassification(c: ClassificationRecord): Promise<void> {
    const body = { level: c.level, ...(c.tag ? { tag: c.tag } : {}), share: c.share };
    await withTransaction(this.pool, async (tx) => {
      await tx.query(
        `insert into sluice_classifications (resource, "column", classification, classified_by, classified_at)
         values ($1, $2, $3, $4, $5)
         on conflict (resource, "column") do update
           set classification = excluded.classification, classified_by = excluded.classified_by,
               classified_at = excluded.classified_at`,
        [c.resource, c.column, JSON.stringify(body), c.by ?? null, c.at],
      );
      await appendLeaf(tx, { leaf: actionLeaves.classify(c), kind: 'action' });
    });
  }

  async clearClassification(resource: string, column: string): Promise<boolean> {
    return withTransaction(this.pool, async (c) => {
      const r = await c.query('delete from sluice_classifications where resource = $1 and "column" = $2', [
        resource,
        column,
      ]);
      if (r.rowCount !== 1) return false;
      const leaf = actionLeaves.declassify(resource, column, new Date().toISOString());
      await appendLeaf(c, { leaf, kind: 'action' });
      return true;
    });
  }

  async subscriptionOverrides(): Promise<SubscriptionOverride[]> {
    const { rows } = await this.pool.query<{
      subscription: string;
      setting: SubscriptionOverride['setting'];
      value: SubscriptionOverride['value'];
      set_by: string | null;
      at: string;
    }>(
      `select subscription, setting, value, set_by,
              to_char(set_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
         from sluice_subscription_overrides order by subscription, setting`,
    );
    // (a setting and its value are stored together, so each row is one member of the union)
    return rows.map(
      (r) =>
        ({
          subscription: r.subscription,
          setting: r.setting,
          value: r.value,
          ...(r.set_by ? { by: r.set_by } : {}),
          at: r.at,
        }) as SubscriptionOverride,
    );
  }

  async setSubscriptionOverride(o: SubscriptionOverride): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await c.query(
        `insert into sluice_subscription_overrides (subscription, setting, value, set_by, set_at)
         values ($1, $2, $3, $4, $5)
         on conflict (subscription, setting) do update
           set value = excluded.value, set_by = excluded.set_by, set_at = excluded.set_at`,
        [o.subscription, o.setting, JSON.stringify(o.value), o.by ?? null, o.at],
      );
      await appendLeaf(c, { leaf: actionLeaves.override(o), kind: 'action', subscription: o.subscription });
    });
  }

  async recordCycleRun(subscription: string, run: CycleRun): Promise<void> {
    await this.pool.query(
      `insert into sluice_cycle_state (subscription, last_run) values ($1, $2)
       on conflict (subscription) do update set last_run = excluded.last_run`,
      [subscription, JSON.stringify(run)],
    );
  }

  async setNextDue(subscription: string, at: string | null): Promise<void> {
    await this.pool.query(
      `insert into sluice_cycle_state (subscription, next_due) values ($1, $2)
       on conflict (subscription) do update set next_due = excluded.next_due`,
      [subscription, at],
    );
  }

  async cycleStates(): Promise<CycleState[]> {
    const { rows } = await this.pool.query<{
      subscription: string;
      last_run: CycleRun | null;
      next_due: string | null;
    }>('select subscription, last_run, next_due from sluice_cycle_state order by subscription');
    return rows.map((r) => ({ subscription: r.subscription, last: r.last_run, nextDue: r.next_due }));
  }

  async clearSubscriptionOverride(subscription: string, setting: SubscriptionOverride['setting']): Promise<boolean> {
    return withTransaction(this.pool, async (c) => {
      const r = await c.query('delete from sluice_subscription_overrides where subscription = $1 and setting = $2', [
        subscription,
        setting,
      ]);
      if (r.rowCount !== 1) return false;
      const leaf = actionLeaves.clearOverride(subscription, setting, new Date().toISOString());
      await appendLeaf(c, { leaf, kind: 'action', subscription });
      return true;
    });
  }

  async saveQualityReport(r: QualityReport): Promise<void> {
    await this.pool.query(
      `insert into sluice_quality_reports (resource, source, report) values ($1, $2, $3)
       on conflict (resource, source) do update set report = excluded.report`,
      [r.resource, r.source, JSON.stringify(r)],
    );
  }

  async qualityReports(resource: string): Promise<QualityReport[]> {
    const { rows } = await this.pool.query<{ report: QualityReport }>(
      'select report from sluice_quality_reports where resource = $1 order by source',
      [resource],
    );
    return rows.map((r) => r.report);
  }

  async close(): Promise<void> {}
}

async function insertRecord(c: pg.PoolClient, record: DeliveryRecord): Promise<void> {
  const index = await appendLeaf(c, {
    leaf: record.leaf,
    kind: 'delivery',
    subscription: record.subscription,
    deliveryId: record.deliveryId,
  });
  await c.query(
    `insert into sluice_deliveries (delivery_id, subscription, stem, first_seq, last_seq, rows, manifest_sha256, parts,
                                   redelivery_of, log_index)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      record.deliveryId,
      record.subscription,
      record.stem,
      record.firstSeq.toString(),
      record.lastSeq.toString(),
      record.rows,
      record.manifestSha256,
      JSON.stringify(record.parts),
      record.redeliveryOf ? JSON.stringify(record.redeliveryOf) : null,
      index.toString(),
    ],
  );
}

/** The delivery log's lock: appends are serialized, so indexes are dense and in commit order. */
const LOG_LOCK = 7_305_013;

/** Appends one leaf in the caller's transaction; returns its index. */
async function appendLeaf(
  c: pg.PoolClient,
  l: { leaf: string; kind: 'delivery' | 'action'; subscription?: string; deliveryId?: string },
): Promise<bigint> {
  await c.query('select pg_advisory_xact_lock($1)', [LOG_LOCK]);
  const { rows } = await c.query<{ idx: string }>(
    `insert into sluice_log (idx, leaf, kind, subscription, delivery_id)
     select coalesce(max(idx) + 1, 0), $1, $2, $3, $4 from sluice_log
     returning idx::text`,
    [l.leaf, l.kind, l.subscription ?? null, l.deliveryId ?? null],
  );
  return BigInt(rows[0]!.idx);
}

import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { SluiceError } from '../errors.ts';
import { subscriptionStart } from '../delivery/subscription-start.ts';
import { actionLeaves } from '../delivery-log/leaf.ts';
import type { QualityReport } from '../quality/index.ts';
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
} from '../ports/index.ts';

type Shape = Omit<ResourceSchema, 'version' | 'resource'>;

const copySecret = (s: SubscriptionSecret): SubscriptionSecret => ({
  ...s,
  key: new Uint8Array(s.key),
  ...(s.wrapped ? { wrapped: json(s.wrapped) } : {}),
});

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** JSON round trip: what a jsonb column gives back (undefined properties dropped, key order irrelevant). */
function json<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * In-memory {@link StateStore} with the Postgres adapter's semantics: schema versions bump only when the shape
 * differs from the latest one, one 32-byte random HMAC key per subscription kept forever, at most one open intent
 * of each kind per subscription, and `completeIntent` atomic (a failure — no matching open intent, a duplicate delivery id —
 * changes nothing). Returned values are copies.
 */
export class MemoryStateStore implements StateStore {
  private readonly shapes = new Map<string, Shape[]>();
  private readonly secrets = new Map<string, SubscriptionSecret[]>();
  private readonly cursors = new Map<string, SubscriptionCursor>();
  private readonly intents = new Map<string, DeliveryIntent>();
  private readonly records: DeliveryRecord[] = [];
  private readonly log: LogLeaf[] = [];
  private readonly anchored = new Map<number, AnchorReceipt & { at: string }>();
  private readonly usage = new Map<string, Map<string, number>>();
  private readonly classified = new Map<string, ClassificationRecord>();
  private readonly overrides = new Map<string, SubscriptionOverride>();
  private readonly cycles = new Map<string, CycleState>();
  private readonly quality = new Map<string, QualityReport>();
  private readonly subscriptions = new Map<string, { fields: string[]; backfill: string | null }>();
  private readonly dead = new Map<string, DeadLetter[]>();

  async registerSchema(shape: Omit<ResourceSchema, 'version'>): Promise<number> {
    const { resource, ...body } = shape;
    const versions = this.shapes.get(resource) ?? [];
    const normalized = json(body);
    const known = versions.findIndex((v) => isDeepStrictEqual(v, normalized));
    if (known >= 0) return known + 1;
    versions.push(normalized);
    this.shapes.set(resource, versions);
    return versions.length;
  }

  async schema(resource: string, version: number): Promise<ResourceSchema> {
    const shape = Number.isInteger(version) && version >= 1 ? this.shapes.get(resource)?.[version - 1] : undefined;
    if (!shape) {
      throw new SluiceError('STATE_CORRUPT', `no schema version ${version} recorded for resource "${resource}"`, {
        details: { resource, version },
      });
    }
    return { resource, version, ...json(shape) };
  }

  async schemas(resource: string): Promise<ResourceSchema[]> {
    return (this.shapes.get(resource) ?? []).map((shape, i) => ({ resource, version: i + 1, ...json(shape) }));
  }

  async subscriptionKey(subscription: string): Promise<Uint8Array> {
    return (await this.secret(subscription, 'hash')).key;
  }

  async secret(subscription: string, kind: SecretKind, version?: number): Promise<SubscriptionSecret> {
    const id = `${kind}\u0000${subscription}`;
    let versions = this.secrets.get(id);
    if (!versions && version === undefined) {
      this.secrets.set(id, (versions = [{ kind, version: 1, key: new Uint8Array(randomBytes(32)) }]));
    }
    const s = version === undefined ? versions?.at(-1) : versions?.[version - 1];
    if (!s) {
      throw new SluiceError(
        'STATE_CORRUPT',
        `subscription "${subscription}" has no ${kind} secret version ${version}`,
        {
          details: { subscription, kind, version },
        },
      );
    }
    return copySecret(s);
  }

  async rotateSecret(subscription: string, kind: SecretKind): Promise<SubscriptionSecret> {
    const id = `${kind}\u0000${subscription}`;
    const versions = this.secrets.get(id) ?? [];
    versions.push({ kind, version: versions.length + 1, key: new Uint8Array(randomBytes(32)) });
    this.secrets.set(id, versions);
    await this.appendLogLeaf({
      leaf: actionLeaves.rotateKey(subscription, kind, versions.length, new Date().toISOString()),
      subscription,
    });
    return copySecret(versions.at(-1)!);
  }

  async wrapSecret(
    subscription: string,
    version: number,
    recipient: string,
    wrapped: unknown,
  ): Promise<SubscriptionSecret> {
    const s = this.secrets.get(`encrypt\u0000${subscription}`)?.[version - 1];
    if (s && !s.wrapped) s.wrapped = { recipient, key: json(wrapped) };
    return this.secret(subscription, 'encrypt', version);
  }

  async cursor(subscription: string): Promise<SubscriptionCursor> {
    const c = this.cursors.get(subscription);
    return c ? { ...c } : { seq: 0n, lastTick: null };
  }

  async registerSubscription(s: {
    subscription: string;
    resource: string;
    fields: string[];
    head: bigint;
  }): Promise<SubscriptionStart> {
    const known = this.subscriptions.get(s.subscription) ?? null;
    const start = subscriptionStart(known, known !== null || this.cursors.has(s.subscription), s);
    this.subscriptions.set(s.subscription, { fields: [...s.fields], backfill: start.backfill });
    if (start.created) this.cursors.set(s.subscription, { seq: s.head, lastTick: null });
    return start;
  }

  async requireBackfill(subscription: string, why: string): Promise<void> {
    const known = this.subscriptions.get(subscription);
    if (known) known.backfill = why;
  }

  async backfillRequested(subscription: string): Promise<void> {
    const known = this.subscriptions.get(subscription);
    if (known) known.backfill = null;
  }

  async openIntent(subscription: string, kind: IntentKind = 'cycle'): Promise<DeliveryIntent | null> {
    const i = this.intents.get(intentKey(subscription, kind));
    return i ? structuredClone(i) : null;
  }

  async beginIntent(intent: DeliveryIntent): Promise<void> {
    const k = intentKey(intent.subscription, kindOf(intent));
    if (this.intents.has(k)) {
      throw new SluiceError('STATE_CORRUPT', `subscription "${intent.subscription}" already has an open intent`, {
        details: { subscription: intent.subscription, tick: intent.tick },
      });
    }
    this.intents.set(k, structuredClone(intent));
  }

  async completeIntent(intent: DeliveryIntent, records: DeliveryRecord[]): Promise<void> {
    const k = intentKey(intent.subscription, kindOf(intent));
    const open = this.intents.get(k);
    if (!open || open.tick !== intent.tick || open.toSeq !== intent.toSeq) {
      throw new SluiceError(
        'STATE_CORRUPT',
        `no open intent for subscription "${intent.subscription}" at ${intent.tick}`,
        {
          details: { subscription: intent.subscription, tick: intent.tick },
        },
      );
    }
    const ids = new Set(this.records.map((r) => r.deliveryId));
    for (const r of records) {
      if (ids.has(r.deliveryId)) {
        throw new SluiceError('STATE_CORRUPT', `delivery "${r.deliveryId}" is already recorded`, {
          details: { deliveryId: r.deliveryId },
        });
      }
      ids.add(r.deliveryId);
    }
    this.intents.delete(k);
    for (const r of records) this.records.push(this.logged(r));
    if (records.length > 0) {
      const u = this.usage.get(intent.subscription) ?? new Map<string, number>();
      for (const f of new Set(intent.fields.map((x) => x.name))) u.set(f, (u.get(f) ?? 0) + 1);
      this.usage.set(intent.subscription, u);
    }
    if (!intent.redeliveryOf) this.cursors.set(intent.subscription, { seq: intent.toSeq, lastTick: intent.tick });
  }

  async deliveries(subscription: string): Promise<DeliveryRecord[]> {
    return this.records.filter((r) => r.subscription === subscription).map(copyRecord);
  }

  async deliveryCount(subscription: string): Promise<number> {
    return this.records.filter((r) => r.subscription === subscription).length;
  }

  async completeFeedRange(r: FeedRange): Promise<void> {
    const at = this.cursors.get(r.subscription)?.seq ?? 0n;
    if (r.toSeq < at) {
      throw new SluiceError(
        'STATE_CORRUPT',
        `feed range of "${r.subscription}" ends at ${r.toSeq}, before its cursor ${at}`,
        {
          details: { subscription: r.subscription },
        },
      );
    }
    const parked = this.dead.get(r.subscription) ?? [];
    if (r.record && this.records.some((x) => x.deliveryId === r.record!.deliveryId)) {
      throw new SluiceError('STATE_CORRUPT', `delivery "${r.record.deliveryId}" is already recorded`, {
        details: { deliveryId: r.record.deliveryId },
      });
    }
    if (r.parked.some((d) => parked.some((p) => p.seq === d.seq))) {
      throw new SluiceError('STATE_CORRUPT', `an event of "${r.subscription}" is parked twice`, {
        details: { subscription: r.subscription },
      });
    }
    if (r.record) this.records.push(this.logged(r.record));
    this.dead.set(
      r.subscription,
      [...parked, ...r.parked.map((d) => ({ ...d }))].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0)),
    );
    this.cursors.set(r.subscription, { seq: r.toSeq, lastTick: r.at });
  }

  /** A record with its leaf appended to the log (in the same step as the record: atomic here). */
  private logged(r: DeliveryRecord): DeliveryRecord {
    const index = BigInt(this.log.length);
    this.log.push({
      index,
      leaf: r.leaf,
      kind: 'delivery',
      subscription: r.subscription,
      deliveryId: r.deliveryId,
      at: new Date().toISOString(),
    });
    return { ...copyRecord(r), logIndex: index };
  }

  async appendLogLeaf(l: { leaf: string; subscription?: string }): Promise<bigint> {
    const index = BigInt(this.log.length);
    this.log.push({
      index,
      leaf: l.leaf,
      kind: 'action',
      ...(l.subscription !== undefined ? { subscription: l.subscription } : {}),
      at: new Date().toISOString(),
    });
    return index;
  }

  async recordCheckpoint(c: AnchorReceipt & { at: string }): Promise<void> {
    const known = this.anchored.get(c.size);
    if (known && known.root !== c.root) {
      throw new SluiceError('STATE_CORRUPT', `checkpoint ${c.size} is recorded with another root`);
    }
    if (!known) this.anchored.set(c.size, { ...c });
  }

  async checkpoints(): Promise<(AnchorReceipt & { at: string })[]> {
    return [...this.anchored.values()].sort((a, b) => a.size - b.size).map((c) => ({ ...c }));
  }

  async logSize(): Promise<bigint> {
    return BigInt(this.log.length);
  }

  async logLeaves(from: bigint, to: bigint): Promise<LogLeaf[]> {
    return this.log.slice(Number(from), Number(to)).map((l) => ({ ...l }));
  }

  async deadLetters(subscription: string): Promise<DeadLetter[]> {
    return (this.dead.get(subscription) ?? []).map((d) => ({ ...d }));
  }

  async removeDeadLetters(subscription: string, seqs: bigint[]): Promise<number> {
    const all = this.dead.get(subscription) ?? [];
    const gone = new Set(seqs);
    const kept = all.filter((d) => !gone.has(d.seq));
    this.dead.set(subscription, kept);
    return all.length - kept.length;
  }

  async markDeadLetters(
    subscription: string,
    seqs: bigint[],
    change: { state: DeadLetter['state']; attempts: number; error?: string },
  ): Promise<void> {
    const which = new Set(seqs);
    for (const d of this.dead.get(subscription) ?? []) {
      if (!which.has(d.seq)) continue;
      d.state = change.state;
      d.attempts += change.attempts;
      if (change.error !== undefined) d.error = change.error;
    }
  }

  async fieldUsage(subscription: string): Promise<Map<string, number>> {
    return new Map(this.usage.get(subscription) ?? []);
  }

  async classifications(): Promise<ClassificationRecord[]> {
    return [...this.classified.values()]
      .map((c) => ({ ...c }))
      .sort((a, b) => (a.resource === b.resource ? cmp(a.column, b.column) : cmp(a.resource, b.resource)));
  }

  async setClassification(c: ClassificationRecord): Promise<void> {
    this.classified.set(JSON.stringify([c.resource, c.column]), json(c));
    await this.appendLogLeaf({ leaf: actionLeaves.classify(c) });
  }

  async clearClassification(resource: string, column: string): Promise<boolean> {
    if (!this.classified.delete(JSON.stringify([resource, column]))) return false;
    await this.appendLogLeaf({ leaf: actionLeaves.declassify(resource, column, new Date().toISOString()) });
    return true;
  }

  async subscriptionOverrides(): Promise<SubscriptionOverride[]> {
    return [...this.overrides.values()]
      .map((o) => json(o))
      .sort((a, b) =>
        a.subscription === b.subscription ? cmp(a.setting, b.setting) : cmp(a.subscription, b.subscription),
      );
  }

  async setSubscriptionOverride(o: SubscriptionOverride): Promise<void> {
    this.overrides.set(JSON.stringify([o.subscription, o.setting]), json(o));
    await this.appendLogLeaf({ leaf: actionLeaves.override(o), subscription: o.subscription });
  }

  async clearSubscriptionOverride(subscription: string, setting: SubscriptionOverride['setting']): Promise<boolean> {
    if (!this.overrides.delete(JSON.stringify([subscription, setting]))) return false;
    const leaf = actionLeaves.clearOverride(subscription, setting, new Date().toISOString());
    await this.appendLogLeaf({ leaf, subscription });
    return true;
  }

  async recordCycleRun(subscription: string, run: CycleRun): Promise<void> {
    this.cycleOf(subscription).last = json(run);
  }

  async setNextDue(subscription: string, at: string | null): Promise<void> {
    this.cycleOf(subscription).nextDue = at;
  }

  async cycleStates(): Promise<CycleState[]> {
    return [...this.cycles.values()].map((c) => json(c)).sort((a, b) => cmp(a.subscription, b.subscription));
  }

  private cycleOf(subscription: string): CycleState {
    let c = this.cycles.get(subscription);
    if (!c) this.cycles.set(subscription, (c = { subscription, last: null, nextDue: null }));
    return c;
  }

  async saveQualityReport(r: QualityReport): Promise<void> {
    this.quality.set(JSON.stringify([r.resource, r.source]), json(r));
  }

  async qualityReports(resource: string): Promise<QualityReport[]> {
    return [...this.quality.values()]
      .filter((r) => r.resource === resource)
      .sort((a, b) => cmp(a.source, b.source))
      .map((r) => json(r));
  }

  async close(): Promise<void> {}
}

const copyRecord = (r: DeliveryRecord): DeliveryRecord => ({
  ...r,
  parts: json(r.parts),
  ...(r.redeliveryOf ? { redeliveryOf: [...r.redeliveryOf] } : {}),
});
const kindOf = (i: DeliveryIntent): IntentKind => (i.redeliveryOf ? 'redelivery' : 'cycle');
const intentKey = (subscription: string, kind: IntentKind) => JSON.stringify([subscription, kind]);

import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { SluiceError } from '../errors.ts';
import type { DeliveryIntent, DeliveryRecord, ResourceSchema, StateStore, SubscriptionCursor } from '../ports/index.ts';

type Shape = Omit<ResourceSchema, 'version' | 'resource'>;

/** JSON round trip: what a jsonb column gives back (undefined properties dropped, key order irrelevant). */
function json<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * In-memory {@link StateStore} with the Postgres adapter's semantics: schema versions bump only when the shape
 * differs from the latest one, one 32-byte random HMAC key per subscription kept forever, at most one open intent
 * per subscription, and `completeIntent` atomic (a failure — no matching open intent, a duplicate delivery id —
 * changes nothing). Returned values are copies.
 */
export class MemoryStateStore implements StateStore {
  private readonly schemas = new Map<string, Shape[]>();
  private readonly keys = new Map<string, Uint8Array>();
  private readonly cursors = new Map<string, SubscriptionCursor>();
  private readonly intents = new Map<string, DeliveryIntent>();
  private readonly records: DeliveryRecord[] = [];

  async registerSchema(shape: Omit<ResourceSchema, 'version'>): Promise<number> {
    const { resource, ...body } = shape;
    const versions = this.schemas.get(resource) ?? [];
    const last = versions.at(-1);
    const normalized = json(body);
    if (last && isDeepStrictEqual(last, normalized)) return versions.length;
    versions.push(normalized);
    this.schemas.set(resource, versions);
    return versions.length;
  }

  async schema(resource: string, version: number): Promise<ResourceSchema> {
    const shape = Number.isInteger(version) && version >= 1 ? this.schemas.get(resource)?.[version - 1] : undefined;
    if (!shape) {
      throw new SluiceError('STATE_CORRUPT', `no schema version ${version} recorded for resource "${resource}"`, {
        details: { resource, version },
      });
    }
    return { resource, version, ...json(shape) };
  }

  async subscriptionKey(subscription: string): Promise<Uint8Array> {
    let key = this.keys.get(subscription);
    if (!key) this.keys.set(subscription, (key = new Uint8Array(randomBytes(32))));
    return new Uint8Array(key);
  }

  async cursor(subscription: string): Promise<SubscriptionCursor> {
    const c = this.cursors.get(subscription);
    return c ? { ...c } : { seq: 0n, lastTick: null };
  }

  async openIntent(subscription: string): Promise<DeliveryIntent | null> {
    const i = this.intents.get(subscription);
    return i ? structuredClone(i) : null;
  }

  async beginIntent(intent: DeliveryIntent): Promise<void> {
    if (this.intents.has(intent.subscription)) {
      throw new SluiceError('STATE_CORRUPT', `subscription "${intent.subscription}" already has an open intent`, {
        details: { subscription: intent.subscription, tick: intent.tick },
      });
    }
    this.intents.set(intent.subscription, structuredClone(intent));
  }

  async completeIntent(intent: DeliveryIntent, records: DeliveryRecord[]): Promise<void> {
    const open = this.intents.get(intent.subscription);
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
    this.intents.delete(intent.subscription);
    for (const r of records) this.records.push({ ...r, parts: json(r.parts) });
    this.cursors.set(intent.subscription, { seq: intent.toSeq, lastTick: intent.tick });
  }

  async deliveries(subscription: string): Promise<DeliveryRecord[]> {
    return this.records.filter((r) => r.subscription === subscription).map((r) => ({ ...r, parts: json(r.parts) }));
  }

  async close(): Promise<void> {}
}

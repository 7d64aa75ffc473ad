import type { ChangeEvent } from '../../schemas/index.ts';
import type { BatchSubscription } from '../delivery/cycle-types.ts';
import { compileFieldMasks } from '../delivery/field-masks.ts';
import type { StateStore } from '../ports/index.ts';
import type { GrantedField } from '../rules/grant.ts';
import { feedEvent, type FeedEvent, type FeedShape } from './feed-event.ts';

/** A feed subscription as its loop runs it (compiled from config by ops/, like a batch subscription). */
export interface FeedSubscription extends Pick<
  BatchSubscription,
  'id' | 'subscriber' | 'resource' | 'provider' | 'fields' | 'grant' | 'masking' | 'rowRules'
> {
  /** Events read from the bus per range, at most: what the loop holds in memory. */
  maxInFlight: number;
  /** Wait this long for more events before sending less than a full send (webhook `linger`); 0: never. */
  lingerMs: number;
}

/** One event ready for a transport: its id, its subject (ordering key), its CloudEvents JSON. */
export interface EncodedEvent {
  id: string;
  subject?: string;
  body: string;
}

/**
 * A subscription's feed events, with the shape (masks, filter, quality policy) compiled once per schema version,
 * grant and key version — per range the cache is checked, not rebuilt.
 */
export class FeedShapes {
  private readonly cache = new Map<string, FeedShape>();
  private hash: { version: number; key: Uint8Array } | null = null;
  private checkedAt = 0;

  constructor(
    private readonly sub: FeedSubscription,
    private readonly state: StateStore,
    private readonly encode: (e: FeedEvent) => string,
  ) {}

  /** Called at each range: a rotated hash key applies from the next range on, within KEY_TTL_MS (or `expire`). */
  async refresh(): Promise<void> {
    if (this.hash && Date.now() - this.checkedAt < KEY_TTL_MS) return;
    const s = await this.state.secret(this.sub.id, 'hash');
    this.checkedAt = Date.now();
    if (this.hash?.version !== s.version) {
      this.hash = { version: s.version, key: s.key };
      this.cache.clear();
    }
  }

  /** The next `refresh` reads the key again. */
  expire(): void {
    this.checkedAt = 0;
  }

  /** The event for `e` under the grant's fields, or null when the filter or the quality policy leaves it out. */
  async event(fields: readonly GrantedField[], e: ChangeEvent): Promise<EncodedEvent | null> {
    if (!this.hash) await this.refresh();
    const k = `${e.schemaVersion}\u0000${JSON.stringify(fields)}`;
    let shape = this.cache.get(k);
    if (!shape) {
      shape = await this.compile(fields, e.schemaVersion);
      this.cache.set(k, shape);
    }
    const ev = feedEvent(shape, e);
    if (!ev) return null;
    return { id: ev.id, ...(ev.subject !== undefined ? { subject: ev.subject } : {}), body: this.encode(ev) };
  }

  private async compile(fields: readonly GrantedField[], version: number): Promise<FeedShape> {
    const schema = await this.state.schema(this.sub.resource, version);
    const keys = { hash: this.hash!.key };
    // a field this schema version lacks (dropped from the table) is left out of its events, as in a file
    const present = fields.filter((f) => schema.columns.some((c) => c.name === f.name));
    const masks = compileFieldMasks(present, keys, { ...this.sub.masking, columns: schema.columns });
    const keyMasks = new Map(
      schema.key.map((k) => [
        k,
        compileFieldMasks([{ name: k, level: 'general', strategy: 'hash' }], keys, { columns: schema.columns })[0]!,
      ]),
    );
    return {
      subscription: this.sub.id,
      provider: this.sub.provider,
      resource: this.sub.resource,
      key: schema.key,
      columns: schema.columns,
      masks,
      keyMask: (column) => keyMasks.get(column)!,
      ...(this.sub.rowRules ? { rules: this.sub.rowRules(schema) } : {}),
    };
  }
}

/** How long the subscription's hash key is used before the state store is asked again (key rotation). */
const KEY_TTL_MS = 1000;

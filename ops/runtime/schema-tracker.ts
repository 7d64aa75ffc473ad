import { shapeChange, type ShapeChange } from '../../engine/catalog/index.ts';
import type { ResourceSchema, ResourceShape, StateStore } from '../../engine/ports/index.ts';
import type { SchemaHistory } from '../api/schema-routes.ts';

interface Current {
  shape: Pick<ResourceSchema, 'columns' | 'key'>;
  version: number;
}

/**
 * The engine's view of its resources' schemas: records each shape a source reports as a schema version, remembers the
 * one each stream reported last and every column a resource's stream ever carried — so that a configured column the
 * table no longer has is known as dropped (subscriptions go on without it) rather than mistyped.
 */
export class SchemaTracker {
  private readonly current = new Map<string, Current>();
  private readonly seen = new Map<string, Set<string>>();

  private constructor(
    private readonly state: StateStore,
    private readonly onChange: (resource: string, change: ShapeChange, version: number) => void,
  ) {}

  /** Loaded from the recorded versions (the newest counts as current until a stream reports one). */
  static async load(
    state: StateStore,
    resources: readonly string[],
    onChange: (resource: string, change: ShapeChange, version: number) => void,
  ): Promise<SchemaTracker> {
    const t = new SchemaTracker(state, onChange);
    for (const r of resources) {
      const versions = await state.schemas(r);
      t.seen.set(r, new Set(versions.flatMap((s) => s.columns.map((c) => c.name))));
      const last = versions.at(-1);
      if (last) t.current.set(r, { shape: last, version: last.version });
    }
    return t;
  }

  /** Every column the resource's stream carried so far. */
  streamed(resource: string): ReadonlySet<string> | undefined {
    return this.seen.get(resource);
  }

  version(resource: string): number | null {
    return this.current.get(resource)?.version ?? null;
  }

  /** Records a reported shape; returns its schema version (a shape recorded before keeps its own). */
  async register(shape: ResourceShape): Promise<number> {
    const { layout: _, ...body } = shape;
    const version = await this.state.registerSchema(body);
    const before = this.current.get(shape.resource);
    this.current.set(shape.resource, { shape, version });
    const seen = this.seen.get(shape.resource) ?? new Set<string>();
    for (const c of shape.columns) seen.add(c.name);
    this.seen.set(shape.resource, seen);
    if (before && before.version !== version) this.onChange(shape.resource, shapeChange(before.shape, shape), version);
    return version;
  }

  /** Of `fields`, those the resource's stream carried once and no longer does (dropped from the table). */
  dropped(resource: string, fields: readonly string[]): string[] {
    const cur = this.current.get(resource);
    const seen = this.seen.get(resource);
    if (!cur || !seen) return [];
    const now = new Set(cur.shape.columns.map((c) => c.name));
    return fields.filter((f) => seen.has(f) && !now.has(f));
  }

  /** The recorded versions with what changed at each; `subscriptions` with the fields each asks for. */
  async history(resource: string, subscriptions: { id: string; fields: string[] }[]): Promise<SchemaHistory> {
    const recorded = await this.state.schemas(resource);
    return {
      resource,
      current: this.version(resource),
      versions: recorded.map(({ resource: _, ...v }, i) => ({
        ...v,
        ...(i > 0 ? { changes: shapeChange(recorded[i - 1]!, v) } : {}),
      })),
      subscriptions: subscriptions.map((s) => ({ id: s.id, dropped: this.dropped(resource, s.fields) })),
    };
  }
}

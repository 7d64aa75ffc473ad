import { SluiceError } from '../../../engine/errors.ts';
import type { ResourceShape } from '../../../engine/ports/index.ts';
import type { RelationColumn } from './pgoutput-decoder.ts';
import type { ResourceBinding } from './tx-assembler.ts';
import { columnTypeFor, type PgColumn } from './type-map.ts';

/** What a stream's events of one shape need: the columns kept, their types, and the binding the decoder hands out. */
export interface Layout {
  /** The source's shape number (`ResourceShape.layout`), carried by each event in `schemaVersion`. */
  id: number;
  resource: string;
  /** Kept columns in table order, as the relation (or the table) has them. */
  columns: Pick<RelationColumn, 'name' | 'typeOid' | 'typmod'>[];
  /** Handed to the decoder for this relation: every event decoded with it carries `layout`. */
  binding: ResourceBinding & { layout: number };
  /** Null until its types are described (a layout first seen in the stream). */
  shape: ResourceShape | null;
  /** Kept columns delivered as LIST, whose Postgres array text is converted (pg-array.ts). */
  arrays: string[];
}

export interface ResourceColumns {
  resource: string;
  key: string[];
  /** Columns that enter the platform (the key among them). */
  keep: ReadonlySet<string>;
}

/**
 * The shapes of a source's resources as the stream goes. A table's kept columns and their types (oid, modifier) make
 * one layout; the same columns seen again — after a restart, or back after a change — are the same layout. pgoutput
 * announces a relation before the first change of it in a session and again after every DDL, each time as of that
 * point of the WAL, so a resumed stream may first show a layout older than the table's current one: events always
 * carry the layout they were decoded with. A layout first seen in the stream is reported (with its types described)
 * before the first batch that could hold its events.
 */
export class LayoutRegistry {
  private readonly layouts = new Map<string, Layout>();
  private readonly byId = new Map<number, Layout>();
  private next = 1;
  private reported = new Set<number>();
  private unreported: Layout[] = [];

  /** The layout of a table as introspected at start (its types known); reported by `start`. */
  fromTable(r: ResourceColumns, live: PgColumn[]): Layout {
    const kept = live.filter((c) => r.keep.has(c.name));
    const layout = this.layout(r, kept);
    layout.shape ??= shapeOf(layout, kept);
    return layout;
  }

  /** A start begins a stream whose reader has seen none of the layouts yet except those that start reports. */
  restart(startLayouts: Layout[]): void {
    this.reported = new Set(startLayouts.map((l) => l.id));
    this.unreported = [];
  }

  /**
   * The layout of a relation the stream announced; throws when a key column is gone (a change could no longer name
   * its row).
   */
  fromRelation(r: ResourceColumns, table: string, columns: RelationColumn[]): Layout {
    const names = new Set(columns.map((c) => c.name));
    const lost = r.key.filter((k) => !names.has(k));
    if (lost.length > 0) {
      throw new SluiceError(
        'SOURCE_FAILED',
        `resource "${r.resource}": key column ${lost.map((k) => `"${k}"`).join(', ')} is gone from ${table} (dropped or renamed): its changes can no longer name their rows`,
        {
          details: {
            resource: r.resource,
            table,
            column: lost[0],
            recovery: `restore the column, or declare the new key in the config and re-snapshot the resource (sluice resnapshot ${r.resource})`,
          },
        },
      );
    }
    const layout = this.layout(
      r,
      columns.filter((c) => r.keep.has(c.name)),
    );
    if (!this.reported.has(layout.id)) {
      this.reported.add(layout.id);
      this.unreported.push(layout);
    }
    return layout;
  }

  get pending(): boolean {
    return this.unreported.length > 0;
  }

  /** The layouts first seen since the last call, their types described where not known yet. */
  async report(describe: (columns: Layout['columns']) => Promise<PgColumn[]>): Promise<ResourceShape[]> {
    const list = this.unreported;
    this.unreported = [];
    for (const l of list) if (!l.shape) l.shape = shapeOf(l, await describe(l.columns));
    return list.map((l) => l.shape!);
  }

  get(id: number): Layout | undefined {
    return this.byId.get(id);
  }

  private layout(r: ResourceColumns, kept: Layout['columns']): Layout {
    const columns = kept.map((c) => ({ name: c.name, typeOid: c.typeOid, typmod: c.typmod }));
    const signature = JSON.stringify([r.resource, r.key, columns.map((c) => [c.name, c.typeOid, c.typmod])]);
    let layout = this.layouts.get(signature);
    if (!layout) {
      const id = this.next++;
      layout = {
        id,
        resource: r.resource,
        columns,
        binding: { resource: r.resource, key: r.key, layout: id },
        shape: null,
        arrays: [],
      };
      this.layouts.set(signature, layout);
      this.byId.set(id, layout);
    }
    return layout;
  }
}

function shapeOf(layout: Layout, described: PgColumn[]): ResourceShape {
  const columns = described.map((c) => ({ name: c.name, type: columnTypeFor(c), sourceType: c.type }));
  layout.arrays = columns.filter((c) => c.type.kind === 'list').map((c) => c.name);
  return { resource: layout.resource, key: layout.binding.key, columns, layout: layout.id };
}

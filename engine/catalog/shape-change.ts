import type { ResourceSchema } from '../ports/index.ts';

type Columns = Pick<ResourceSchema, 'columns'>;

/** How a resource's columns changed between two shapes: added, dropped, and retyped (by source type). */
export interface ShapeChange {
  added: string[];
  dropped: string[];
  retyped: { name: string; from: string; to: string }[];
}

/** The difference between two shapes of a resource, by column name. Pure. */
export function shapeChange(before: Columns, after: Columns): ShapeChange {
  const old = new Map(before.columns.map((c) => [c.name, c]));
  const now = new Map(after.columns.map((c) => [c.name, c]));
  return {
    added: after.columns.filter((c) => !old.has(c.name)).map((c) => c.name),
    dropped: before.columns.filter((c) => !now.has(c.name)).map((c) => c.name),
    retyped: after.columns.flatMap((c) => {
      const o = old.get(c.name);
      return o && o.sourceType !== c.sourceType ? [{ name: c.name, from: o.sourceType, to: c.sourceType }] : [];
    }),
  };
}

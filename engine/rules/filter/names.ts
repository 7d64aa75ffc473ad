/** How field names are written in filter source: plain identifiers fold to lower case, others are double-quoted. */

/** Words that can never be an unquoted field name. (`date` and `timestamp` are keywords only before a string.) */
export const RESERVED: ReadonlySet<string> = new Set([
  'and',
  'or',
  'not',
  'in',
  'between',
  'is',
  'null',
  'like',
  'true',
  'false',
]);

/** A field name as source text: bare when it reads back the same, else `"quoted"` with `"` doubled. */
export function fieldSource(name: string): string {
  const plain = /^[a-z_][a-z0-9_]*$/.test(name) && !RESERVED.has(name) && name !== 'date' && name !== 'timestamp';
  return plain ? name : `"${name.replace(/"/g, '""')}"`;
}

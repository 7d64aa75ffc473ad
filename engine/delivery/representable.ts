import type { ColumnType } from '../../schemas/index.ts';

/**
 * Why a value (in its canonical text form) has no value in its delivered column type, or null when it has one.
 * These are the source values no Parquet type can hold (DESIGN.md "Batch output"): numeric NaN / ±Infinity in a
 * DECIMAL column, ±infinity in a DATE or TIMESTAMP column, and arrays that are not one-dimensional lists (several
 * dimensions, or explicit bounds such as `[0:2]={…}`). Such a value is delivered as NULL with its raw text in
 * `_quality`, never silently nulled.
 */
export function unrepresentable(type: ColumnType, value: string): string | null {
  switch (type.kind) {
    case 'decimal':
      return value === 'NaN' || value === 'Infinity' || value === '-Infinity'
        ? `numeric ${value} has no DECIMAL value`
        : null;
    case 'date':
    case 'timestamp':
      return value === 'infinity' || value === '-infinity' ? `${value} has no ${type.kind.toUpperCase()} value` : null;
    case 'list': {
      if (value === '[]') return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return 'not a one-dimensional array (explicit bounds or another form)';
      }
      if (!Array.isArray(parsed)) return 'not a list';
      for (let k = 0; k < parsed.length; k++) {
        const e: unknown = parsed[k];
        if (e === null) continue;
        if (Array.isArray(e)) return 'a multi-dimensional array has no one-dimensional LIST value';
        if (typeof e !== 'string') return `list element ${k} is not a value`;
        const inner = unrepresentable(type.element, e);
        if (inner) return `list element ${k}: ${inner}`;
      }
      return null;
    }
    default:
      return null;
  }
}

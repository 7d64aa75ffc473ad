import type { ColumnType, ScalarColumnType } from '../../schemas/index.ts';

/**
 * A value's canonical text (the bus form: Postgres text output, see schemas/column-type.ts) as the JSON a feed event
 * carries (DESIGN.md, Feed output): small integers, floats and booleans as JSON numbers and booleans; int8 and
 * numeric as strings (never through a double); bytes as base64; timestamps as RFC 3339 (`T`, `Z` for UTC); dates,
 * times, intervals, uuids, json text as strings; arrays as JSON arrays of their elements. A float JSON cannot hold
 * (NaN, ±Infinity) and ±infinity dates stay strings.
 */
export function jsonValue(type: ColumnType, text: string | null): unknown {
  if (text === null) return null;
  if (type.kind === 'list') {
    const items = JSON.parse(text) as (string | null)[];
    return items.map((item) => scalar(type.element, item));
  }
  return scalar(type, text);
}

function scalar(type: ScalarColumnType, text: string | null): unknown {
  if (text === null) return null;
  switch (type.kind) {
    case 'int16':
    case 'int32':
      return Number(text);
    case 'float32':
    case 'float64': {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case 'bool':
      return text === 't' || text === 'true';
    case 'binary':
      return Buffer.from(text.startsWith('\\x') ? text.slice(2) : text, 'hex').toString('base64');
    case 'timestamp':
      return rfc3339(text, type.tz);
    default:
      return text; // int64, decimal, utf8 (json text too), date, time
  }
}

/** `2026-12-03 08:00:00.123456+00` → `2026-12-03T08:00:00.123456Z`; a local timestamp keeps no zone. */
function rfc3339(text: string, tz: 'UTC' | null): string {
  if (!/^-?\d{4,}-\d\d-\d\d /.test(text)) return text; // ±infinity, or already ISO
  const iso = text.replace(' ', 'T');
  if (tz === null) return iso;
  return iso.replace(/\+00(:00)?$/, 'Z');
}

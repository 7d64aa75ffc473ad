import type { ChangeEvent, ColumnSpec, ColumnType, Row } from '../../schemas/index.ts';
import { routeEvent, type RowRules } from '../delivery/batch-rows.ts';
import type { FieldMask } from '../delivery/field-masks.ts';
import { jsonValue } from './json-value.ts';

/** What a feed subscription's events are made with, compiled per schema version (like a batch file's masks). */
export interface FeedShape {
  subscription: string;
  provider: string;
  resource: string;
  /** The key columns of the resource, in key order. */
  key: string[];
  /** The schema version's source columns (their types). */
  columns: readonly ColumnSpec[];
  /** One per granted field, in the subscription's order (engine/delivery/field-masks.ts). */
  masks: readonly FieldMask[];
  /** How a key column the subscription is not granted is shown (the subscription's `hash`): never in clear. */
  keyMask: (column: string) => FieldMask;
  rules?: RowRules;
}

/** The CloudEvents 1.0 attributes and data of one change (DESIGN.md, Feed output), before any SDK or transport. */
export interface FeedEvent {
  specversion: '1.0';
  /** `<subscription>:<seq>`: unique per source; a retry of the same event keeps it (de-duplication). */
  id: string;
  type: `sluice.change.${'insert' | 'update' | 'delete' | 'read' | 'truncate'}`;
  source: string;
  /** The commit time, RFC 3339 with µs. */
  time: string;
  /** The masked key as canonical JSON (absent for a truncate). */
  subject?: string;
  datacontenttype: 'application/json';
  data: {
    op: ChangeEvent['op'];
    key: Record<string, unknown>;
    after: Record<string, unknown> | null;
    before?: Record<string, unknown>;
    /** The quality checks the row failed, by column (the provider's policy `flag`; `_quality._checks` in a file). */
    quality?: Record<string, string[]>;
  };
  /** The source position (extension attribute). */
  sluiceposition: string;
}

const TYPE = { c: 'insert', u: 'update', d: 'delete', r: 'read', t: 'truncate' } as const;

/**
 * One change as a subscription's feed sees it: the row filter decides whether and as what (an update leaving the
 * filter is a delete for it — the same `routeEvent` as batch files), and every value goes through the same field
 * masks as in a batch file, so the same input gives the same output in both. Null when the filter leaves it out.
 */
export function feedEvent(shape: FeedShape, e: ChangeEvent): FeedEvent | null {
  if (e.target !== undefined && e.target !== shape.subscription) return null; // another subscription's backfill
  const routed = routeEvent(e, shape.rules?.filter);
  if (!routed) return null;
  const { op, image } = routed;
  // the provider's quality policy, as in a batch file: `hold` keeps the event back, `flag` names the failed checks
  let quality: Record<string, string[]> | undefined;
  const checks = shape.rules?.quality;
  if (checks && op !== 't') {
    const failed = checks
      .check(image)
      .filter(
        (f) => f.check !== 'type' && (shape.key.includes(f.column) || shape.masks.some((m) => m.field === f.column)),
      );
    if (failed.length > 0 && checks.onFailure === 'hold') return null;
    if (failed.length > 0 && checks.onFailure === 'flag') {
      quality = Object.create(null) as Record<string, string[]>;
      for (const f of failed) (quality[f.column] ??= []).push(f.check);
    }
  }
  const typeOf = (name: string): ColumnType => shape.columns.find((c) => c.name === name)?.type ?? { kind: 'utf8' };
  const masked = (row: Row): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const m of shape.masks) {
      const raw = Object.hasOwn(row, m.field) ? (row[m.field] ?? null) : null;
      out[m.field] = jsonValue(m.outputType(typeOf(m.field)), m.strategy === 'clear' ? raw : m.apply(raw).value);
    }
    return out;
  };
  const key: Record<string, unknown> = {};
  if (op !== 't') {
    for (const k of shape.key) {
      const m = shape.masks.find((x) => x.field === k) ?? shape.keyMask(k);
      const raw = e.key[k] ?? image[k] ?? null;
      key[k] = jsonValue(m.outputType(typeOf(k)), m.strategy === 'clear' ? raw : m.apply(raw).value);
    }
  }
  const before = op === 'u' && e.before ? masked(e.before) : op === 'd' && e.before ? masked(image) : undefined;
  return {
    specversion: '1.0',
    id: `${shape.subscription}:${e.seq}`,
    type: `sluice.change.${TYPE[op]}`,
    source: `sluice/${shape.provider}/${shape.resource}`,
    time: e.commitTs,
    ...(op === 't' ? {} : { subject: JSON.stringify(key) }),
    datacontenttype: 'application/json',
    data: {
      op,
      key,
      after: op === 'd' || op === 't' ? null : masked(image),
      ...(before ? { before } : {}),
      ...(quality ? { quality } : {}),
    },
    sluiceposition: e.position,
  };
}

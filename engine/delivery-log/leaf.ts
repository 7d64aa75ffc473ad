import canonicalizeModule from 'canonicalize';

type Canonicalize = (input: unknown) => string | undefined;
// a CommonJS module whose types declare an ES default export: take the function whichever way it arrives
const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ??
  (canonicalizeModule as unknown as Canonicalize);

/**
 * The data of delivery-log leaves (DESIGN.md, Delivery log): RFC 8785 canonical JSON, so anyone holding the same
 * document gets the same bytes. A batch delivery's leaf is its manifest — which covers every part's sha256 — as
 * canonical JSON: `sluice verify` recomputes it from the manifest file beside the Parquet. A feed range's leaf
 * summarizes what was published; an operator action's says what changed, on what, by whom and when.
 */

/** RFC 8785 canonical JSON of a JSON value (throws on what JSON cannot hold: undefined, functions, NaN). */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('not a JSON value');
  return text;
}

/** A batch delivery's leaf: the manifest file's text, canonicalized. */
export const manifestLeaf = (manifestText: string): string => canonicalJson(JSON.parse(manifestText));

/** A feed range's leaf. */
export function feedRangeLeaf(r: {
  deliveryId: string;
  subscription: string;
  resource: string;
  firstSeq: bigint;
  lastSeq: bigint;
  events: number;
  sha256: string;
  at: string;
}): string {
  return canonicalJson({
    type: 'sluice.feed-range',
    deliveryId: r.deliveryId,
    subscription: r.subscription,
    resource: r.resource,
    firstSeq: r.firstSeq.toString(),
    lastSeq: r.lastSeq.toString(),
    events: r.events,
    eventsSha256: r.sha256,
    at: r.at,
  });
}

/** An operator action that changes what is shared: classification, cadence override, pause, key rotation, fields. */
export function actionLeaf(a: {
  action: string;
  /** What it applies to: a subscription, or `<resource>.<column>`. */
  subject: string;
  by?: string;
  at: string;
  details?: Record<string, unknown>;
}): string {
  return canonicalJson({
    type: 'sluice.action',
    action: a.action,
    subject: a.subject,
    ...(a.by !== undefined ? { by: a.by } : {}),
    at: a.at,
    ...(a.details !== undefined ? { details: a.details } : {}),
  });
}

/** Operator actions as leaves: what the state stores append in the transaction that makes the change. */
export const actionLeaves = {
  classify: (c: {
    resource: string;
    column: string;
    level: string;
    tag?: string;
    share: string;
    by?: string;
    at: string;
  }) =>
    actionLeaf({
      action: 'classify',
      subject: `${c.resource}.${c.column}`,
      ...(c.by !== undefined ? { by: c.by } : {}),
      at: c.at,
      details: { level: c.level, share: c.share, ...(c.tag !== undefined ? { tag: c.tag } : {}) },
    }),
  declassify: (resource: string, column: string, at: string) =>
    actionLeaf({ action: 'declassify', subject: `${resource}.${column}`, at }),
  /** `fields`, `cadence` or `paused` set by an operator (`paused`: a pause). */
  override: (o: { subscription: string; setting: string; value: unknown; by?: string; at: string }) =>
    actionLeaf({
      action: o.setting === 'paused' ? 'pause' : `set-${o.setting}`,
      subject: o.subscription,
      ...(o.by !== undefined ? { by: o.by } : {}),
      at: o.at,
      details: { value: o.value },
    }),
  /** An override removed (`paused`: a resume). */
  clearOverride: (subscription: string, setting: string, at: string) =>
    actionLeaf({ action: setting === 'paused' ? 'resume' : `reset-${setting}`, subject: subscription, at }),
  rotateKey: (subscription: string, kind: string, version: number, at: string) =>
    actionLeaf({ action: 'rotate-key', subject: subscription, at, details: { kind, version } }),
};

import { SluiceError } from '../errors.ts';
import type { DeliveryIntent, DeliveryRecord } from '../ports/index.ts';
import { currentKeys, emptyResult, executeIntent, finishOpenIntent } from './batch-cycle.ts';
import type { BatchSubscription, CycleDeps, CycleResult } from './cycle-types.ts';
import { tickLabel } from './stem.ts';

/** Where a re-delivery starts or ends: a `_seq`, or an instant (matched against the ticks of the deliveries). */
export type RedeliveryBound = { seq: bigint } | { time: Date };

export interface RedeliveryRequest {
  /** The first change to deliver again: this seq, or the first delivered by a cycle at or after this time. */
  from: RedeliveryBound;
  /** The last one: this seq, or the last delivered by a cycle before this time; default: the last delivered. */
  to?: RedeliveryBound;
  /** When it is made: its files are named by it. */
  at: Date;
}

/**
 * Produces new files for a range a subscription has already received (`sluice redeliver`): the changes of the
 * range, under the subscription's grant and masks as of now, named by the time of the re-delivery, each manifest
 * naming the deliveries it repeats (`redeliveryOf`). The original files and the subscription's cursor are not
 * touched. Exactly once like a cycle: the plan is committed as a re-delivery intent before anything is written, and
 * one left open by a crash is finished (same bytes) before the next re-delivery and at engine start.
 */
export async function runRedelivery(
  sub: BatchSubscription,
  req: RedeliveryRequest | null,
  deps: CycleDeps,
  signal?: AbortSignal,
): Promise<CycleResult & { fromSeq?: string; toSeq?: string }> {
  const result = emptyResult();
  await finishOpenIntent(sub, 'redelivery', deps, result, signal);
  if (!req) return result;

  const originals = (await deps.state.deliveries(sub.id)).filter((d) => !d.redeliveryOf);
  const cursor = (await deps.state.cursor(sub.id)).seq;
  const fromSeq = resolve(sub.id, req.from, originals, 'from') - 1n;
  const toSeq = req.to ? resolve(sub.id, req.to, originals, 'to') : cursor;
  if (toSeq > cursor) {
    throw new SluiceError(
      'USAGE',
      `subscription "${sub.id}" has received changes up to _seq ${cursor}; ${toSeq} is not delivered yet`,
      { details: { subscription: sub.id, cursor: cursor.toString() } },
    );
  }
  const trimmed = await deps.bus.trimmed(sub.resource);
  if (fromSeq < trimmed) {
    throw new SluiceError(
      'USAGE',
      `changes up to _seq ${trimmed} of "${sub.resource}" are no longer on the bus (bus.retention); ` +
        `re-deliver from _seq ${trimmed + 1n} on, or ask for a backfill (sluice backfill ${sub.id})`,
      { details: { subscription: sub.id, trimmed: trimmed.toString() } },
    );
  }
  if (fromSeq >= toSeq) {
    throw new SluiceError('USAGE', `nothing to re-deliver: the range _seq ${fromSeq + 1n}-${toSeq} is empty`, {
      details: { subscription: sub.id },
    });
  }
  const repeated = originals.filter((d) => d.lastSeq > fromSeq && d.firstSeq <= toSeq);
  if (repeated.length === 0) {
    throw new SluiceError(
      'USAGE',
      `subscription "${sub.id}" received no file with changes in _seq ${fromSeq + 1n}-${toSeq} ` +
        '(filtered out, or delivered before the first recorded delivery)',
      { details: { subscription: sub.id } },
    );
  }
  const grant = sub.grant ? await sub.grant(req.at) : { fields: sub.fields, denied: [] };
  result.denied = grant.denied;
  if (grant.fields.length === 0) {
    throw new SluiceError('CONFLICT', `no field of subscription "${sub.id}" is granted now; nothing is re-delivered`, {
      details: { subscription: sub.id, denied: grant.denied },
    });
  }
  const intent: DeliveryIntent = {
    subscription: sub.id,
    resource: sub.resource,
    tick: new Date(Math.floor(req.at.getTime() / 1000) * 1000).toISOString(),
    windowFrom: null,
    fromSeq,
    toSeq,
    fields: grant.fields,
    keys: await currentKeys(sub, grant.fields, deps),
    redeliveryOf: repeated.map((d) => ({
      deliveryId: d.deliveryId,
      firstSeq: d.firstSeq.toString(),
      lastSeq: d.lastSeq.toString(),
    })),
  };
  await deps.state.beginIntent(intent);
  deps.logger.info('re-delivery', {
    subscription: sub.id,
    tick: intent.tick,
    fromSeq: (fromSeq + 1n).toString(),
    toSeq: toSeq.toString(),
    redeliveryOf: repeated.length,
  });
  const done = emptyResult();
  await executeIntent(sub, intent, deps, done, signal);
  return { ...done, recovered: result.recovered, fromSeq: (fromSeq + 1n).toString(), toSeq: toSeq.toString() };
}

/** A bound as a seq: given, or from the cycle deliveries by the time of their tick (in their stems). */
function resolve(subscription: string, b: RedeliveryBound, delivered: DeliveryRecord[], which: 'from' | 'to'): bigint {
  if ('seq' in b) {
    if (b.seq < 1n) throw new SluiceError('USAGE', `--${which} must be a _seq of 1 or more`);
    return b.seq;
  }
  const label = tickLabel(b.time.toISOString());
  const tickOf = (d: DeliveryRecord) => d.stem.slice(0, d.stem.indexOf('_'));
  const hit =
    which === 'from' ? delivered.find((d) => tickOf(d) >= label) : delivered.filter((d) => tickOf(d) < label).at(-1);
  if (!hit) {
    throw new SluiceError(
      'USAGE',
      which === 'from'
        ? `subscription "${subscription}" has no delivery at or after ${b.time.toISOString()}`
        : `subscription "${subscription}" has no delivery before ${b.time.toISOString()}`,
      { details: { subscription } },
    );
  }
  return which === 'from' ? hit.firstSeq : hit.lastSeq;
}

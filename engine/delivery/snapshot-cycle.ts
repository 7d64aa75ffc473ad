import { SluiceError } from '../errors.ts';
import type { DeliveryIntent } from '../ports/index.ts';
import { currentKeys, emptyResult, executeIntent, finishOpenIntent } from './batch-cycle.ts';
import type { BatchSubscription, CycleDeps, CycleResult } from './cycle-types.ts';

/**
 * One cycle of a subscription in `snapshot` mode (DESIGN.md): the full current state at cycle time, under its
 * fields, filter and masks, as `<tick>_snapshot.parquet` with rows `_op = r` that all carry `_seq` = the bus
 * high-water mark of the read. The state is read consistently by the source's own snapshot method — a backfill for
 * this subscription alone (watermarks: every row read or streamed, none twice) — and the file is the fold of the bus
 * range it occupies, `(head before the request, head once it is all on the bus]`: each key's last event there, unless
 * a delete. Exactly once like any cycle: that range is committed as the intent before anything is written; a crash
 * before it only costs a new read at the next tick. An empty state is a file without rows.
 */
export async function runSnapshotCycle(
  sub: BatchSubscription,
  tick: Date,
  deps: CycleDeps,
  signal?: AbortSignal,
): Promise<CycleResult> {
  const result = emptyResult();
  await finishOpenIntent(sub, 'cycle', deps, result, signal);
  if (deps.stopping?.aborted) return result;
  if (!deps.backfill) {
    throw new SluiceError('INTERNAL', `subscription "${sub.id}" is in snapshot mode, but its source cannot read state`);
  }
  const grant = sub.grant ? await sub.grant(tick) : { fields: sub.fields, denied: [] };
  result.denied = grant.denied;
  if (grant.fields.length === 0) {
    deps.logger.warn('no field granted at this cycle; no snapshot delivered', {
      subscription: sub.id,
      denied: grant.denied.map((d) => `${d.field}: ${d.reason}`),
    });
    return result;
  }
  const range = await deps.backfill(sub, signal);
  const intent: DeliveryIntent = {
    subscription: sub.id,
    resource: sub.resource,
    tick: tick.toISOString(),
    windowFrom: (await deps.state.cursor(sub.id)).lastTick,
    fromSeq: range.from,
    toSeq: range.to,
    fields: grant.fields,
    keys: await currentKeys(sub, grant.fields, deps),
  };
  await deps.state.beginIntent(intent);
  deps.checkpoint?.('intent-committed');
  await executeIntent(sub, intent, deps, result, signal);
  return result;
}

import type { DeliveryIntent, DeliveryRecord, IntentKind, SubscriptionSecret } from '../ports/index.ts';
import { addRunStats, writeRun, type RunSetup } from './run-writer.ts';
import { SluiceError } from '../errors.ts';
import { wrapDataKey, type WrappedKey } from '../masking/index.ts';
import { compileFieldMasks } from './field-masks.ts';
import type { BatchSubscription, CycleDeps, CycleResult } from './cycle-types.ts';
import { routeEvent } from './batch-rows.ts';
import { NetEffect } from './net-effect.ts';
import { readAhead } from './read-ahead.ts';

export type { BatchSubscription, CycleDenial, CycleDeps, CyclePoint, CycleResult } from './cycle-types.ts';

/**
 * One exchange cycle of a batch subscription, exactly once (DESIGN.md, Batch output):
 * 1. an intent left open by a crash is finished first — same range, same tick, so the same bytes;
 * 2. the range (cursor, bus head] is committed as an intent before anything is written;
 * 3. the range becomes one file per schema version (and per `maxRowsPerFile`), each written to a temp name,
 *    fsynced and renamed, manifest last;
 * 4. the delivery records and the new cursor commit together, closing the intent.
 * No file is written when the range holds no rows; the cursor still moves.
 */
export async function runBatchCycle(
  sub: BatchSubscription,
  tick: Date,
  deps: CycleDeps,
  signal?: AbortSignal,
): Promise<CycleResult> {
  const result = emptyResult();
  await finishOpenIntent(sub, 'cycle', deps, result, signal);
  // One label for every file of this tick, even when a backlog is split into several files. The cycle's content is
  // what the bus held when it started (DESIGN.md: everything appended up to the tick): changes arriving while it
  // writes wait for the next tick instead of trailing this one as small files with the same label.
  const windowFrom = (await deps.state.cursor(sub.id)).lastTick;
  const head = await deps.bus.head(sub.resource);
  for (;;) {
    signal?.throwIfAborted();
    if (deps.stopping?.aborted) break;
    const cursor = await deps.state.cursor(sub.id);
    if (head <= cursor.seq) break;
    // changes retention trimmed before this subscription got them: the need of a backfill is stored first
    const trimmed = await deps.bus.trimmed(sub.resource);
    if (cursor.seq < trimmed) {
      result.gap = { first: cursor.seq + 1n, last: trimmed };
      deps.logger.error('changes were trimmed by retention before delivery; the current state follows as a backfill', {
        subscription: sub.id,
        firstSeq: result.gap.first.toString(),
        lastSeq: result.gap.last.toString(),
      });
      await deps.onGap?.(sub.id, result.gap);
      cursor.seq = trimmed;
      if (head <= cursor.seq) {
        // nothing after the gap yet: the cursor moves past it with an empty intent (no file)
        const empty = { subscription: sub.id, resource: sub.resource, tick: tick.toISOString(), windowFrom };
        const intent: DeliveryIntent = { ...empty, fromSeq: cursor.seq, toSeq: cursor.seq, fields: [] };
        await deps.state.beginIntent(intent);
        await deps.state.completeIntent(intent, []);
        break;
      }
    }
    const limit = cursor.seq + BigInt(sub.maxRowsPerFile);
    const grant = sub.grant ? await sub.grant(tick) : { fields: sub.fields, denied: [] };
    result.denied = grant.denied;
    if (grant.fields.length === 0) {
      // Nothing may be delivered now: the cursor stays, so a later grant delivers what waits.
      deps.logger.warn('no field granted at this cycle; nothing delivered', {
        subscription: sub.id,
        denied: grant.denied.map((d) => `${d.field}: ${d.reason}`),
      });
      break;
    }
    const intent: DeliveryIntent = {
      subscription: sub.id,
      resource: sub.resource,
      tick: tick.toISOString(),
      windowFrom,
      fromSeq: cursor.seq,
      toSeq: head < limit ? head : limit,
      fields: grant.fields,
      keys: await currentKeys(sub, grant.fields, deps),
    };
    await deps.state.beginIntent(intent);
    deps.checkpoint?.('intent-committed');
    // retention may have trimmed between reading the cursor and committing the intent (never after: it keeps what
    // an open intent covers)
    const overtaken = await deps.bus.trimmed(sub.resource);
    if (overtaken > intent.fromSeq) {
      result.gap = { first: intent.fromSeq + 1n, last: overtaken };
      await deps.onGap?.(sub.id, result.gap);
    }
    await executeIntent(sub, intent, deps, result, signal);
  }
  return result;
}

/** Finishes the subscription's intent of `kind` left open by a crash (same intent, same bytes), if there is one. */
export async function finishOpenIntent(
  sub: BatchSubscription,
  kind: IntentKind,
  deps: CycleDeps,
  result: CycleResult,
  signal?: AbortSignal,
): Promise<void> {
  const open = await deps.state.openIntent(sub.id, kind);
  if (!open) return;
  deps.logger.info(`finishing a ${kind === 'cycle' ? 'delivery' : 're-delivery'} left open by a previous run`, {
    subscription: sub.id,
    tick: open.tick,
    fromSeq: open.fromSeq.toString(),
    toSeq: open.toSeq.toString(),
  });
  await executeIntent(sub, open, deps, result, signal);
  result.recovered = true;
}

export function emptyResult(): CycleResult {
  return {
    files: [],
    rows: 0,
    masked: {},
    quality: {},
    recovered: false,
    denied: [],
    filteredOut: 0,
    netted: 0,
    held: 0,
  };
}

/** The versions of the subscription's secrets a new intent is written with (an encrypt key only when needed). */
export async function currentKeys(
  sub: BatchSubscription,
  fields: DeliveryIntent['fields'],
  deps: CycleDeps,
): Promise<NonNullable<DeliveryIntent['keys']>> {
  const hash = await deps.state.secret(sub.id, 'hash');
  const encrypt = fields.some((f) => f.strategy === 'encrypt') ? await encryptSecret(sub, deps) : undefined;
  return { hash: hash.version, ...(encrypt ? { encrypt: encrypt.version } : {}) };
}

/**
 * Writes an intent's files (one per schema version met in its range) and commits them with it: the same intent
 * always gives the same bytes, which is what finishing one left open by a crash relies on.
 */
export async function executeIntent(
  sub: BatchSubscription,
  intent: DeliveryIntent,
  deps: CycleDeps,
  result: CycleResult,
  signal?: AbortSignal,
): Promise<void> {
  const hash = await deps.state.secret(sub.id, 'hash', intent.keys?.hash ?? 1);
  const encrypt = intent.keys?.encrypt ? await deps.state.secret(sub.id, 'encrypt', intent.keys.encrypt) : undefined;
  const keys = { hash: hash.key, ...(encrypt ? { encrypt: encrypt.key } : {}) };
  const encryption = encrypt?.wrapped
    ? {
        alg: 'AES-256-GCM' as const,
        keyId: keyId(sub.id, encrypt.version),
        wrappedKey: encrypt.wrapped.key as WrappedKey,
      }
    : undefined;
  const records: DeliveryRecord[] = [];
  const secrets = { keys: { hash: hash.version, ...(encrypt ? { encrypt: encrypt.version } : {}) }, encryption };
  const setups = new Map<number, RunSetup>();
  const setup = async (version: number): Promise<RunSetup> => {
    let s = setups.get(version);
    if (!s) {
      const schema = await deps.state.schema(sub.resource, version);
      // generalize picks its rule from the column types, which belong to the schema version; a field this version
      // lacks (dropped from the table) is left out of its files
      const present = intent.fields.filter((f) => schema.columns.some((c) => c.name === f.name));
      const masks = compileFieldMasks(present, keys, { ...sub.masking, columns: schema.columns });
      s = { schema, masks, rules: sub.rowRules?.(schema) ?? {}, secrets };
      setups.set(version, s);
    }
    return s;
  };
  // `latest`: a first pass over the range finds each key's last change (what the subscription sees of it)
  // `snapshot`: the same pass finds each key's state at the end of the range
  const net =
    sub.incremental === 'latest' || sub.incremental === 'snapshot'
      ? await netEffectOf(sub, intent, setup, deps, signal, sub.incremental === 'latest' ? 'latest' : 'state')
      : undefined;
  // one file per schema version met in the range (none when every event is filtered out or held back)
  let from = intent.fromSeq;
  while (from < intent.toSeq) {
    let optional = { unchanged: false, quality: false };
    let outcome = await writeRun(sub, intent, from, setup, optional, deps, signal, net);
    // a row needed `_unchanged` or `_quality`, which the file's first row groups did not have: write it again with
    // them (the columns only grow, so at most twice)
    while (!outcome.done) {
      optional = outcome.optional;
      outcome = await writeRun(sub, intent, from, setup, optional, deps, signal, net);
    }
    addRunStats(result, outcome.stats);
    if (outcome.lastSeq <= from) break; // nothing left in the range (the bus holds no event past `from`)
    from = outcome.lastSeq;
    const record = outcome.record;
    if (!record) continue;
    records.push(record);
    result.files.push({
      stem: record.stem,
      rows: record.rows,
      firstSeq: record.firstSeq,
      lastSeq: record.lastSeq,
      manifestFile: `${record.stem}.manifest.json`,
      ...(record.redeliveryOf ? { redeliveryOf: record.redeliveryOf } : {}),
    });
    result.rows += record.rows;
  }
  if (sub.incremental === 'snapshot' && records.length === 0) {
    // an empty state is delivered too (a file without rows): the subscriber learns that nothing is left
    const latest = (await deps.state.schemas(sub.resource)).at(-1)?.version;
    if (latest !== undefined) {
      const none = { unchanged: false, quality: false };
      const out = await writeRun(sub, intent, intent.toSeq, setup, none, deps, signal, net, latest);
      if (out.done && out.record) {
        records.push(out.record);
        result.files.push({
          stem: out.record.stem,
          rows: 0,
          firstSeq: out.record.firstSeq,
          lastSeq: out.record.lastSeq,
          manifestFile: `${out.record.stem}.manifest.json`,
        });
      }
    }
  }
  deps.checkpoint?.('files-written');
  await deps.state.completeIntent(intent, records);
  deps.checkpoint?.('delivery-committed');
}

const keyId = (subscription: string, version: number) => `${subscription}:encrypt:v${version}`;

/**
 * The subscription's current encrypt data key, wrapped for the subscriber's public key. A data key is wrapped once
 * (the stored wrapping is what every manifest of that version carries); when the subscriber registers another
 * public key, a new version is made for it, and files already delivered keep theirs.
 */
async function encryptSecret(sub: BatchSubscription, deps: CycleDeps): Promise<SubscriptionSecret> {
  const recipient = sub.recipientKey;
  if (!recipient) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `subscription "${sub.id}" has encrypted fields but its subscriber "${sub.subscriber}" has no publicKey`,
      { details: { subscription: sub.id, subscriber: sub.subscriber } },
    );
  }
  let current = await deps.state.secret(sub.id, 'encrypt');
  if (current.wrapped && current.wrapped.recipient !== recipient) {
    current = await deps.state.rotateSecret(sub.id, 'encrypt');
  }
  if (!current.wrapped) {
    const wrapped = wrapDataKey(current.key, recipient, keyId(sub.id, current.version));
    current = await deps.state.wrapSecret(sub.id, current.version, recipient, wrapped);
  }
  return current;
}

/** Pass 1 of the `latest` mode: every event of the intent's range, as the subscription's filter lets it see it. */
async function netEffectOf(
  sub: BatchSubscription,
  intent: DeliveryIntent,
  setup: (version: number) => Promise<RunSetup>,
  deps: CycleDeps,
  signal?: AbortSignal,
  mode: 'latest' | 'state' = 'latest',
): Promise<NetEffect> {
  const net = new NetEffect(mode);
  for await (const page of readAhead(deps.bus.read(sub.resource, intent.fromSeq, intent.toSeq, { signal }))) {
    for (const e of page) {
      if (e.target !== undefined && e.target !== sub.id) continue; // another subscription's backfill
      const { rules } = await setup(e.schemaVersion);
      net.observe(e, routeEvent(e, rules.filter)?.op ?? null);
    }
  }
  return net;
}

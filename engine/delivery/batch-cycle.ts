import { MANIFEST_FORMAT, columnTypeName, type ChangeEvent, type Manifest } from '../../schemas/index.ts';
import type {
  BatchSink,
  Bus,
  DeliveryIntent,
  DeliveryRecord,
  Logger,
  ResourceSchema,
  StateStore,
  SubscriptionSecret,
} from '../ports/index.ts';
import type { GrantedField } from '../rules/grant.ts';
import { buildBatchRows, type RowRules } from './batch-rows.ts';
import { SluiceError } from '../errors.ts';
import { wrapDataKey, type WrappedKey } from '../masking/index.ts';
import { compileFieldMasks, type FieldMask, type FieldMaskOptions } from './field-masks.ts';
import { batchStem } from './stem.ts';

/** What a batch cycle needs to know about its subscription (compiled from config by ops/). */
export interface BatchSubscription {
  id: string;
  subscriber: string;
  resource: string;
  provider: string;
  purpose: string;
  businessSystem: string;
  grantId: string;
  fields: GrantedField[];
  compression: 'zstd' | 'snappy' | 'none';
  /** Upper bound on rows per file; a larger backlog becomes several files in one tick. */
  maxRowsPerFile: number;
  /**
   * Decides the grant for one delivery at `tick` (conditions with validity intervals and delivery counts change
   * over time); without it `fields` is used as it is. Called before each intent; the intent records the result,
   * so a re-creation after a crash uses the grant it started with.
   */
  grant?: (tick: Date) => Promise<{ fields: GrantedField[]; denied: CycleDenial[] }>;
  /** Per-tag partial formats and per-field generalize options. */
  masking?: Pick<FieldMaskOptions, 'partial' | 'generalize'>;
  /** The row filter and quality policy, compiled per schema version (the types are the version's). */
  rowRules?: (schema: ResourceSchema) => RowRules;
  /** The subscriber's X25519 public key: `encrypt` data keys are wrapped for it (required for encrypt fields). */
  recipientKey?: string;
}

/** A requested field the grant withheld at this cycle, and why (never data values). */
export interface CycleDenial {
  field: string;
  reason: string;
  message: string;
}

export interface CycleDeps {
  bus: Bus;
  state: StateStore;
  sink: BatchSink;
  logger: Logger;
  /** Test hook: called at named points of the protocol (the kill -9 tests crash the process there). */
  checkpoint?: (point: CyclePoint) => void;
  /** Aborted when the engine drains: the file in progress is finished, no further one is started. */
  stopping?: AbortSignal;
}

export type CyclePoint = 'intent-committed' | 'files-written' | 'delivery-committed';

export interface CycleResult {
  files: { stem: string; rows: number; firstSeq: bigint; lastSeq: bigint; manifestFile: string }[];
  rows: number;
  /** Non-null values written per masking strategy. */
  masked: Record<string, number>;
  /** Quality failures by check (mask-fallback-hash, unrepresentable). */
  quality: Record<string, number>;
  /** Rows re-created from an intent left open by a crash. */
  recovered: boolean;
  /** Fields requested but not granted at this cycle (from the last decision). */
  denied: CycleDenial[];
  /** Events the row filter left out. */
  filteredOut: number;
  /** Rows held back by the quality policy. */
  held: number;
}

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
  const result: CycleResult = {
    files: [],
    rows: 0,
    masked: {},
    quality: {},
    recovered: false,
    denied: [],
    filteredOut: 0,
    held: 0,
  };
  const open = await deps.state.openIntent(sub.id);
  if (open) {
    deps.logger.info('finishing a delivery left open by a previous run', {
      subscription: sub.id,
      tick: open.tick,
      fromSeq: open.fromSeq.toString(),
      toSeq: open.toSeq.toString(),
    });
    await executeIntent(sub, open, deps, result, signal);
    result.recovered = true;
  }
  // One label for every file of this tick, even when a backlog is split into several files.
  const windowFrom = (await deps.state.cursor(sub.id)).lastTick;
  for (;;) {
    signal?.throwIfAborted();
    if (deps.stopping?.aborted) break;
    const cursor = await deps.state.cursor(sub.id);
    const head = await deps.bus.head(sub.resource);
    if (head <= cursor.seq) break;
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
    const hash = await deps.state.secret(sub.id, 'hash');
    const encrypt = grant.fields.some((f) => f.strategy === 'encrypt') ? await encryptSecret(sub, deps) : undefined;
    const intent: DeliveryIntent = {
      subscription: sub.id,
      resource: sub.resource,
      tick: tick.toISOString(),
      windowFrom,
      fromSeq: cursor.seq,
      toSeq: head < limit ? head : limit,
      fields: grant.fields,
      keys: { hash: hash.version, ...(encrypt ? { encrypt: encrypt.version } : {}) },
    };
    await deps.state.beginIntent(intent);
    deps.checkpoint?.('intent-committed');
    await executeIntent(sub, intent, deps, result, signal);
  }
  return result;
}

async function executeIntent(
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
  const pages = deps.bus.read(sub.resource, intent.fromSeq, intent.toSeq, { signal });
  for await (const run of schemaRuns(pages, sub.id)) {
    const schema = await deps.state.schema(sub.resource, run[0]!.schemaVersion);
    // generalize picks its rule from the column types, which belong to the schema version
    // a field this schema version lacks (dropped from the table) is left out of its files
    const present = intent.fields.filter((f) => schema.columns.some((c) => c.name === f.name));
    const masks = compileFieldMasks(present, keys, { ...sub.masking, columns: schema.columns });
    const secrets = { keys: { hash: hash.version, ...(encrypt ? { encrypt: encrypt.version } : {}) }, encryption };
    const rules = sub.rowRules?.(schema) ?? {};
    const record = await writeFile(sub, intent, schema, run, masks, rules, secrets, deps, result, signal);
    if (!record) continue; // every event filtered out or held back: no file, the cursor still moves
    records.push(record);
    result.files.push({
      stem: record.stem,
      rows: record.rows,
      firstSeq: record.firstSeq,
      lastSeq: record.lastSeq,
      manifestFile: `${record.stem}.manifest.json`,
    });
    result.rows += record.rows;
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

/**
 * Splits a stream of event pages into runs that share one schema version, leaving out another subscription's
 * backfill rows (`target`).
 */
async function* schemaRuns(pages: AsyncIterable<ChangeEvent[]>, subscription: string): AsyncIterable<ChangeEvent[]> {
  let run: ChangeEvent[] = [];
  for await (const page of pages) {
    for (const e of page) {
      if (e.target !== undefined && e.target !== subscription) continue;
      if (run.length > 0 && run[0]!.schemaVersion !== e.schemaVersion) {
        yield run;
        run = [];
      }
      run.push(e);
    }
  }
  if (run.length > 0) yield run;
}

async function writeFile(
  sub: BatchSubscription,
  intent: DeliveryIntent,
  schema: ResourceSchema,
  events: ChangeEvent[],
  masks: FieldMask[],
  rules: RowRules,
  secrets: Pick<Manifest, 'keys' | 'encryption'>,
  deps: CycleDeps,
  result: CycleResult,
  signal?: AbortSignal,
): Promise<DeliveryRecord | null> {
  const batch = buildBatchRows(events, schema, masks, rules);
  const add = (into: Record<string, number>, k: string, n: number) => (into[k] = (into[k] ?? 0) + n);
  for (const [k, n] of Object.entries(batch.masked)) add(result.masked, k, n);
  if (batch.maskFallbacks.length) add(result.quality, 'mask-fallback-hash', batch.maskFallbacks.length);
  if (batch.unrepresentable.length) add(result.quality, 'unrepresentable', batch.unrepresentable.length);
  for (const q of batch.qualityFailures) add(result.quality, q.check, 1);
  result.filteredOut += batch.filteredOut;
  result.held += batch.held;
  if (batch.held > 0) {
    deps.logger.warn('rows held back by the quality policy', {
      subscription: sub.id,
      held: batch.held,
      seqs: [...new Set(batch.qualityFailures.filter((q) => q.row < 0).map((q) => q.seq))].slice(0, 20),
    });
  }
  if (batch.rows === 0) return null;
  const firstSeq = BigInt(events[0]!.seq);
  const lastSeq = BigInt(events.at(-1)!.seq);
  const stem = batchStem(intent.tick, firstSeq, lastSeq);
  const deliveryId = `${sub.id}:${firstSeq}-${lastSeq}`;
  const receipt = await deps.sink.write(
    {
      subscription: sub.id,
      stem,
      columns: batch.columns,
      rows: batch.rows,
      values: batch.values,
      compression: sub.compression,
      metadata: {
        'sluice.subscription': sub.id,
        'sluice.resource': sub.resource,
        'sluice.schema_version': String(schema.version),
        'sluice.seq_first': firstSeq.toString(),
        'sluice.seq_last': lastSeq.toString(),
        'sluice.tick': intent.tick,
      },
      manifest: (parts, quality): Manifest => ({
        format: MANIFEST_FORMAT,
        deliveryId,
        subscription: sub.id,
        subscriber: sub.subscriber,
        resource: sub.resource,
        provider: sub.provider,
        grantId: sub.grantId,
        purpose: sub.purpose,
        businessSystem: sub.businessSystem,
        incremental: 'changes',
        schemaVersion: schema.version,
        tick: intent.tick,
        window: { from: intent.windowFrom, to: intent.tick },
        seq: { first: firstSeq.toString(), last: lastSeq.toString() },
        position: { first: events[0]!.position, last: events.at(-1)!.position },
        commitTs: batch.commitTs,
        rows: batch.rows,
        ops: batch.ops,
        columns: batch.columns.map((c, i) => {
          const m = masks[i];
          const src = m ? schema.columns.find((s) => s.name === m.field) : undefined;
          return {
            name: c.name,
            type: columnTypeName(c.type),
            ...(src ? { sourceType: src.sourceType } : {}),
            ...(m ? { strategy: m.strategy } : {}),
            ...(m?.tag ? { tag: m.tag } : {}),
          };
        }),
        ...secrets,
        parts,
        quality: [
          ...batch.maskFallbacks.map((q) => ({
            column: q.column,
            seq: batch.seqs[q.row]!,
            check: 'mask-fallback-hash',
            detail: q.reason,
          })),
          ...batch.unrepresentable.map((q) => ({
            column: q.column,
            seq: batch.seqs[q.row]!,
            check: 'unrepresentable',
            detail: `${q.reason}; the raw text is in _quality`,
          })),
          ...quality.map((q) => ({
            column: q.column,
            seq: batch.seqs[q.row]!,
            check: 'unparseable',
            detail: q.reason,
          })),
          ...batch.qualityFailures.map((q) => ({
            column: q.column,
            seq: q.seq,
            check: q.check,
            detail:
              q.row < 0
                ? 'held back by the quality policy (not in this file)'
                : rules.quality?.onFailure === 'deliver'
                  ? 'delivered as is (quality policy deliver)'
                  : 'flagged in _quality._checks',
          })),
        ],
      }),
    },
    signal,
  );
  if (receipt.quality.length) add(result.quality, 'unparseable', receipt.quality.length);
  return {
    deliveryId,
    subscription: sub.id,
    stem,
    firstSeq,
    lastSeq,
    rows: batch.rows,
    manifestSha256: receipt.manifestSha256,
    parts: receipt.parts.map((p) => ({ file: p.file, sha256: p.sha256, bytes: p.bytes })),
  };
}

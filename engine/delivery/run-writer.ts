import {
  MANIFEST_FORMAT,
  columnTypeName,
  type ChangeEvent,
  type ColumnSpec,
  type Manifest,
} from '../../schemas/index.ts';
import type { BatchFileWriter, DeliveryIntent, DeliveryRecord, ResourceSchema } from '../ports/index.ts';
import { buildBatchRows, type BatchRows, type OptionalColumns, type RowRules } from './batch-rows.ts';
import type { FieldMask } from './field-masks.ts';
import type { BatchSubscription, CycleDeps, CycleResult } from './cycle-types.ts';
import type { NetEffect } from './net-effect.ts';
import { manifestLeaf } from '../delivery-log/leaf.ts';
import { readAhead } from './read-ahead.ts';
import { batchStem, tickLabel } from './stem.ts';

/** What a schema version's file is written with (compiled once per version by the cycle). */
export interface RunSetup {
  schema: ResourceSchema;
  masks: FieldMask[];
  rules: RowRules;
  secrets: Pick<Manifest, 'keys' | 'encryption'>;
}

export type RunOutcome =
  /** The run ended (a schema change, or the end of the range) after `lastSeq`; `record` when it made a file. */
  | { done: true; record: DeliveryRecord | null; rows: number; lastSeq: bigint; stats: RunStats }
  /** A row needed an optional column the file was started without: write the run again with these. */
  | { done: false; optional: OptionalColumns };

/** What a run adds to the cycle's result once its file is done (nothing of an attempt written again counts). */
export interface RunStats {
  masked: Record<string, number>;
  quality: Record<string, number>;
  filteredOut: number;
  held: number;
  /** Events folded into a later row of the same key (`latest`). */
  netted: number;
}

type ManifestQuality = Manifest['quality'][number];

/**
 * Writes the events of one schema version, from `fromSeq` on, into one file, row group by row group: events are read
 * from the bus page by page, masked a row group's worth of events at a time, and handed to the sink in groups of exactly its
 * `groupRows` (the last shorter), so memory holds a row group, not a file. The run ends before the first event of
 * another schema version, or at the end of the intent's range; another subscription's backfill rows are skipped.
 * The same events give the same groups, so a file re-created after a crash is byte-identical.
 */
export async function writeRun(
  sub: BatchSubscription,
  intent: DeliveryIntent,
  fromSeq: bigint,
  setup: (version: number) => Promise<RunSetup>,
  optional: OptionalColumns,
  deps: CycleDeps,
  signal?: AbortSignal,
  net?: NetEffect,
  /** `snapshot` mode: write the file even when no row is in it (an empty state), under this schema version. */
  emptyVersion?: number,
): Promise<RunOutcome> {
  const snapshot = sub.incremental === 'snapshot';
  let run: RunSetup | undefined;
  let version: number | undefined;
  let first: ChangeEvent | undefined;
  let last: ChangeEvent | undefined;
  let lastSeq = fromSeq;
  let pending: ChangeEvent[] = [];
  const stats: RunStats = { masked: {}, quality: {}, filteredOut: 0, held: 0, netted: 0 };
  const notes = {
    fallbacks: [] as ManifestQuality[],
    unrepresentable: [] as ManifestQuality[],
    unparseable: [] as ManifestQuality[],
    failures: [] as ManifestQuality[],
  };
  const totals = { rows: 0, ops: { c: 0, u: 0, d: 0, t: 0 }, min: '', max: '' };
  let columns: ColumnSpec[] | null = null;
  let buffer: (string | null)[][] = [];
  let buffered = 0;
  // (a holder: it is opened inside the steps below)
  const file: { writer: BatchFileWriter | null } = { writer: null };
  const heldSeqs: string[] = [];

  const add = (into: Record<string, number>, k: string, n: number) => (into[k] = (into[k] ?? 0) + n);
  const seqCol = () => run!.masks.length + 1; // _seq, after the masked fields and _op

  /**
   * The row group handed to the sink and not yet taken: the next group is masked meanwhile (the sink encodes on
   * another thread), and waits for it before it is handed over — one group in flight, so memory stays bounded.
   */
  let inflight: Promise<void> | null = null;
  const settle = async () => {
    const p = inflight;
    inflight = null;
    await p;
  };

  /** Hands exactly `rows` buffered rows to the sink as one row group (taken by the next settle()). */
  const writeGroup = async (w: BatchFileWriter, rows: number) => {
    const group = buffer.map((col) => col.slice(0, rows));
    buffer = buffer.map((col) => col.slice(rows));
    buffered -= rows;
    await settle();
    const p = w.write(group, rows, signal).then((issues) => {
      for (const q of issues) {
        notes.unparseable.push({
          column: q.column,
          seq: group[seqCol()]![q.row]!,
          check: 'unparseable',
          detail: q.reason,
        });
      }
      if (issues.length) add(stats.quality, 'unparseable', issues.length);
    });
    p.catch(() => {}); // seen by the next settle(); not an unhandled rejection while the next group is masked
    inflight = p;
  };

  /**
   * Turns the pending events into rows and writes the full row groups; returns the optional columns the file must
   * be written with instead when a row needed one it lacks, else null.
   */
  const step = async (): Promise<OptionalColumns | null> => {
    if (pending.length === 0) return null;
    const select = net ? (e: ChangeEvent, op: ChangeEvent['op']) => net.select(e, op) : undefined;
    const seq = snapshot ? intent.toSeq.toString() : undefined; // every state row carries the read's high-water mark
    const b: BatchRows = buildBatchRows(pending, run!.schema, run!.masks, run!.rules, optional, select, seq);
    pending = [];
    if ((b.needs.unchanged && !optional.unchanged) || (b.needs.quality && !optional.quality)) {
      return { unchanged: optional.unchanged || b.needs.unchanged, quality: optional.quality || b.needs.quality };
    }
    tally(b);
    if (b.rows === 0) return null;
    if (!columns) {
      columns = b.columns;
      buffer = columns.map(() => []);
    }
    for (let c = 0; c < b.values.length; c++) {
      const into = buffer[c]!;
      for (const v of b.values[c]!) into.push(v);
    }
    buffered += b.rows;
    file.writer ??= await openFile(columns);
    while (buffered >= file.writer.groupRows) await writeGroup(file.writer, file.writer.groupRows);
    return null;
  };

  const tally = (b: BatchRows) => {
    for (const [k, n] of Object.entries(b.masked)) add(stats.masked, k, n);
    if (b.maskFallbacks.length) add(stats.quality, 'mask-fallback-hash', b.maskFallbacks.length);
    if (b.unrepresentable.length) add(stats.quality, 'unrepresentable', b.unrepresentable.length);
    for (const q of b.qualityFailures) add(stats.quality, q.check, 1);
    stats.filteredOut += b.filteredOut;
    stats.netted += b.netted;
    stats.held += b.held;
    for (const q of b.maskFallbacks) {
      notes.fallbacks.push({ column: q.column, seq: b.seqs[q.row]!, check: 'mask-fallback-hash', detail: q.reason });
    }
    for (const q of b.unrepresentable) {
      notes.unrepresentable.push({
        column: q.column,
        seq: b.seqs[q.row]!,
        check: 'unrepresentable',
        detail: `${q.reason}; the raw text is in _quality`,
      });
    }
    for (const q of b.qualityFailures) {
      notes.failures.push({
        column: q.column,
        seq: q.seq,
        check: q.check,
        detail:
          q.row < 0
            ? 'held back by the quality policy (not in this file)'
            : run!.rules.quality?.onFailure === 'deliver'
              ? 'delivered as is (quality policy deliver)'
              : 'flagged in _quality._checks',
      });
      if (q.row < 0 && heldSeqs.length < 20 && !heldSeqs.includes(q.seq)) heldSeqs.push(q.seq);
    }
    totals.rows += b.rows;
    for (const k of ['c', 'u', 'd', 't'] as const) totals.ops[k] += b.ops[k];
    if (b.rows > 0) {
      if (totals.min === '' || b.commitTs.min < totals.min) totals.min = b.commitTs.min;
      if (b.commitTs.max > totals.max) totals.max = b.commitTs.max;
    }
  };

  try {
    reading: for await (const page of readAhead(deps.bus.read(sub.resource, fromSeq, intent.toSeq, { signal }))) {
      for (const e of page) {
        if (e.target !== undefined && e.target !== sub.id) {
          lastSeq = BigInt(e.seq);
          continue;
        }
        if (version === undefined) {
          version = e.schemaVersion;
          run = await setup(version);
        } else if (e.schemaVersion !== version) break reading;
        pending.push(e);
        first ??= e;
        last = e;
        lastSeq = BigInt(e.seq);
        if (pending.length >= (sub.rowGroupRows ?? deps.sink.groupRows)) {
          const again = await step();
          if (again) return await restart(again);
        }
      }
    }
    const again = await step();
    if (again) return await restart(again);
    if (stats.held > 0) {
      deps.logger.warn('rows held back by the quality policy', {
        subscription: sub.id,
        held: stats.held,
        seqs: heldSeqs,
      });
    }
    if (totals.rows === 0 && emptyVersion !== undefined && !file.writer) {
      run ??= await setup(emptyVersion);
      pending = [];
      const b = buildBatchRows([], run.schema, run.masks, run.rules, optional);
      columns = b.columns;
      buffer = columns.map(() => []);
      file.writer = await openFile(columns);
      await file.writer.write(buffer, 0, signal);
    } else if (totals.rows === 0) {
      await file.writer?.abort();
      return { done: true, record: null, rows: 0, lastSeq, stats };
    }
    if (buffered > 0) await writeGroup(file.writer!, buffered);
    await settle();
    return { done: true, ...(await finish()), lastSeq, stats };
  } catch (e) {
    await settle().catch(() => {});
    await file.writer?.abort().catch(() => {});
    throw e;
  }

  function openFile(cols: ColumnSpec[]): Promise<BatchFileWriter> {
    return deps.sink.open({
      subscription: sub.id,
      columns: cols,
      compression: sub.compression,
      ...(sub.rowGroupRows ? { rowGroupRows: sub.rowGroupRows } : {}),
      ...(sub.partBytes ? { partBytes: sub.partBytes } : {}),
    });
  }

  async function restart(with_: OptionalColumns): Promise<RunOutcome> {
    await settle().catch(() => {});
    await file.writer?.abort();
    file.writer = null;
    return { done: false, optional: with_ };
  }

  async function finish(): Promise<{ record: DeliveryRecord; rows: number }> {
    const { schema, masks, secrets } = run!;
    // a state (snapshot mode) covers the intent's whole range; its name says it is one, and its version when the
    // state spans several (one file per version)
    const firstSeq = snapshot ? intent.fromSeq + 1n : BigInt(first!.seq);
    const lastEventSeq = snapshot ? intent.toSeq : BigInt(last!.seq);
    const several = snapshot && (net?.versions().size ?? 0) > 1;
    const stem = snapshot
      ? `${tickLabel(intent.tick)}_snapshot${several ? `.v${schema.version}` : ''}`
      : batchStem(intent.tick, firstSeq, lastEventSeq);
    // a re-delivery names the originals it overlaps, and is told apart from them by its time
    const again = intent.redeliveryOf
      ?.filter((o) => BigInt(o.lastSeq) >= firstSeq && BigInt(o.firstSeq) <= lastEventSeq)
      .map((o) => o.deliveryId);
    const deliveryId = snapshot
      ? `${sub.id}:${stem}`
      : `${sub.id}:${firstSeq}-${lastEventSeq}${again ? `@${stem.slice(0, stem.indexOf('_'))}` : ''}`;
    const receipt = await file.writer!.finish({
      stem,
      metadata: {
        'sluice.subscription': sub.id,
        'sluice.resource': sub.resource,
        'sluice.schema_version': String(schema.version),
        'sluice.seq_first': firstSeq.toString(),
        'sluice.seq_last': lastEventSeq.toString(),
        'sluice.tick': intent.tick,
      },
      manifest: (parts): Manifest => ({
        format: MANIFEST_FORMAT,
        deliveryId,
        subscription: sub.id,
        subscriber: sub.subscriber,
        resource: sub.resource,
        provider: sub.provider,
        grantId: sub.grantId,
        purpose: sub.purpose,
        businessSystem: sub.businessSystem,
        incremental: sub.incremental ?? 'changes',
        ...(net && !snapshot ? { netted: stats.netted } : {}),
        schemaVersion: schema.version,
        tick: intent.tick,
        window: { from: intent.windowFrom, to: intent.tick },
        seq: { first: firstSeq.toString(), last: lastEventSeq.toString() },
        position: { first: first?.position ?? '', last: last?.position ?? '' },
        commitTs: { min: totals.min, max: totals.max },
        rows: totals.rows,
        ops: totals.ops,
        columns: columns!.map((c, i) => {
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
        ...(again ? { redeliveryOf: again } : {}),
        parts,
        quality: [...notes.fallbacks, ...notes.unrepresentable, ...notes.unparseable, ...notes.failures],
      }),
    });
    return {
      rows: totals.rows,
      record: {
        deliveryId,
        subscription: sub.id,
        stem,
        firstSeq,
        lastSeq: lastEventSeq,
        rows: totals.rows,
        manifestSha256: receipt.manifestSha256,
        parts: receipt.parts.map((p) => ({ file: p.file, sha256: p.sha256, bytes: p.bytes })),
        ...(again ? { redeliveryOf: again } : {}),
        leaf: manifestLeaf(receipt.manifestText),
      },
    };
  }
}

/** Adds a finished run's stats to the cycle's result. */
export function addRunStats(result: CycleResult, s: RunStats): void {
  const add = (into: Record<string, number>, k: string, n: number) => (into[k] = (into[k] ?? 0) + n);
  for (const [k, n] of Object.entries(s.masked)) add(result.masked, k, n);
  for (const [k, n] of Object.entries(s.quality)) add(result.quality, k, n);
  result.filteredOut += s.filteredOut;
  result.held += s.held;
  result.netted += s.netted;
}

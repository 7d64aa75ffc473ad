/**
 * Shared fixture of the batch cycle's unit tests (batch-cycle.test.ts, redelivery.test.ts): a `people` resource in
 * two schema versions, a subscription granted by the real rules, the in-memory bus, state store and sink.
 */
import type { ResourceConfig, SourceEvent, SubscriptionConfig } from '../../schemas/index.ts';
import { DEFAULT_MASKING } from '../masking/index.ts';
import { silentLogger, type ResourceSchema } from '../ports/index.ts';
import { decideGrant } from '../rules/grant.ts';
import { runBatchCycle, type BatchSubscription, type CycleDeps, type CyclePoint } from '../delivery/batch-cycle.ts';
import { testPosition } from './bus-conformance.ts';
import { MemoryBatchSink, type WrittenFile } from './memory-batch-sink.ts';
import { MemoryBus } from './memory-bus.ts';
import { MemoryStateStore } from './memory-state-store.ts';

export const TICK = new Date('2026-12-03T16:00:00.000Z');
export const TICK2 = new Date('2026-12-03T17:00:00.000Z');

export const V1: Omit<ResourceSchema, 'version'> = {
  resource: 'people',
  columns: [
    { name: 'id', type: { kind: 'int64' }, sourceType: 'bigint' },
    { name: 'name', type: { kind: 'utf8' }, sourceType: 'text' },
    { name: 'mobile', type: { kind: 'utf8' }, sourceType: 'text' },
    { name: 'id_card', type: { kind: 'utf8' }, sourceType: 'character(18)' },
    { name: 'salary', type: { kind: 'decimal', precision: 12, scale: 2 }, sourceType: 'numeric(12,2)' },
  ],
  key: ['id'],
};
export const V2: Omit<ResourceSchema, 'version'> = {
  ...V1,
  columns: [...V1.columns, { name: 'email', type: { kind: 'utf8' }, sourceType: 'text' }],
};

export const RESOURCE: ResourceConfig = {
  id: 'people',
  provider: 'civil',
  table: 'public.people',
  key: ['id'],
  fields: {
    id: { level: 'general', share: 'unconditional' },
    name: { level: 'important', tag: 'person_name', share: 'unconditional' },
    mobile: { level: 'important', tag: 'cn_mobile', share: 'conditional' },
    id_card: { level: 'important', tag: 'cn_id_card', share: 'unconditional' },
    salary: { level: 'core', share: 'unconditional' },
    email: { level: 'general', share: 'unconditional' },
  },
};

export const SUBSCRIPTION: SubscriptionConfig = {
  id: 'audit-people',
  subscriber: 'audit',
  resource: 'people',
  fields: ['id', 'name', 'mobile', 'id_card', 'salary', 'email'],
  masks: { mobile: 'hash' },
  purpose: 'audit',
  businessSystem: 'audit-sys',
  delivery: { mode: 'batch', cadence: '0 * * * *', dir: 'out' },
};

export function subscription(over: Partial<BatchSubscription> = {}): BatchSubscription {
  const grant = decideGrant(RESOURCE, { id: 'audit', clearance: 3 }, SUBSCRIPTION, DEFAULT_MASKING);
  return {
    id: SUBSCRIPTION.id,
    subscriber: 'audit',
    resource: 'people',
    provider: 'civil',
    purpose: 'audit',
    businessSystem: 'audit-sys',
    grantId: 'config:audit-people',
    fields: grant.fields,
    compression: 'zstd',
    maxRowsPerFile: 1000,
    ...over,
  };
}

export type Ev = Pick<SourceEvent, 'op' | 'key'> & Partial<SourceEvent>;

export async function setup(over: Partial<BatchSubscription> = {}, groupRows?: number) {
  const bus = new MemoryBus();
  const state = new MemoryStateStore();
  const sink = new MemoryBatchSink(groupRows ? { groupRows } : {});
  const sub = subscription(over);
  await state.registerSchema(V1);
  const deps: CycleDeps = { bus, state, sink, logger: silentLogger };
  let n = 0;
  const append = (events: Ev[]) =>
    bus.append(
      'src',
      events.map((e) => {
        n++;
        return {
          resource: 'people',
          position: testPosition(0x1000n + BigInt(n), 0),
          commitTs: `2025-12-03T15:00:${String(n).padStart(2, '0')}.00000${n % 10}Z`,
          txId: String(700 + n),
          schemaVersion: 1,
          ...e,
        };
      }),
    );
  const run = (tick: Date, checkpoint?: (p: CyclePoint) => void) =>
    runBatchCycle(sub, tick, checkpoint ? { ...deps, checkpoint } : deps);
  return { bus, state, sink, sub, deps, append, run };
}

export function col(file: WrittenFile, name: string): (string | null)[] {
  const i = file.columns.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`no column ${name}`);
  return file.values[i]!;
}

export const ins = (id: string, row: Record<string, string | null> = {}): Ev => ({
  op: 'c',
  key: { id },
  after: { id, name: '欧阳娜娜', mobile: '13812345678', id_card: '11010519491231002X', salary: '100.00', ...row },
});

import type { Config } from '../../schemas/index.ts';

/** A relief-recipients config against the given provider and state URLs; cadence yearly unless given. */
export function reliefConfig(opts: {
  dataDir: string;
  providerUrl: string;
  stateUrl: string;
  outDir: string;
  cadence?: string;
  clearance?: number;
}): Config {
  return {
    dataDir: opts.dataDir,
    state: { url: opts.stateUrl },
    bus: { kind: 'postgres' },
    api: { listen: '127.0.0.1:0' },
    drainTimeout: '20s',
    providers: [{ id: 'civil-affairs', connector: { kind: 'postgres', url: opts.providerUrl } }],
    resources: [
      {
        id: 'relief-recipients',
        provider: 'civil-affairs',
        table: 'public.relief_recipients',
        key: ['id'],
        fields: {
          id: { level: 'general', share: 'unconditional' },
          name: { level: 'important', tag: 'person_name', share: 'conditional' },
          id_card: { level: 'important', tag: 'cn_id_card', share: 'conditional' },
          mobile: { level: 'important', tag: 'cn_mobile', share: 'conditional' },
          amount: { level: 'general', share: 'unconditional' },
          big: { level: 'general', share: 'unconditional' },
          paid_at: { level: 'general', share: 'unconditional' },
          notes: { level: 'general', share: 'unconditional' },
          diagnosis: { level: 'core', share: 'none' },
        },
      },
    ],
    subscribers: [{ id: 'audit-office', clearance: opts.clearance ?? 3, adminLevel: 'municipal' }],
    masking: {
      core: { default: 'deny' },
      important: { '4': 'clear', '3': 'partial', default: 'hash' },
      general: { default: 'clear' },
    },
    subscriptions: [
      {
        id: 'audit-relief',
        subscriber: 'audit-office',
        resource: 'relief-recipients',
        fields: ['id', 'name', 'id_card', 'mobile', 'amount', 'big', 'paid_at', 'notes'],
        masks: { mobile: 'hash' },
        purpose: 'relief-audit',
        businessSystem: 'audit-analytics',
        delivery: {
          mode: 'batch',
          cadence: opts.cadence ?? '0 0 1 1 *',
          timezone: 'Asia/Shanghai',
          incremental: 'changes',
          dir: opts.outDir,
        },
      },
    ],
  };
}

export const RELIEF_DDL = `
  create table public.relief_recipients (
    id bigint primary key,
    name text,
    id_card char(18),
    mobile text,
    amount numeric(20,4),
    big bigint,
    paid_at timestamptz,
    notes text,
    diagnosis text,
    secret_note text
  )`;

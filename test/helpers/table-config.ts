import type { Config } from '../../schemas/index.ts';

/**
 * A config with one provider, one resource on `table` whose fields are all general / unconditional (delivered in
 * clear), and one batch subscription to all of them (yearly cadence: cycles run on demand in tests).
 */
export function tableConfig(opts: {
  dataDir: string;
  providerUrl: string;
  stateUrl: string;
  outDir: string;
  table: string;
  key: string[];
  fields: string[];
  resource?: string;
}): Config {
  const resource = opts.resource ?? 'things';
  return {
    dataDir: opts.dataDir,
    state: { url: opts.stateUrl },
    bus: { kind: 'postgres' },
    api: { listen: '127.0.0.1:0' },
    drainTimeout: '20s',
    providers: [{ id: 'prov', connector: { kind: 'postgres', url: opts.providerUrl } }],
    resources: [
      {
        id: resource,
        provider: 'prov',
        table: opts.table,
        key: opts.key,
        fields: Object.fromEntries(
          opts.fields.map((f) => [f, { level: 'general' as const, share: 'unconditional' as const }]),
        ),
      },
    ],
    subscribers: [{ id: 'auditor', clearance: 4, adminLevel: 'national' }],
    masking: { core: { default: 'deny' }, important: { default: 'hash' }, general: { default: 'clear' } },
    subscriptions: [
      {
        id: 'all',
        subscriber: 'auditor',
        resource,
        fields: opts.fields,
        purpose: 'audit',
        businessSystem: 'tests',
        delivery: {
          mode: 'batch',
          cadence: '0 0 1 1 *',
          timezone: 'UTC',
          incremental: 'changes',
          dir: opts.outDir,
        },
      },
    ],
  };
}

import { join } from 'node:path';
import { stringify } from 'yaml';

/** The demo's effective config, with absolute paths, written to `<dataDir>/demo.yaml` for reuse with `sluice run -c`. */
export function demoConfigYaml(opts: {
  dataDir: string;
  providerUrl: string;
  cadence: string;
  /** `--chain`: the local anvil, the deployed contracts and the three organisations' accounts. */
  chain?: { rpc: string; policy: string; anchor: string; provider: string; subscriber: string };
}): string {
  const cfg = {
    dataDir: opts.dataDir,
    bus: { kind: 'postgres' },
    api: { listen: '127.0.0.1:0' },
    providers: [
      {
        id: 'civil-affairs',
        title: 'Civil Affairs Bureau',
        connector: { kind: 'postgres', url: opts.providerUrl },
        ...(opts.chain ? { account: opts.chain.provider } : {}),
      },
    ],
    resources: [
      {
        id: 'relief-recipients',
        title: 'Minimum living allowance recipients',
        provider: 'civil-affairs',
        table: 'public.relief_recipients',
        key: ['id'],
        fields: {
          id: { level: 'general', share: 'unconditional' },
          name: { level: 'important', tag: 'person_name', share: 'conditional' },
          id_card: { level: 'important', tag: 'cn_id_card', share: 'conditional' },
          mobile: { level: 'important', tag: 'cn_mobile', share: 'conditional' },
          amount: { level: 'general', share: 'unconditional' },
          updated_at: { level: 'general', share: 'unconditional' },
          diagnosis: { level: 'core', share: 'none' },
        },
      },
    ],
    subscribers: [
      {
        id: 'audit-office',
        title: 'Municipal Audit Office',
        clearance: 3,
        adminLevel: 'municipal',
        ...(opts.chain ? { account: opts.chain.subscriber } : {}),
      },
    ],
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
        fields: ['id', 'name', 'id_card', 'mobile', 'amount', 'updated_at'],
        masks: { mobile: 'hash' },
        purpose: 'relief-audit',
        businessSystem: 'audit-analytics',
        delivery: {
          mode: 'batch',
          cadence: opts.cadence,
          timezone: 'Asia/Shanghai',
          incremental: 'changes',
          format: 'parquet',
          dir: join(opts.dataDir, 'out'),
        },
      },
    ],
    ...(opts.chain
      ? {
          chain: {
            rpc: opts.chain.rpc,
            operatorKey: 'env:SLUICE_DEMO_OPERATOR_KEY',
            policy: opts.chain.policy,
            anchor: opts.chain.anchor,
            anchorEvery: { leaves: 1, interval: '10s' },
          },
        }
      : {}),
  };
  return (
    '# Written by `sluice demo`: the effective config of the demo, reusable with `npx sluice run -c <this file>`\n' +
    '# (the provider database lives in the embedded PostgreSQL under dataDir, started by `run` as well).\n' +
    stringify(cfg, { lineWidth: 120 })
  );
}

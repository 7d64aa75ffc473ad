import test from 'ava';
import { JsonRpcProvider, Wallet, type Contract, type ContractTransactionResponse } from 'ethers';
import fc from 'fast-check';
import {
  applicationInput,
  decodeOutcome,
  hashString,
  maskingInput,
  resourceInput,
  subscriberInput,
  usageInput,
} from '../contracts/encode.ts';
import { deliveryAnchor, deployContracts, sharingPolicy } from '../contracts/deploy.ts';
import { revertReason } from '../contracts/revert.ts';
import { parseInstant } from '../engine/rules/decision-time.ts';
import { decide, type Application, type FieldPolicy, type MaskingPolicy } from '../engine/rules/decision.ts';
import {
  application,
  fields as arbFields,
  policy as arbPolicy,
  usage as arbUsage,
} from '../engine/testing/decision-arbitraries.ts';
import { anvilKey, startAnvil, type Anvil } from '../ops/chain/anvil.ts';
import { DECISION_EXAMPLES } from '../engine/testing/decision-examples.ts';

/**
 * SharingPolicy and DeliveryAnchor on a real EVM (anvil from npm, on a random port), through ethers: the decision
 * table every implementation shares, ≥ 1,000 random applications decided by the contract (eth_call) and by the
 * TypeScript evaluator field by field, who may call what, the events, revocation, changed conditions, gas.
 */

const EXAMPLES = DECISION_EXAMPLES;

let anvil: Anvil;
let rpc: JsonRpcProvider;
let operator: Wallet;
let provider: Wallet;
let subscriber: Wallet;
let stranger: Wallet;
let policyAddress: string;
let anchorAddress: string;
let deployGas: { policy: bigint; anchor: bigint };

test.before(async () => {
  anvil = await startAnvil();
  rpc = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  [operator, provider, subscriber, stranger] = [0, 1, 2, 3].map((i) => new Wallet(anvilKey(i), rpc)) as [
    Wallet,
    Wallet,
    Wallet,
    Wallet,
  ];
  const d = await deployContracts(operator);
  ({ policy: policyAddress, anchor: anchorAddress, gas: deployGas } = d);
  const p = sharingPolicy(policyAddress, operator);
  await mined(p.registerProvider!(hashString('civil-affairs'), provider.address));
});

test.after.always(async () => {
  rpc?.destroy();
  await anvil?.stop();
});

const mined = async (tx: Promise<ContractTransactionResponse>) => (await (await tx).wait())!;
const as = (who: Wallet): Contract => sharingPolicy(policyAddress, who);
let resources = 0;

/** Sets the masking policy and registers `fields` as a fresh resource; returns its id. */
async function setup(policy: MaskingPolicy, fields: Record<string, FieldPolicy>): Promise<string> {
  const m = maskingInput(policy.matrix, policy.tags);
  await mined(as(operator).setMasking!(m.rows, m.tags, m.tagRows));
  const resource = `res-${resources++}`;
  await mined(as(provider).registerResource!(hashString(resource), hashString('civil-affairs'), resourceInput(fields)));
  return resource;
}

/** The contract's decision (eth_call, nothing mined) in the evaluator's shape. */
async function onChain(resource: string, app: Application, usage?: ReadonlyMap<string, number>) {
  const at = parseInstant(app.at)!;
  const codes = (await as(operator).decide!(
    applicationInput({ ...app, resource }),
    subscriberInput(app.subscriber),
    at,
    usageInput(app.fields, usage),
  )) as bigint[];
  return decodeOutcome(app.fields, codes);
}

const offChain = (
  app: Application,
  fields: Record<string, FieldPolicy>,
  policy: MaskingPolicy,
  usage?: ReadonlyMap<string, number>,
) => {
  const d = decide(app, fields, policy, usage);
  return {
    granted: d.granted.map((g) => ({ name: g.name, strategy: g.strategy })),
    denied: d.denied.map((x) => ({ field: x.field, index: x.index, reason: x.reason })),
  };
};

test.serial('the shared decision table: the contract decides every example as specified', async (t) => {
  let n = 0;
  for (const group of EXAMPLES.groups) {
    const resource = await setup(group.policy, group.fields);
    for (const ex of group.examples) {
      const usage = ex.usage ? new Map(Object.entries(ex.usage)) : undefined;
      t.deepEqual(await onChain(resource, ex.application, usage), ex.expected, ex.name);
      n++;
    }
  }
  t.true(n >= 90, `${n} examples`);
});

test.serial('differential: 1,000 random applications, contract and evaluator agree field by field', async (t) => {
  const samples = fc.sample(
    fc.tuple(arbPolicy, arbFields, fc.array(fc.tuple(application, arbUsage), { minLength: 25, maxLength: 25 })),
    {
      numRuns: 40,
      seed: 20261204,
    },
  );
  let decided = 0;
  let granted = 0;
  const reasons = new Map<string, number>();
  for (const [policy, fields, apps] of samples) {
    const resource = await setup(policy, fields);
    for (const [app, usage] of apps) {
      const expected = offChain(app, fields, policy, usage);
      const got = await onChain(resource, app, usage);
      t.deepEqual(got, expected, JSON.stringify({ policy, fields, app, usage: [...usage] }));
      decided++;
      granted += expected.granted.length;
      for (const d of expected.denied) reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
    }
  }
  t.is(decided, 1000);
  t.log(
    `${decided} applications, all alike: ${granted} fields granted; denied ${JSON.stringify(Object.fromEntries(reasons))}`,
  );
  t.true(granted >= 100, 'grants well represented');
  t.is(reasons.size, 13, 'every denial reason occurred');
});

const RELIEF: Record<string, FieldPolicy> = {
  id: { level: 'general', share: 'unconditional' },
  name: { level: 'important', tag: 'person_name', share: 'conditional', conditions: { purposes: ['relief-audit'] } },
  id_card: { level: 'important', tag: 'cn_id_card', share: 'conditional', conditions: { adminLevels: ['municipal'] } },
  mobile: { level: 'important', tag: 'cn_mobile', share: 'conditional', conditions: { minClearance: 3 } },
  amount: { level: 'general', share: 'unconditional' },
  paid_at: { level: 'general', share: 'conditional', conditions: { validUntil: '2099-01-01T00:00:00Z' } },
  notes: { level: 'general', share: 'conditional', conditions: { organisations: ['ORG-AUDIT'], maxDeliveries: 10 } },
  big: { level: 'general', share: 'unconditional' },
  diagnosis: { level: 'core', share: 'none' },
};
const MATRIX: MaskingPolicy = {
  matrix: {
    core: { default: 'deny' },
    important: { '4': 'clear', '3': 'partial', default: 'hash' },
    general: { default: 'clear' },
  },
};
const AUDIT = { id: 'audit-office', organisation: 'ORG-AUDIT', adminLevel: 'municipal' as const, clearance: 3 };
const REQUEST = {
  fields: ['id', 'name', 'id_card', 'mobile', 'amount', 'paid_at', 'notes', 'diagnosis'],
  purpose: 'relief-audit',
  businessSystem: 'audit-analytics',
};

test.serial('who may call what: operator, provider and attested subscriber only', async (t) => {
  const resource = await setup(MATRIX, RELIEF);
  const app = applicationInput({ ...REQUEST, resource });
  const reverts = async (p: Promise<unknown>, error: string) => {
    const e = await t.throwsAsync(p);
    t.regex(revertReason(e, as(operator).interface), new RegExp(`^${error}\\(`), error);
  };
  await reverts(as(stranger).registerProvider!(hashString('x'), stranger.address), 'NotOperator');
  await reverts(as(stranger).attest!(stranger.address, subscriberInput(AUDIT)), 'NotOperator');
  const m = maskingInput(MATRIX.matrix);
  await reverts(as(provider).setMasking!(m.rows, m.tags, m.tagRows), 'NotOperator');
  // a resource belongs to the provider that registered it
  await reverts(
    as(stranger).registerResource!(hashString(resource), hashString('civil-affairs'), resourceInput(RELIEF)),
    'NotProvider',
  );
  await mined(as(operator).registerProvider!(hashString('health'), stranger.address));
  await reverts(
    as(stranger).registerResource!(hashString(resource), hashString('health'), resourceInput({})),
    'NotProvider',
  );
  await reverts(as(stranger).registerResource!(hashString('r'), hashString('nobody'), []), 'UnknownProvider');
  // subscribers' attributes are attested, not self-declared
  await reverts(as(stranger).applyFor!(hashString('sub-x'), app), 'NotAttested');
  await mined(as(operator).attest!(subscriber.address, subscriberInput(AUDIT)));
  await mined(as(subscriber).applyFor!(hashString('sub-roles'), app));
  await mined(as(operator).attest!(stranger.address, subscriberInput({ id: 'other', clearance: 4 })));
  await reverts(as(stranger).applyFor!(hashString('sub-roles'), app), 'SubscriptionOfAnother');
  await reverts(as(subscriber).revoke!(hashString('sub-roles'), []), 'NotProvider');
  await reverts(as(provider).revoke!(hashString('sub-none'), []), 'UnknownSubscription');
  const anchor = deliveryAnchor(anchorAddress, stranger);
  await reverts(anchor.anchor!(1, `0x${'11'.repeat(32)}`), 'NotOperator');
});

test.serial(
  'apply → Granted/Denied events; revocation and changed conditions reach existing grants; gas',
  async (t) => {
    const resource = await setup(MATRIX, RELIEF);
    await mined(as(operator).attest!(subscriber.address, subscriberInput(AUDIT)));
    const sub = hashString('audit-relief');
    const receipt = await mined(as(subscriber).applyFor!(sub, applicationInput({ ...REQUEST, resource })));
    const p = as(operator);
    const events = receipt.logs.map((l) => p.interface.parseLog(l)!);
    const byName = (n: string) => events.filter((e) => e.name === n);
    t.is(byName('Applied').length, 1);
    const names = new Map(REQUEST.fields.map((f) => [hashString(f), f]));
    t.deepEqual(
      byName('Granted').map((e) => [names.get(e.args.field as string), Number(e.args.strategy)]),
      [
        ['id', 0],
        ['name', 1],
        ['id_card', 1],
        ['mobile', 1],
        ['amount', 0],
        ['paid_at', 0],
        ['notes', 0],
      ],
      'granted with the strategy of clearance 3 (partial for important data)',
    );
    t.deepEqual(
      byName('Denied').map((e) => [names.get(e.args.field as string), Number(e.args.reason)]),
      [['diagnosis', 2]],
      'share: none',
    );
    const current = async () => {
      const [, fields, outcome] = (await p.currentDecision!(sub, [])) as [string, string[], bigint[]];
      return decodeOutcome(
        fields.map((f) => names.get(f)!),
        outcome,
      );
    };
    t.deepEqual(
      (await current()).granted.map((g) => g.name),
      ['id', 'name', 'id_card', 'mobile', 'amount', 'paid_at', 'notes'],
    );

    // the provider revokes two fields: Revoked events, and the current decision says so
    const rev = await mined(as(provider).revoke!(sub, [hashString('mobile'), hashString('notes')]));
    t.deepEqual(
      rev.logs.map((l) => p.interface.parseLog(l)!).map((e) => [e.name, names.get(e.args.field as string)]),
      [
        ['Revoked', 'mobile'],
        ['Revoked', 'notes'],
      ],
    );
    t.deepEqual(
      (await current()).denied.map((d) => [d.field, d.reason]),
      [
        ['mobile', 'revoked'],
        ['notes', 'revoked'],
        ['diagnosis', 'share-none'],
      ],
    );

    // a changed condition applies to the existing grant at once: name now only for another purpose, id_card expired
    const changed: Record<string, FieldPolicy> = {
      ...RELIEF,
      name: { ...RELIEF.name!, conditions: { purposes: ['other'] } },
      id_card: { ...RELIEF.id_card!, conditions: { validUntil: '2020-01-01T00:00:00Z' } },
    };
    const reg = await mined(
      as(provider).registerResource!(hashString(resource), hashString('civil-affairs'), resourceInput(changed)),
    );
    t.deepEqual(
      (await current()).denied.map((d) => [d.field, d.reason]),
      [
        ['name', 'purpose'],
        ['id_card', 'expired'],
        ['mobile', 'revoked'],
        ['notes', 'revoked'],
        ['diagnosis', 'share-none'],
      ],
    );
    // maxDeliveries is counted off chain: the engine passes its usage counts to the same decision
    const [, fields, withUsage] = (await p.currentDecision!(sub, [0, 0, 0, 0, 0, 0, 10, 0])) as [
      string,
      string[],
      bigint[],
    ];
    t.is(Number(withUsage[fields.indexOf(hashString('notes'))]), 29, 'revoked wins over the count');

    // gas: one registration of 9 fields, one application of 8, one revocation of 2, one checkpoint
    const anchor = deliveryAnchor(anchorAddress, operator);
    const a1 = await mined(anchor.anchor!(10, `0x${'ab'.repeat(32)}`));
    const a2 = await mined(anchor.anchor!(25, `0x${'ab'.repeat(32)}`));
    const stale = await t.throwsAsync(anchor.anchor!(25, `0x${'cd'.repeat(32)}`));
    t.is(revertReason(stale, anchor.interface), 'NotGrowing(25, 25)');
    t.deepEqual(
      [...((await anchor.latest!()) as [bigint, string])],
      [25n, `0x${'ab'.repeat(32)}`],
      'the latest checkpoint in storage; a size that does not grow is refused',
    );
    t.log(
      `gas: deploy SharingPolicy ${deployGas.policy}, DeliveryAnchor ${deployGas.anchor}; registerResource (9 fields) ${reg.gasUsed}; ` +
        `applyFor (8 fields) ${receipt.gasUsed}; revoke (2 fields) ${rev.gasUsed}; anchor: first ${a1.gasUsed}, then ${a2.gasUsed}`,
    );
    t.true(a2.gasUsed < 50_000n, 'a checkpoint is one cheap transaction');
  },
);

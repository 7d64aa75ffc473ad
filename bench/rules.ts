/**
 * Benchmark: rule evaluation per core — masking strategies, row filter and quality checks on the runtime path.
 *
 * N change events (inserts, full after image) of a 12-column resource with realistic values — bigint ids, Chinese
 * names, GB 11643 resident IDs (generateResidentId), mobiles, 19-digit bank cards, numeric(20,2) amounts, dates,
 * timestamptz values, division codes, addresses, a status code — go through exactly what a batch cycle runs:
 * the grant (decideGrant) and `compileFieldMasks` once per subscription, the row rules as ops/runtime/row-rules.ts
 * compiles them, then `buildBatchRows(events, schema, masks, rules)` per batch of BENCH_RULES_BATCH events. One
 * thread (the process is single-threaded): every figure is per core.
 *
 * Scenarios (each timed over all N events, median of BENCH_RUNS after one warm-up run, runs interleaved):
 *   ref        all 12 columns clear, no filter, no quality — the reference every ratio is against
 *   partial    8 clear + 4 partial (name, id_card, mobile, bank_card)
 *   generalize 8 clear + 4 generalize (birth_date → year, paid_at → year, amount → buckets, id_card → region+year)
 *   mixed      6 clear + 3 partial + 3 generalize
 *   +hash      mixed + address hashed (HMAC-SHA256);  +encrypt  mixed + address encrypted (AES-256-GCM)
 *              → added µs per value = (t_with − t_mixed) / N, next to raw node:crypto loops over the same values
 *   filter     ref + `amount > 500 and region in ('110105','110108')`
 *   quality    ref + the resource's quality checks (compileQualityChecks(qualityRules(…)), onFailure flag)
 *   runtime    mixed + filter + quality (what a subscription with a filter really runs)
 * Fan-out: BENCH_RULES_SUBSCRIPTIONS (100) subscriptions, each with its own keys, over the same first
 * BENCH_RULES_FANOUT_ROWS events, batch by batch: (a) all with the mixed masks, (b) cycling through ref, partial,
 * generalize, mixed and +hash; compared with the sum of the single-subscription times (linear scaling = 1.00).
 *
 *   npm run bench -- rules                                        # ~4 min here (the fan-out is most of it)
 *   BENCH_RULES_ROWS=50000 BENCH_RUNS=3 BENCH_RULES_FANOUT_ROWS=10000 npm run bench -- rules   # a quick one
 *
 * BENCH_RULES_ROWS (200000), BENCH_RUNS (5: medians), BENCH_RULES_BATCH (10000), BENCH_RULES_SUBSCRIPTIONS (100),
 * BENCH_RULES_FANOUT_ROWS (20000), BENCH_RULES_SEED (1: the data are generated from a seeded PRNG).
 * Results are printed and written to bench/results/rules.json (not committed).
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBatchRows, type RowRules } from '../engine/delivery/batch-rows.ts';
import { compileFieldMasks, type FieldMask, type FieldMaskKeys } from '../engine/delivery/field-masks.ts';
import {
  generateResidentId,
  type GeneralizeOptions,
  type MaskingMatrix,
  type Strategy,
} from '../engine/masking/index.ts';
import type { ResourceSchema } from '../engine/ports/index.ts';
import { decideGrant } from '../engine/rules/grant.ts';
import { rowRules } from '../ops/runtime/row-rules.ts';
import type { ChangeEvent, ResourceConfig, SubscriberConfig, SubscriptionConfig } from '../schemas/index.ts';
import { GIVEN_NAMES, SURNAMES } from '../engine/testing/sample-names.ts';
import { prng } from '../engine/testing/prng.ts';

const N = Number(process.env.BENCH_RULES_ROWS ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BATCH = Number(process.env.BENCH_RULES_BATCH ?? 10_000);
const SUBS = Number(process.env.BENCH_RULES_SUBSCRIPTIONS ?? 100);
const FANOUT_ROWS = Math.min(N, Number(process.env.BENCH_RULES_FANOUT_ROWS ?? 20_000));
const SEED = Number(process.env.BENCH_RULES_SEED ?? 1);
const AIM_ROWS_PER_SEC = 300_000;
const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, 'results', 'rules.json');

const FILTER = "amount > 500 and region in ('110105','110108')";
/** The column that gets `hash` or `encrypt` on top of the mixed masks. */
const CRYPTO_COLUMN = 'address';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');

// --- the resource ---------------------------------------------------------------------------------------------

const REGIONS: Record<string, { name: string; prefix: string; streets: string[] }> = {
  '110101': { name: '东城区', prefix: '北京市东城区', streets: ['东华门街道', '景山街道', '和平里街道'] },
  '110105': { name: '朝阳区', prefix: '北京市朝阳区', streets: ['建国路', '朝阳门外大街', '望京街道'] },
  '110108': { name: '海淀区', prefix: '北京市海淀区', streets: ['中关村大街', '学院路', '万寿路街道'] },
  '310101': { name: '黄浦区', prefix: '上海市黄浦区', streets: ['南京东路', '外滩街道', '豫园街道'] },
  '440106': { name: '天河区', prefix: '广东省广州市天河区', streets: ['天河路', '体育西路', '珠江新城'] },
  '510104': { name: '锦江区', prefix: '四川省成都市锦江区', streets: ['春熙路', '东大街', '书院街街道'] },
  '330106': { name: '西湖区', prefix: '浙江省杭州市西湖区', streets: ['文三路', '北山街道', '灵隐街道'] },
};
const REGION_CODES = Object.keys(REGIONS);
const STATUS = { '1': '在册', '2': '暂停发放', '3': '已注销' };

export const SCHEMA: ResourceSchema = {
  resource: 'relief-payments',
  version: 1,
  key: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, sourceType: 'bigint' },
    { name: 'name', type: { kind: 'utf8' }, sourceType: 'character varying(32)' },
    { name: 'id_card', type: { kind: 'utf8' }, sourceType: 'character(18)' },
    { name: 'mobile', type: { kind: 'utf8' }, sourceType: 'character varying(11)' },
    { name: 'bank_card', type: { kind: 'utf8' }, sourceType: 'character varying(19)' },
    { name: 'amount', type: { kind: 'decimal', precision: 20, scale: 2 }, sourceType: 'numeric(20,2)' },
    { name: 'birth_date', type: { kind: 'date' }, sourceType: 'date' },
    { name: 'paid_at', type: { kind: 'timestamp', tz: 'UTC' }, sourceType: 'timestamp with time zone' },
    { name: 'region', type: { kind: 'utf8' }, sourceType: 'character(6)' },
    { name: 'address', type: { kind: 'utf8' }, sourceType: 'character varying(128)' },
    { name: 'status', type: { kind: 'utf8' }, sourceType: 'character(1)' },
    { name: 'updated_at', type: { kind: 'timestamp', tz: 'UTC' }, sourceType: 'timestamp with time zone' },
  ],
};
const FIELDS = SCHEMA.columns.map((c) => c.name);

const RESOURCE: ResourceConfig = {
  id: 'relief-payments',
  provider: 'civil-affairs',
  table: 'public.relief_payments',
  key: ['id'],
  fields: {
    id: { level: 'general', share: 'unconditional' },
    name: { level: 'important', tag: 'person_name', share: 'conditional', required: true },
    id_card: { level: 'important', tag: 'cn_id_card', share: 'conditional', required: true },
    mobile: { level: 'important', tag: 'cn_mobile', share: 'conditional' },
    bank_card: { level: 'important', tag: 'bank_card', share: 'conditional' },
    amount: { level: 'general', share: 'unconditional', generalize: { buckets: ['0', '100', '500', '1000', '2000'] } },
    birth_date: { level: 'general', share: 'unconditional', generalize: { date: 'year' } },
    paid_at: { level: 'general', share: 'unconditional', generalize: { date: 'year' } },
    region: {
      level: 'general',
      share: 'unconditional',
      codeTable: Object.fromEntries(REGION_CODES.map((c) => [c, REGIONS[c]!.name])),
    },
    address: { level: 'important', tag: 'address', share: 'conditional' },
    status: { level: 'general', share: 'unconditional', codeTable: STATUS },
    updated_at: { level: 'general', share: 'unconditional' },
  },
};

/** The built-in matrix; the subscriber's clearance 4 makes every field clear unless a subscription mask tightens it. */
const MATRIX: MaskingMatrix = {
  core: { default: 'deny' },
  important: { '4': 'clear', '3': 'partial', default: 'hash' },
  general: { default: 'clear' },
};
const SUBSCRIBER: SubscriberConfig = { id: 'audit-office', clearance: 4, adminLevel: 'municipal' };

/** Generalize options per field, as ops/runtime/compile.ts (maskingOptions) gives them to the cycle. */
const GENERALIZE: Record<string, GeneralizeOptions> = Object.fromEntries(
  Object.entries(RESOURCE.fields).map(([n, f]) => [n, { ...(f.generalize as GeneralizeOptions | undefined) }]),
);

// --- the data -------------------------------------------------------------------------------------------------

export function makeEvents(n: number, seed: number): ChangeEvent[] {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const digits = (k: number) => {
    let s = '';
    for (let i = 0; i < k; i++) s += Math.floor(rand() * 10);
    return s;
  };
  const two = (x: number) => String(x).padStart(2, '0');
  const ts = (base: number) => {
    const d = new Date(base + Math.floor(rand() * 365 * 86_400_000));
    const us = String(Math.floor(rand() * 1_000_000)).padStart(6, '0');
    return `${d.toISOString().slice(0, 10)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${us}+00`;
  };
  const y2024 = Date.UTC(2024, 0, 1);
  const events: ChangeEvent[] = [];
  for (let i = 0; i < n; i++) {
    const id = String(i + 1);
    const region = pick(REGION_CODES);
    const idCard = generateResidentId(rand, { divisionCodes: REGION_CODES });
    const r = REGIONS[region]!;
    const after = {
      id,
      name: pick(SURNAMES) + pick(GIVEN_NAMES) + (rand() < 0.6 ? pick(GIVEN_NAMES) : ''),
      id_card: idCard,
      mobile: '1' + pick(['3', '5', '7', '8', '9']) + digits(9),
      bank_card: '6222' + digits(15),
      amount: (rand() * 2400).toFixed(2),
      birth_date: `${idCard.slice(6, 10)}-${idCard.slice(10, 12)}-${idCard.slice(12, 14)}`,
      paid_at: ts(y2024),
      region,
      address: `${r.prefix}${pick(r.streets)}${1 + Math.floor(rand() * 300)}号${1 + Math.floor(rand() * 20)}号楼${1 + Math.floor(rand() * 6)}单元${digits(3)}`,
      status: pick(['1', '1', '1', '1', '2', '3']),
      updated_at: ts(y2024),
    };
    const seq = String(i + 1);
    events.push({
      resource: SCHEMA.resource,
      op: 'c',
      key: { id },
      after,
      position: seq.padStart(16, '0'),
      seq,
      commitTs: new Date(y2024 + i).toISOString().replace('Z', '000Z'),
      txId: String(1000 + Math.floor(i / 100)),
      schemaVersion: 1,
    });
  }
  return events;
}

// --- scenarios ------------------------------------------------------------------------------------------------

type Masks = Record<string, Strategy>;
const PARTIAL: Masks = { name: 'partial', id_card: 'partial', mobile: 'partial', bank_card: 'partial' };
const GENERALIZED: Masks = {
  id_card: 'generalize',
  amount: 'generalize',
  birth_date: 'generalize',
  paid_at: 'generalize',
};
const MIXED: Masks = {
  name: 'partial',
  mobile: 'partial',
  bank_card: 'partial',
  id_card: 'generalize',
  amount: 'generalize',
  birth_date: 'generalize',
};

export interface Scenario {
  id: string;
  label: string;
  masks: Masks;
  filter?: boolean;
  quality?: boolean;
}

export const SCENARIOS: Scenario[] = [
  { id: 'ref', label: 'ref: 12 clear', masks: {} },
  { id: 'partial', label: '8 clear + 4 partial', masks: PARTIAL },
  { id: 'generalize', label: '8 clear + 4 generalize', masks: GENERALIZED },
  { id: 'mixed', label: 'mixed: 6 clear, 3 partial, 3 gen.', masks: MIXED },
  { id: 'hash', label: `mixed + ${CRYPTO_COLUMN} hash`, masks: { ...MIXED, [CRYPTO_COLUMN]: 'hash' } },
  { id: 'encrypt', label: `mixed + ${CRYPTO_COLUMN} encrypt`, masks: { ...MIXED, [CRYPTO_COLUMN]: 'encrypt' } },
  { id: 'filter', label: 'ref + row filter', masks: {}, filter: true },
  { id: 'quality', label: 'ref + quality checks (flag)', masks: {}, quality: true },
  { id: 'runtime', label: 'mixed + filter + quality', masks: MIXED, filter: true, quality: true },
];

export const newKeys = (): FieldMaskKeys => ({
  hash: new Uint8Array(randomBytes(32)),
  encrypt: new Uint8Array(randomBytes(32)),
});

/** The grant and the compiled masks of one subscription, as the batch cycle makes them. */
export function compileSubscription(id: string, masks: Masks, keys: FieldMaskKeys): FieldMask[] {
  const subscription: SubscriptionConfig = {
    id,
    subscriber: SUBSCRIBER.id,
    resource: RESOURCE.id,
    fields: FIELDS,
    masks,
    purpose: 'relief-audit',
    businessSystem: 'audit-analytics',
    delivery: { mode: 'batch', cadence: '0 0 * * *', incremental: 'changes', dir: '/dev/null' },
  };
  const grant = decideGrant(RESOURCE, SUBSCRIBER, subscription, MATRIX, '2025-01-01T00:00:00Z');
  if (grant.problems.length > 0) throw new Error(`${id}: ${grant.problems.map((p) => p.message).join('; ')}`);
  return compileFieldMasks(grant.fields, keys, { generalize: GENERALIZE, columns: SCHEMA.columns });
}

/** The row rules exactly as ops/runtime/row-rules.ts compiles them, then narrowed to what a scenario uses. */
const RUNTIME_RULES = rowRules(() => RESOURCE, FILTER)(SCHEMA);
export const rulesFor = (s: Pick<Scenario, 'filter' | 'quality'>): RowRules => ({
  ...(s.filter ? { filter: RUNTIME_RULES.filter! } : {}),
  ...(s.quality ? { quality: RUNTIME_RULES.quality! } : {}),
});

interface Tally {
  rows: number;
  filteredOut: number;
  qualityFailures: number;
  fallbacks: number;
  unrepresentable: number;
  masked: Record<string, number>;
}

function runBatches(batches: ChangeEvent[][], masks: FieldMask[], rules: RowRules, tally?: Tally): void {
  for (const b of batches) {
    const out = buildBatchRows(b, SCHEMA, masks, rules);
    if (tally) {
      tally.rows += out.rows;
      tally.filteredOut += out.filteredOut;
      tally.qualityFailures += out.qualityFailures.length;
      tally.fallbacks += out.maskFallbacks.length;
      tally.unrepresentable += out.unrepresentable.length;
      for (const [k, v] of Object.entries(out.masked)) tally.masked[k] = (tally.masked[k] ?? 0) + v;
    }
  }
}

const newTally = (): Tally => ({
  rows: 0,
  filteredOut: 0,
  qualityFailures: 0,
  fallbacks: 0,
  unrepresentable: 0,
  masked: {},
});

/** Process CPU time / wall time of each timed section: below ~1 the thread did not have a core to itself. */
const cpuShares: number[] = [];

function timed(f: () => void): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  cpuShares.push((c.user + c.system) / 1000 / ms);
  return ms;
}

// --- crypto references: raw node:crypto loops over the same values ----------------------------------------------

function cryptoReferences(values: string[]) {
  const hmacKey = randomBytes(32);
  const aesKey = randomBytes(32);
  const nonceKey = randomBytes(32);
  const fixedNonce = randomBytes(12); // cost only: a fixed nonce is never acceptable for real data
  const aad = Buffer.from(CRYPTO_COLUMN, 'utf8');
  const zero = Buffer.from([0]);
  let sink = 0;
  const hmacHexLoop = timed(() => {
    for (const v of values) sink += createHmac('sha256', hmacKey).update(v, 'utf8').digest('hex').length;
  });
  const aesGcm = (nonce: Buffer, plain: Buffer) => {
    const c = createCipheriv('aes-256-gcm', aesKey, nonce, { authTagLength: 16 });
    c.setAAD(aad);
    const head = c.update(plain);
    const tail = c.final();
    return Buffer.concat([nonce, head, tail, c.getAuthTag()]).toString('hex').length;
  };
  const aesGcmLoop = timed(() => {
    for (const v of values) sink += aesGcm(fixedNonce, Buffer.from(v, 'utf8'));
  });
  const sivLoop = timed(() => {
    for (const v of values) {
      const plain = Buffer.from(v, 'utf8');
      const nonce = createHmac('sha256', nonceKey).update(aad).update(zero).update(plain).digest().subarray(0, 12);
      sink += aesGcm(nonce, plain);
    }
  });
  if (sink === 0) throw new Error('unreachable');
  const us = (ms: number) => (ms * 1000) / values.length;
  return { hmacHexUs: us(hmacHexLoop), aesGcmUs: us(aesGcmLoop), hmacNoncePlusAesGcmUs: us(sivLoop) };
}

// --- the benchmark --------------------------------------------------------------------------------------------

export async function benchRules() {
  const loadavgAtStart = loadavg();
  const tGen = performance.now();
  const events = makeEvents(N, SEED);
  const genSeconds = (performance.now() - tGen) / 1000;
  const batches: ChangeEvent[][] = [];
  for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
  const fanoutBatches: ChangeEvent[][] = [];
  for (let i = 0; i < FANOUT_ROWS; i += BATCH) fanoutBatches.push(events.slice(i, Math.min(i + BATCH, FANOUT_ROWS)));
  const cryptoValues = events.map((e) => e.after![CRYPTO_COLUMN]!);

  const compiled = SCENARIOS.map((s) => ({
    s,
    masks: compileSubscription(`bench-${s.id}`, s.masks, newKeys()),
    rules: rulesFor(s),
  }));
  const tallies = new Map(SCENARIOS.map((s) => [s.id, newTally()]));
  const times = new Map<string, number[]>(SCENARIOS.map((s) => [s.id, []]));

  // Fan-out: (a) every subscription with the mixed masks, (b) cycling through five profiles; each its own keys.
  const cycle = ['ref', 'partial', 'generalize', 'mixed', 'hash'];
  const fanA = Array.from({ length: SUBS }, (_, i) => compileSubscription(`fan-a-${i}`, MIXED, newKeys()));
  const fanBProfiles = Array.from({ length: SUBS }, (_, i) => cycle[i % cycle.length]!);
  const fanB = fanBProfiles.map((p, i) =>
    compileSubscription(`fan-b-${i}`, SCENARIOS.find((s) => s.id === p)!.masks, newKeys()),
  );
  const fanTimes = { a: [] as number[], b: [] as number[] };
  const fanTally = { a: newTally(), b: newTally() };
  const fanOut = (subs: FieldMask[][], tally?: Tally) => () => {
    for (const b of fanoutBatches) for (const masks of subs) runBatches([b], masks, {}, tally);
  };

  const crypto: ReturnType<typeof cryptoReferences>[] = [];
  const runsRaw: Record<string, number>[] = [];
  cpuShares.length = 0;
  for (let run = -1; run < RUNS; run++) {
    const warm = run < 0;
    const raw: Record<string, number> = {};
    for (const { s, masks, rules } of compiled) {
      const tally = warm ? tallies.get(s.id) : undefined; // counted once (the warm-up), identical in every run
      const ms = timed(() => runBatches(batches, masks, rules, tally));
      raw[s.id] = ms;
      if (!warm) times.get(s.id)!.push(ms);
    }
    const c = cryptoReferences(cryptoValues);
    raw.fanoutMixedMs = timed(fanOut(fanA, warm ? fanTally.a : undefined));
    raw.fanoutCycleMs = timed(fanOut(fanB, warm ? fanTally.b : undefined));
    if (warm) cpuShares.length = 0; // count the measured runs only
    if (!warm) {
      crypto.push(c);
      fanTimes.a.push(raw.fanoutMixedMs);
      fanTimes.b.push(raw.fanoutCycleMs);
      runsRaw.push(raw);
    }
  }

  const med = (id: string) => median(times.get(id)!);
  const refMs = med('ref');
  const scenarios = SCENARIOS.map((s) => {
    const ms = med(s.id);
    const t = tallies.get(s.id)!;
    return {
      id: s.id,
      label: s.label,
      masks: Object.fromEntries(FIELDS.map((f) => [f, s.masks[f] ?? 'clear'])),
      filter: s.filter ? FILTER : null,
      quality: s.quality ? 'flag' : null,
      medianMs: ms,
      rowsPerSec: N / (ms / 1000),
      usPerRow: (ms * 1000) / N,
      vsRef: ms / refMs,
      throughputVsRef: refMs / ms,
      deliveredRows: t.rows,
      filteredOut: t.filteredOut,
      qualityFailures: t.qualityFailures,
      maskFallbacks: t.fallbacks,
      unrepresentable: t.unrepresentable,
      masked: t.masked,
    };
  });
  const by = (id: string) => scenarios.find((x) => x.id === id)!;
  const cm = (k: keyof ReturnType<typeof cryptoReferences>) => median(crypto.map((c) => c[k]));
  const addedUs = (id: string) => by(id).usPerRow - by('mixed').usPerRow;
  const cryptoRef = {
    hmacHexUs: cm('hmacHexUs'),
    aesGcmUs: cm('aesGcmUs'),
    hmacNoncePlusAesGcmUs: cm('hmacNoncePlusAesGcmUs'),
  };
  const perRowUs = (id: string) => by(id).usPerRow;
  const fan = (which: 'a' | 'b', profiles: string[]) => {
    const ms = median(fanTimes[which]);
    const expectedMs = (profiles.reduce((sum, p) => sum + perRowUs(p), 0) * FANOUT_ROWS) / 1000;
    const subRows = FANOUT_ROWS * profiles.length;
    return {
      subscriptions: profiles.length,
      events: FANOUT_ROWS,
      profiles: Object.fromEntries(cycle.map((p) => [p, profiles.filter((x) => x === p).length]).filter(([, n]) => n)),
      medianMs: ms,
      changesPerSec: FANOUT_ROWS / (ms / 1000),
      subscriptionRowsPerSec: subRows / (ms / 1000),
      usPerSubscriptionRow: (ms * 1000) / subRows,
      linearExpectationMs: expectedMs,
      vsLinear: ms / expectedMs,
      deliveredRows: fanTally[which].rows,
    };
  };
  const core = ['ref', 'partial', 'generalize', 'mixed'];
  const result = {
    benchmark: 'rules',
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? '?',
      node: process.version,
      loadavg: loadavg(),
      loadavgAtStart,
      cpuShare: { min: Math.min(...cpuShares), median: median(cpuShares) },
    },
    settings: { rows: N, runs: RUNS, batch: BATCH, subscriptions: SUBS, fanoutRows: FANOUT_ROWS, seed: SEED },
    columns: SCHEMA.columns.map((c) => ({ name: c.name, sourceType: c.sourceType })),
    sample: events[0]!.after,
    generateSeconds: genSeconds,
    filter: FILTER,
    scenarios,
    aim: {
      rowsPerSecPerCore: AIM_ROWS_PER_SEC,
      met: Object.fromEntries(core.map((id) => [id, by(id).rowsPerSec >= AIM_ROWS_PER_SEC])),
    },
    crypto: {
      column: CRYPTO_COLUMN,
      hashAddedUsPerValue: addedUs('hash'),
      encryptAddedUsPerValue: addedUs('encrypt'),
      reference: cryptoRef,
      hashVsRawHmac: addedUs('hash') / cryptoRef.hmacHexUs,
      encryptVsRawConstruction: addedUs('encrypt') / cryptoRef.hmacNoncePlusAesGcmUs,
    },
    fanout: {
      singleMixed: { rowsPerSec: by('mixed').rowsPerSec, usPerRow: perRowUs('mixed') },
      sameMasks: fan(
        'a',
        Array.from({ length: SUBS }, () => 'mixed'),
      ),
      cycling: fan('b', fanBProfiles),
    },
    runsRaw,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n');
  return result;
}

export function printRules(r: Awaited<ReturnType<typeof benchRules>>): void {
  const s = r.settings;
  console.log(
    `\nrule evaluation per core (one thread), ${fmtInt(s.rows)} insert events × 12 columns, buildBatchRows per ` +
      `${fmtInt(s.batch)} events, median of ${s.runs} run(s) after a warm-up (${r.machine.cpu}, node ${r.machine.node}):`,
  );
  const cols = ['ms', 'rows/s', 'µs/row', 'vs ref', 'delivered', 'notes'];
  const w = [36, 8, 10, 7, 7, 10];
  const line = (cells: string[]) =>
    console.log(
      `  ${cells[0]!.padEnd(w[0]!)} ${cells
        .slice(1, 5)
        .map((c, i) => c.padStart(w[i + 1]!))
        .join(' ')}  ${cells.slice(5).join(' ')}`,
    );
  line(['scenario', ...cols]);
  for (const x of r.scenarios) {
    const notes = [
      x.filteredOut ? `${fmtInt(x.filteredOut)} filtered out` : '',
      x.quality ? `${fmtInt(x.qualityFailures)} quality failures` : '',
      x.maskFallbacks ? `${fmtInt(x.maskFallbacks)} mask fallbacks` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const ratio = x.id === 'ref' ? '1.00' : `${x.vsRef.toFixed(2)}×`;
    line([
      x.label,
      x.medianMs.toFixed(0),
      fmtInt(x.rowsPerSec),
      x.usPerRow.toFixed(2),
      ratio,
      `${fmtInt(x.deliveredRows)}  ${notes}`,
    ]);
  }
  console.log('  (vs ref = time / time of ref; rows/s counts input events, also when the filter leaves rows out)');
  const c = r.crypto;
  console.log(
    `  crypto, ${c.column} column: hash adds ${c.hashAddedUsPerValue.toFixed(2)} µs/value (raw createHmac hex loop ` +
      `${c.reference.hmacHexUs.toFixed(2)} µs → ${c.hashVsRawHmac.toFixed(2)}× raw); encrypt adds ` +
      `${c.encryptAddedUsPerValue.toFixed(2)} µs/value (raw HMAC nonce + createCipheriv AES-256-GCM ` +
      `${c.reference.hmacNoncePlusAesGcmUs.toFixed(2)} µs → ${c.encryptVsRawConstruction.toFixed(2)}× raw; ` +
      `AES-GCM alone ${c.reference.aesGcmUs.toFixed(2)} µs)`,
  );
  const f = r.fanout;
  for (const [name, x] of [
    [`${f.sameMasks.subscriptions} subscriptions, all mixed masks`, f.sameMasks],
    [
      `${f.cycling.subscriptions} subscriptions, ${Object.entries(f.cycling.profiles)
        .map(([p, n]) => `${n} ${p}`)
        .join('/')}`,
      f.cycling,
    ],
  ] as const) {
    console.log(
      `  ${name}, own keys, same ${fmtInt(x.events)} events: ${x.medianMs.toFixed(0)} ms = ` +
        `${fmtInt(x.changesPerSec)} changes/s, ${fmtInt(x.subscriptionRowsPerSec)} subscription-rows/s, ` +
        `${x.usPerSubscriptionRow.toFixed(2)} µs per subscription-row; vs linear (sum of 1-subscription times) ` +
        `${x.vsLinear.toFixed(2)}`,
    );
  }
  console.log(
    `  1 subscription (mixed): ${fmtInt(f.singleMixed.rowsPerSec)} rows/s, ${f.singleMixed.usPerRow.toFixed(2)} µs/row`,
  );
  const met = (id: string) => {
    const x = r.scenarios.find((y) => y.id === id)!;
    return `${id} ${fmtInt(x.rowsPerSec)} ${x.rowsPerSec >= r.aim.rowsPerSecPerCore ? '✓' : '✗'}`;
  };
  const all = Object.values(r.aim.met).every(Boolean);
  console.log(
    `  aim ≥ ${fmtInt(r.aim.rowsPerSecPerCore)} rows/s per core for clear/partial/generalize: ` +
      `${all ? 'met' : 'NOT met'} (${['ref', 'partial', 'generalize', 'mixed'].map(met).join(', ')})`,
  );
  console.log(
    `  hash and encrypt are outside that aim and reported per value: +${c.hashAddedUsPerValue.toFixed(1)} µs (hash), ` +
      `+${c.encryptAddedUsPerValue.toFixed(1)} µs (encrypt) per masked value — one createHmac / createCipheriv per value, ` +
      `node:crypto cannot reuse a context; a row with k such columns costs about k × that on top`,
  );
  const m = r.machine;
  console.log(
    `  machine: ${m.cpus} cores, load average ${m.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')} at the start; ` +
      `process CPU / wall per timed section: median ${m.cpuShare.median.toFixed(2)}, min ${m.cpuShare.min.toFixed(2)} ` +
      `(< 1: the thread shared its core; V8's GC helper threads can push it above 1)`,
  );
  console.log(`  results: ${RESULTS}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printRules(await benchRules());
}

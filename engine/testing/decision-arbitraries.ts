import fc from 'fast-check';
import { STRICTNESS, type Level, type MaskingRow } from '../masking/index.ts';
import type { ConditionsConfig } from '../../schemas/index.ts';
import type { Application, FieldPolicy, MaskingPolicy } from '../rules/decision.ts';

/**
 * fast-check arbitraries of the authorization decision's inputs (engine/rules/decision.ts): masking policies, classified
 * fields with conditions, applications and usage counts, over small alphabets so that names, tags and conditions
 * collide often (and include `__proto__`, `constructor`, `toString`). Shared by the decision's property tests and the
 * differential test of the SharingPolicy contract against it.
 */
export const NAMES = ['a', 'b', 'c', 'd', '__proto__', 'constructor', 'toString'];
export const TAGS = ['t1', 't2', 'constructor', '__proto__'];
export const INSTANTS = [
  '2025-12-31T23:59:59.999999Z',
  '2026-01-01T00:00:00Z',
  '2026-01-01T08:00:00.000001+08:00',
  '2026-06-01T00:00:00.5Z',
  '2027-01-01T00:00:00Z',
];
export const ADMIN = ['national', 'provincial', 'municipal', 'county'] as const;

/** An object with exactly these own keys (`__proto__` included), as JSON.parse would build it. */
export const own = <V>(entries: [string, V][]): Record<string, V> => Object.fromEntries(entries);
const entries = <V>(keys: fc.Arbitrary<string>, value: fc.Arbitrary<V>, maxLength = 5) =>
  fc.uniqueArray(fc.tuple(keys, value), { selector: ([k]) => k, maxLength }).map(own);

export const strategy = fc.constantFrom(...STRICTNESS);
export const row: fc.Arbitrary<MaskingRow> = entries(fc.constantFrom('0', '1', '2', '3', '4', 'default'), strategy, 6);
export const level = fc.constantFrom<Level>('core', 'important', 'general');
export const policy: fc.Arbitrary<MaskingPolicy> = fc.record(
  {
    matrix: fc.record({ core: row, important: row, general: row }),
    tags: entries(fc.constantFrom(...TAGS), row, 4),
  },
  { requiredKeys: ['matrix'] },
);

const CONDITION_ARBS = {
  organisations: fc.subarray(['audit', 'relief', 'ORG-1', 'ORG-2']),
  adminLevels: fc.subarray([...ADMIN]),
  purposes: fc.subarray(['p1', 'p2', 'p3']),
  businessSystems: fc.subarray(['s1', 's2']),
  validFrom: fc.constantFrom(...INSTANTS),
  validUntil: fc.constantFrom(...INSTANTS),
  minClearance: fc.integer({ min: 0, max: 4 }),
  maxDeliveries: fc.integer({ min: 1, max: 4 }),
};
export const conditions: fc.Arbitrary<ConditionsConfig> = fc.record(CONDITION_ARBS, { requiredKeys: [] });
/** One condition: [key, value]. */
export const oneCondition = fc.oneof(
  ...Object.entries(CONDITION_ARBS).map(([k, arb]) => (arb as fc.Arbitrary<unknown>).map((v) => [k, v] as const)),
);

export const fieldPolicy: fc.Arbitrary<FieldPolicy> = fc.record(
  {
    level,
    tag: fc.constantFrom(...TAGS),
    share: fc.constantFrom('unconditional', 'conditional', 'conditional', 'none'),
    conditions,
  },
  { requiredKeys: ['level', 'share'] },
);
export const fields = entries(fc.constantFrom(...NAMES), fieldPolicy, NAMES.length);

export const application: fc.Arbitrary<Application> = fc.record(
  {
    subscription: fc.constant('sub'),
    subscriber: fc.record(
      {
        id: fc.constantFrom('audit', 'relief'),
        organisation: fc.constantFrom('ORG-1', 'ORG-2'),
        adminLevel: fc.constantFrom(...ADMIN),
        clearance: fc.integer({ min: 0, max: 4 }),
      },
      { requiredKeys: ['id', 'clearance'] },
    ),
    resource: fc.constant('res'),
    fields: fc.array(fc.constantFrom(...NAMES, 'x'), { maxLength: 9 }),
    masks: entries(fc.constantFrom(...NAMES), strategy, 4),
    purpose: fc.constantFrom('p1', 'p2'),
    businessSystem: fc.constantFrom('s1', 's2'),
    at: fc.constantFrom(...INSTANTS),
  },
  { requiredKeys: ['subscription', 'subscriber', 'resource', 'fields', 'purpose', 'businessSystem', 'at'] },
);
export const usage = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...NAMES), fc.integer({ min: 0, max: 5 })), { selector: ([k]) => k })
  .map((es) => new Map(es));

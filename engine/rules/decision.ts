/**
 * The authorization decision (DESIGN.md, "Masking"; "Data model": Conditions, Subscription). An application — a
 * subscription asking for fields of a resource at an instant — is decided field by field into a {@link Decision}.
 *
 * This comment is the specification. This module and the `SharingPolicy` contract implement it, and both are tested
 * against the same language-neutral table, `engine/rules/decision-examples.json`. It needs exact string equality,
 * integers and key lookups only: no regular expressions, floating point, locale or clock.
 *
 * Definitions
 *
 * - D1 Strictness: `clear < partial < generalize < encrypt < hash < null < deny`. `a` is looser than `b` when it is
 *   further left; `stricter(a, b)` is the one further right.
 * - D2 Row resolution `resolve(row, c)`: among the row's threshold keys (strings of ASCII digits; config allows "0" to
 *   "4") whose value is ≤ the clearance `c`, the greatest gives the strategy; when there is none, the row's `default`;
 *   when there is no `default` either, `deny`. A missing row resolves to `deny`.
 * - D3 Instants: RFC 3339 date-times (`YYYY-MM-DD`, `T`/`t`/space, `hh:mm:ss`, optional `.` and digits, `Z`/`z` or
 *   `±hh:mm`; years 0000–9999, real calendar dates) compared as the integer number of microseconds since
 *   1970-01-01T00:00:00Z, the offset applied. Fraction digits beyond the sixth are ignored (truncated); second 60 is
 *   accepted only at 23:59 UTC and equals the following 00:00:00. (decision-time.ts)
 * - D4 Strings — ids, organisations, purposes, business systems, field names, tags — match by exact equality of their
 *   code points: no case folding, trimming or Unicode normalisation.
 * - D5 Looking up a field name in `fields` or `masks`, or a tag in `policy.tags`, considers own keys only: `__proto__`,
 *   `constructor` and `toString` are ordinary names.
 * - D6 A condition "holds for x in L" when x is set and equal (D4) to an element of L; a listed condition with an
 *   empty list holds for no one.
 *
 * Inputs: the clearance is an integer ≥ 0 (config: 0–4); `at` is an instant (D3); a usage count is an integer ≥ 0,
 * absent meaning 0. Otherwise `decide` throws a `USAGE` SluiceError; a `validFrom`/`validUntil` that is not an instant
 * throws `CONFIG_INVALID` when a rule reaches it (config validation refuses both before). Strategy names in the
 * matrix, tag rows and `masks` are taken as valid (the config schema guarantees them).
 *
 * Rules — for the field name `n` at each position `i` of `app.fields`, in order, the FIRST rule that applies decides;
 * a denial reports that rule's reason:
 *
 * 0. `n` occurs at an earlier position → `duplicate`. (Only the first occurrence is decided by rules 1–5; config
 *    validation refuses duplicates already.)
 * 1. `fields` has no own key `n` (D5) → `unclassified`. Otherwise let `f` = `fields[n]`.
 * 2. `f.share` is neither `unconditional` nor `conditional` (i.e. `none`) → `share-none`.
 * 3. Only when `f.share` is `conditional` and `f.conditions` is present (on an `unconditional` field conditions are
 *    ignored; config validation refuses them). Each condition that is listed, in this order:
 *    1. `organisations`: holds when `subscriber.id` or `subscriber.organisation` is in the list (D6) → else
 *       `organisation`.
 *    2. `adminLevels`: `subscriber.adminLevel` is in the list → else `admin-level`.
 *    3. `purposes`: `app.purpose` is in the list → else `purpose`.
 *    4. `businessSystems`: `app.businessSystem` is in the list → else `business-system`.
 *    5. `validFrom`: `at` ≥ `validFrom` (inclusive) → else `not-yet-valid`.
 *    6. `validUntil`: `at` < `validUntil` (exclusive) → else `expired`.
 *    7. `minClearance`: clearance ≥ `minClearance` → else `clearance`.
 *    8. `maxDeliveries`: `usage[n]` < `maxDeliveries` → else `max-deliveries` (usage = deliveries of `n` to this
 *       subscription so far; the delivery being decided would be number `usage[n] + 1`).
 * 4. Strategy: `base` = `resolve(matrix[f.level], clearance)`; when `f.tag` is set and `policy.tags` has an own key
 *    `f.tag`, `base` = `stricter(base, resolve(policy.tags[f.tag], clearance))` — a tag row only tightens. When
 *    `app.masks` has an own key `n`, its override `o`: `o` looser than `base` → `override-looser`. The effective
 *    strategy is `o` when present, else `base`; effective `deny` → `deny`.
 * 5. Granted: `{name: n, level: f.level, tag: f.tag (only when set), strategy: effective}`.
 *
 * Output: `granted` in the order of `app.fields`; `denied` in that order too, each `{field: n, index: i, reason,
 * message}`. Every position is in exactly one of them. Keys of `app.masks` that are not requested are ignored
 * (validation reports them). Messages name the field and the condition; they may quote policy (lists, instants,
 * limits) and the subscriber's own attributes, never data values. Messages are not part of the specification: nothing
 * matches on them, and the contract reports the reason only.
 */
import { SluiceError } from '../errors.ts';
import {
  isAtLeastAsStrict,
  resolveStrategy,
  stricterOf,
  type Level,
  type MaskingMatrix,
  type MaskingRow,
  type Strategy,
} from '../masking/index.ts';
import type { ConditionsConfig } from '../../schemas/index.ts';
import { parseInstant } from './decision-time.ts';

/** Who applies: the subscriber's attributes the rules look at. */
export interface ApplicationSubscriber {
  id: string;
  organisation?: string;
  adminLevel?: 'national' | 'provincial' | 'municipal' | 'county';
  /** Integer ≥ 0 (config: 0–4). */
  clearance: number;
}

/** A subscription asking for fields of a resource, decided for one instant. */
export interface Application {
  subscription: string;
  subscriber: ApplicationSubscriber;
  resource: string;
  /** Requested fields, in the subscription's order. */
  fields: string[];
  /** Per-field overrides; they may only be stricter than the matrix (and tag row). */
  masks?: Record<string, Strategy>;
  purpose: string;
  businessSystem: string;
  /** RFC 3339 instant the decision is for (a cycle's tick). */
  at: string;
}

/** A classified field of the resource as the decision sees it (a `FieldConfig` is one). */
export interface FieldPolicy {
  level: Level;
  tag?: string;
  share: 'unconditional' | 'conditional' | 'none';
  conditions?: ConditionsConfig;
}

/** The masking matrix and the optional per-tag rows that tighten it. */
export interface MaskingPolicy {
  matrix: MaskingMatrix;
  tags?: Record<string, MaskingRow>;
}

/** A granted field of a subscription and how it is masked. */
export interface GrantedField {
  name: string;
  level: Level;
  tag?: string;
  strategy: Exclude<Strategy, 'deny'>;
}

/** Every denial reason, in the order of the rules that produce them (the contract's enum order). */
export const DENIAL_REASONS = Object.freeze([
  'duplicate',
  'unclassified',
  'share-none',
  'organisation',
  'admin-level',
  'purpose',
  'business-system',
  'not-yet-valid',
  'expired',
  'clearance',
  'max-deliveries',
  'override-looser',
  'deny',
] as const);

/** Why a requested field is not granted: the first rule that refused it. */
export type DenialReason = (typeof DENIAL_REASONS)[number];

/** A requested field that is not granted. */
export interface DeniedField {
  field: string;
  /** Position of the field in `Application.fields`. */
  index: number;
  reason: DenialReason;
  /** Plain words naming the field and the condition; never data values. Not for matching. */
  message: string;
}

/** The outcome of an application: every requested position is in exactly one of the two lists. */
export interface Decision {
  granted: GrantedField[];
  denied: DeniedField[];
}

const list = (xs: readonly string[]) => (xs.length === 0 ? '(none)' : xs.join(', '));
const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function instant(s: string, what: string): bigint {
  const t = parseInstant(s);
  if (t === undefined) {
    throw new SluiceError('CONFIG_INVALID', `${what} is not an RFC 3339 date-time with an offset`, {
      details: { value: s },
    });
  }
  return t;
}

/** Rule 3: the first listed condition of `c` that does not hold, as [reason, message], or undefined. */
function failedCondition(
  n: string,
  c: ConditionsConfig,
  app: Application,
  at: bigint,
  used: number,
): [DenialReason, string] | undefined {
  const s = app.subscriber;
  const q = `field "${n}"`;
  if (c.organisations !== undefined) {
    const ok =
      c.organisations.includes(s.id) || (s.organisation !== undefined && c.organisations.includes(s.organisation));
    if (!ok) {
      const who = `subscriber "${s.id}", ${s.organisation === undefined ? 'no organisation' : `organisation "${s.organisation}"`}`;
      return ['organisation', `${q} is granted only to subscribers or organisations ${list(c.organisations)} (${who})`];
    }
  }
  if (c.adminLevels !== undefined && !(s.adminLevel !== undefined && c.adminLevels.includes(s.adminLevel))) {
    const has = s.adminLevel === undefined ? 'has no administrative level' : `is ${s.adminLevel}`;
    return [
      'admin-level',
      `${q} is granted only to administrative levels ${list(c.adminLevels)} (subscriber "${s.id}" ${has})`,
    ];
  }
  if (c.purposes !== undefined && !c.purposes.includes(app.purpose)) {
    return ['purpose', `${q} is granted only for purposes ${list(c.purposes)} (this subscription: ${app.purpose})`];
  }
  if (c.businessSystems !== undefined && !c.businessSystems.includes(app.businessSystem)) {
    return [
      'business-system',
      `${q} is granted only to business systems ${list(c.businessSystems)} (this subscription: ${app.businessSystem})`,
    ];
  }
  if (c.validFrom !== undefined && at < instant(c.validFrom, `validFrom of field "${n}"`)) {
    return ['not-yet-valid', `${q} is granted only from ${c.validFrom} (decision for ${app.at})`];
  }
  if (c.validUntil !== undefined && at >= instant(c.validUntil, `validUntil of field "${n}"`)) {
    return ['expired', `${q} was granted only until ${c.validUntil}, exclusive (decision for ${app.at})`];
  }
  if (c.minClearance !== undefined && s.clearance < c.minClearance) {
    return ['clearance', `${q} requires clearance ${c.minClearance} or more (subscriber "${s.id}" has ${s.clearance})`];
  }
  if (c.maxDeliveries !== undefined && used >= c.maxDeliveries) {
    return [
      'max-deliveries',
      `${q} may be delivered at most ${c.maxDeliveries} times to subscription "${app.subscription}" (delivered ${used})`,
    ];
  }
  return undefined;
}

/** Rule 4's base: the matrix strategy, tightened by the field's tag row when the policy has one. */
function baseStrategy(f: FieldPolicy, policy: MaskingPolicy, clearance: number): Strategy {
  const base = resolveStrategy(policy.matrix, f.level, clearance);
  const tags = policy.tags;
  if (f.tag === undefined || tags === undefined || !Object.hasOwn(tags, f.tag)) return base;
  const row = tags[f.tag]!;
  return stricterOf(base, resolveStrategy({ core: row, important: row, general: row }, f.level, clearance));
}

/**
 * Decides an application field by field (rules 0–5 of this module's specification). Pure and deterministic: the
 * result depends on the arguments only, which are not modified.
 *
 * @param app - the application, including the instant `at` it is decided for
 * @param fields - the resource's classified fields by name; a name without an own entry is unclassified
 * @param policy - the masking matrix and per-tag rows
 * @param usage - deliveries of each field to this subscription so far (absent: 0)
 * @throws SluiceError `USAGE` for a malformed `at`, clearance or usage count; `CONFIG_INVALID` for a malformed
 *   `validFrom`/`validUntil` a rule has to evaluate
 */
export function decide(
  app: Application,
  fields: Readonly<Record<string, FieldPolicy>>,
  policy: MaskingPolicy,
  usage?: ReadonlyMap<string, number>,
): Decision {
  const at = parseInstant(app.at);
  if (at === undefined) {
    throw new SluiceError('USAGE', 'the decision instant is not an RFC 3339 date-time with an offset', {
      details: { at: app.at },
    });
  }
  const s = app.subscriber;
  if (!isCount(s.clearance)) {
    throw new SluiceError('USAGE', `subscriber "${s.id}" has a clearance that is not an integer ≥ 0`, {
      details: { clearance: s.clearance },
    });
  }
  for (const [name, count] of usage ?? []) {
    if (!isCount(count)) {
      throw new SluiceError('USAGE', `the usage count of field "${name}" is not an integer ≥ 0`, {
        details: { field: name, usage: count },
      });
    }
  }
  const granted: GrantedField[] = [];
  const denied: DeniedField[] = [];
  const firstAt = new Map<string, number>();
  const masks = app.masks;
  app.fields.forEach((n, index) => {
    const deny = (reason: DenialReason, message: string) => denied.push({ field: n, index, reason, message });
    const first = firstAt.get(n);
    if (first !== undefined) {
      deny('duplicate', `field "${n}" is requested again at position ${index} (first at ${first}); it is decided once`);
      return;
    }
    firstAt.set(n, index);
    const f = Object.hasOwn(fields, n) ? fields[n] : undefined;
    if (f === undefined) {
      deny(
        'unclassified',
        `field "${n}" is not classified in resource "${app.resource}" (unlisted columns are never shared)`,
      );
      return;
    }
    if (f.share !== 'unconditional' && f.share !== 'conditional') {
      deny('share-none', `field "${n}" of resource "${app.resource}" is not shareable (share: none)`);
      return;
    }
    if (f.share === 'conditional' && f.conditions !== undefined) {
      const failed = failedCondition(n, f.conditions, app, at, usage?.get(n) ?? 0);
      if (failed) {
        deny(...failed);
        return;
      }
    }
    const base = baseStrategy(f, policy, s.clearance);
    const override = masks !== undefined && Object.hasOwn(masks, n) ? masks[n] : undefined;
    if (override !== undefined && !isAtLeastAsStrict(override, base)) {
      const from = f.tag !== undefined && policy.tags && Object.hasOwn(policy.tags, f.tag) ? ` and tag "${f.tag}"` : '';
      deny(
        'override-looser',
        `mask override "${override}" for "${n}" is looser than "${base}" from the matrix${from}; overrides may only be stricter`,
      );
      return;
    }
    const strategy = override ?? base;
    if (strategy === 'deny') {
      const by = override === undefined ? '' : ' (by its mask override)';
      deny(
        'deny',
        `field "${n}" (${f.level}) resolves to deny${by} for subscriber "${s.id}" at clearance ${s.clearance}`,
      );
      return;
    }
    granted.push({ name: n, level: f.level, ...(f.tag !== undefined ? { tag: f.tag } : {}), strategy });
  });
  return { granted, denied };
}

/** Whether `field` is granted by `decision`. */
export function isGranted(decision: Decision, field: string): boolean {
  return decision.granted.some((g) => g.name === field);
}

/**
 * A one-line account of a decision for logs, e.g. `granted id:clear, name:partial; denied note (share-none)`. Names
 * fields, strategies and reasons only.
 */
export function summarizeDecision(decision: Decision): string {
  const g = decision.granted.map((f) => `${f.name}:${f.strategy}`).join(', ');
  const d = decision.denied.map((f) => `${f.field} (${f.reason})`).join(', ');
  return `granted ${g || 'nothing'}; denied ${d || 'nothing'}`;
}

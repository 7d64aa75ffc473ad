import { id } from 'ethers';
import { SluiceError } from '../engine/errors.ts';
import { STRICTNESS, type Level, type MaskingMatrix, type MaskingRow, type Strategy } from '../engine/masking/index.ts';
import {
  DENIAL_REASONS,
  type Application,
  type ApplicationSubscriber,
  type DenialReason,
  type FieldPolicy,
} from '../engine/rules/decision.ts';
import { parseInstant } from '../engine/rules/decision-time.ts';

/**
 * The decision's inputs in SharingPolicy's encodings (contracts/SharingPolicy.sol describes them) and its outcome
 * back: strings become keccak256 hashes of their UTF-8 bytes, instants int64 µs, strategies and reasons small
 * integers in the specification's order. Used by the chain adapters, `sluice policy publish` and the tests.
 */

/** keccak256 of the UTF-8 bytes: the contract's form of an id, name, purpose, tag. */
export const hashString = (s: string): string => id(s);

const LEVELS: readonly Level[] = ['core', 'important', 'general'];
const SHARES = ['none', 'unconditional', 'conditional'] as const;
const ADMIN = ['national', 'provincial', 'municipal', 'county'] as const;
export const NO_OVERRIDE = 255;
/** The outcome of a position revoked by its provider: 16 + 13. */
export const REVOKED = 29;

export const strategyCode = (s: Strategy): number => STRICTNESS.indexOf(s);

/** A masking row: 4 bits per threshold 0–15 at bit 4t, the default at bit 64; 0xF = absent. Missing: none set. */
export function packRow(row: MaskingRow | undefined): bigint {
  let packed = (1n << 72n) - 1n;
  for (const [k, v] of Object.entries(row ?? {})) {
    const at = k === 'default' ? 64n : /^\d+$/.test(k) && Number(k) <= 15 ? 4n * BigInt(k) : -1n;
    if (at < 0n) throw new SluiceError('USAGE', `masking row key "${k}" is not a clearance 0–15 or "default"`);
    packed = (packed & ~(0xfn << at)) | (BigInt(strategyCode(v)) << at);
  }
  return packed;
}

/** `setMasking` arguments: the matrix rows (core, important, general) and the tag rows. */
export function maskingInput(matrix: Partial<MaskingMatrix>, tags: Record<string, MaskingRow> = {}) {
  const names = Object.keys(tags);
  return {
    rows: LEVELS.map((l) => packRow(matrix[l])) as [bigint, bigint, bigint],
    tags: names.map(hashString),
    tagRows: names.map((t) => packRow(tags[t])),
  };
}

function micros(s: string, what: string): bigint {
  const t = parseInstant(s);
  if (t === undefined) throw new SluiceError('CONFIG_INVALID', `${what} is not an RFC 3339 date-time with an offset`);
  return t;
}

/** One `FieldInput` of `registerResource`. */
export function fieldInput(name: string, f: FieldPolicy) {
  const c = f.share === 'conditional' ? (f.conditions ?? {}) : {};
  const bits = [
    c.organisations,
    c.adminLevels,
    c.purposes,
    c.businessSystems,
    c.validFrom,
    c.validUntil,
    c.minClearance,
    c.maxDeliveries,
  ].reduce<number>((acc, v, i) => (v === undefined ? acc : acc | (1 << i)), 0);
  return {
    name: hashString(name),
    level: LEVELS.indexOf(f.level),
    share: SHARES.indexOf(f.share),
    hasTag: f.tag !== undefined,
    tag: f.tag !== undefined ? hashString(f.tag) : `0x${'00'.repeat(32)}`,
    present: bits,
    adminLevels: (c.adminLevels ?? []).reduce((acc, l) => acc | (1 << ADMIN.indexOf(l)), 0),
    minClearance: c.minClearance ?? 0,
    maxDeliveries: c.maxDeliveries ?? 0,
    validFrom: c.validFrom !== undefined ? micros(c.validFrom, `validFrom of field "${name}"`) : 0n,
    validUntil: c.validUntil !== undefined ? micros(c.validUntil, `validUntil of field "${name}"`) : 0n,
    organisations: (c.organisations ?? []).map(hashString),
    purposes: (c.purposes ?? []).map(hashString),
    businessSystems: (c.businessSystems ?? []).map(hashString),
  };
}

/** A resource's classified fields as `registerResource` takes them. */
export const resourceInput = (fields: Readonly<Record<string, FieldPolicy>>) =>
  Object.entries(fields).map(([name, f]) => fieldInput(name, f));

/** The `Subscriber` struct (what the operator attests). */
export function subscriberInput(s: ApplicationSubscriber) {
  return {
    id: hashString(s.id),
    hasOrganisation: s.organisation !== undefined,
    organisation: s.organisation !== undefined ? hashString(s.organisation) : `0x${'00'.repeat(32)}`,
    adminLevel: s.adminLevel !== undefined ? ADMIN.indexOf(s.adminLevel) + 1 : 0,
    clearance: s.clearance,
  };
}

/** The `Application` struct. */
export function applicationInput(
  app: Pick<Application, 'resource' | 'fields' | 'masks' | 'purpose' | 'businessSystem'>,
) {
  const masks = app.masks ?? {};
  return {
    resource: hashString(app.resource),
    fields: app.fields.map(hashString),
    masks: app.fields.map((n) => (Object.hasOwn(masks, n) ? strategyCode(masks[n]!) : NO_OVERRIDE)),
    purpose: hashString(app.purpose),
    businessSystem: hashString(app.businessSystem),
  };
}

/** Per-field usage counts aligned with the requested fields. */
export const usageInput = (fields: readonly string[], usage?: ReadonlyMap<string, number>) =>
  fields.map((n) => usage?.get(n) ?? 0);

/** The contract's outcome codes for `fields` as granted {name, strategy} and denied {field, index, reason}. */
export function decodeOutcome(fields: readonly string[], codes: readonly (number | bigint)[]) {
  const granted: { name: string; strategy: Strategy }[] = [];
  const denied: { field: string; index: number; reason: DenialReason | 'revoked' }[] = [];
  codes.forEach((raw, index) => {
    const c = Number(raw);
    const field = fields[index]!;
    if (c < 16) granted.push({ name: field, strategy: STRICTNESS[c]! });
    else denied.push({ field, index, reason: c === REVOKED ? 'revoked' : DENIAL_REASONS[c - 16]! });
  });
  return { granted, denied };
}

/**
 * Format-aware partial masks, chosen by a column's sensitivity tag (DESIGN.md "Masking"; REFERENCE.md "Partial
 * masks — the defaults, by example"). Characters are counted in Unicode code points, never UTF-16 units.
 *
 * | tag           | accepted input                                   | default                                   |
 * | ------------- | ------------------------------------------------ | ----------------------------------------- |
 * | `person_name` | any non-blank text                               | 张三 → 张*, 欧阳娜娜 → 欧***              |
 * | `cn_id_card`  | valid 18-character GB 11643 ID                   | 11010519491231002X → 110105********002X   |
 * | `cn_mobile`   | 11 digits starting with 1 (no `+86`, no spaces)  | 13812345678 → 138****5678                 |
 * | `bank_card`   | 12–19 digits (no spaces)                         | 6222021234567890123 → 6222***********0123 |
 * | `email`       | `local@domain.tld`                               | zhang.san@example.cn → z***@example.cn    |
 * | `address`     | text with a district-level 区/县 token           | 北京市东城区东华门街道某胡同1号 → 北京市东城区**** |
 * | `phone`       | mainland landline `0AA[A]` + `-`/space/none + 7–8 digits | 010-65123456 → 010-****3456       |
 *
 * A value that does not parse, or that is too short to hide at least one character, gives `ok: false` and the caller
 * falls back to `hash`. Reasons never contain the value.
 */

import { RESIDENT_ID_PROBLEM_TEXT, residentIdProblem } from './gb11643.ts';

/** Sensitivity tags that have a partial mask. */
export type PartialTag = 'person_name' | 'cn_id_card' | 'cn_mobile' | 'bank_card' | 'email' | 'address' | 'phone';

/** Every {@link PartialTag}. */
export const PARTIAL_TAGS: readonly PartialTag[] = Object.freeze([
  'person_name',
  'cn_id_card',
  'cn_mobile',
  'bank_card',
  'email',
  'address',
  'phone',
] as const);

/**
 * How many code points stay visible. What they count depends on the tag: the whole value for `person_name`,
 * `cn_id_card`, `cn_mobile`, `bank_card`; the local part for `email` (always followed by exactly `***`); the
 * subscriber number for `phone` (the area code and separator always stay); for `address`, setting either field
 * replaces the district rule with "first `keepFirst` + `****` + last `keepLast`" (each defaulting to 0).
 */
export interface PartialKeep {
  /** Leading code points kept; a non-negative integer. */
  readonly keepFirst?: number;
  /** Trailing code points kept; a non-negative integer. */
  readonly keepLast?: number;
}

/** Per-deployment overrides by tag, e.g. `{ cn_id_card: { keepFirst: 6, keepLast: 4 } }`. */
export type PartialOptions = { readonly [T in PartialTag]?: PartialKeep };

/** Outcome of {@link partialMask}. */
export type PartialResult = { ok: true; value: string } | { ok: false; reason: string };

/** The default kept counts (REFERENCE.md); `address` uses the district rule unless configured. */
export const DEFAULT_PARTIAL_KEEP: Readonly<Record<Exclude<PartialTag, 'address'>, Required<PartialKeep>>> =
  Object.freeze({
    person_name: { keepFirst: 1, keepLast: 0 },
    cn_id_card: { keepFirst: 6, keepLast: 4 },
    cn_mobile: { keepFirst: 3, keepLast: 4 },
    bank_card: { keepFirst: 4, keepLast: 4 },
    email: { keepFirst: 1, keepLast: 0 },
    phone: { keepFirst: 0, keepLast: 4 },
  });

/** Whether `tag` has a partial mask. */
export function isPartialTag(tag: string | undefined): tag is PartialTag {
  return tag !== undefined && (PARTIAL_TAGS as readonly string[]).includes(tag);
}

/**
 * Problems in a deployment's {@link PartialOptions} (unknown tags, counts that are not non-negative integers), as
 * messages naming the offending key; empty when valid.
 */
export function validatePartialOptions(opts: PartialOptions | undefined): string[] {
  const issues: string[] = [];
  for (const [tag, keep] of Object.entries(opts ?? {}) as [string, unknown][]) {
    if (!isPartialTag(tag)) {
      issues.push(`${tag}: not a partial-mask tag (known: ${PARTIAL_TAGS.join(', ')})`);
      continue;
    }
    if (keep === undefined) continue;
    if (typeof keep !== 'object' || keep === null) {
      issues.push(`${tag}: must be an object with keepFirst/keepLast`);
      continue;
    }
    for (const [k, v] of Object.entries(keep)) {
      if (k !== 'keepFirst' && k !== 'keepLast') issues.push(`${tag}.${k}: unknown option`);
      else if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0)) {
        issues.push(`${tag}.${k}: must be a non-negative integer`);
      }
    }
  }
  return issues;
}

const fail = (tag: string, why: string): PartialResult => ({ ok: false, reason: `${tag}: ${why}` });

const validated = new WeakSet<object>();

function keepFor(tag: Exclude<PartialTag, 'address'>, opts: PartialOptions | undefined): Required<PartialKeep> {
  const d = DEFAULT_PARTIAL_KEEP[tag];
  const o = opts?.[tag];
  if (o === undefined) return d;
  const keep = { keepFirst: o.keepFirst ?? d.keepFirst, keepLast: o.keepLast ?? d.keepLast };
  if (!validated.has(o)) {
    assertKeep(tag, keep);
    validated.add(o);
  }
  return keep;
}

function assertKeep(tag: string, keep: Required<PartialKeep>): void {
  for (const [k, v] of Object.entries(keep)) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`partial mask option ${tag}.${k} must be a non-negative integer`);
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Keeps `keepFirst` leading and `keepLast` trailing code points and stars the rest (one `*` each, or exactly `fixed`
 * stars when given). `undefined` when nothing would be hidden. Text without surrogate pairs (all of the BMP, so
 * Chinese text too) is sliced directly: there a code point is one UTF-16 unit.
 */
function maskCodePoints(value: string, keep: Required<PartialKeep>, fixed?: number): string | undefined {
  if (!SURROGATE.test(value)) {
    const hidden = value.length - keep.keepFirst - keep.keepLast;
    if (hidden < 1) return undefined;
    const tail = keep.keepLast === 0 ? '' : value.slice(value.length - keep.keepLast);
    return value.slice(0, keep.keepFirst) + '*'.repeat(fixed ?? hidden) + tail;
  }
  const chars = Array.from(value);
  const hidden = chars.length - keep.keepFirst - keep.keepLast;
  if (hidden < 1) return undefined;
  const head = chars.slice(0, keep.keepFirst).join('');
  const tail = keep.keepLast === 0 ? '' : chars.slice(chars.length - keep.keepLast).join('');
  return head + '*'.repeat(fixed ?? hidden) + tail;
}

function masked(tag: string, value: string, keep: Required<PartialKeep>, fixed?: number): PartialResult {
  const out = maskCodePoints(value, keep, fixed);
  return out === undefined
    ? fail(tag, 'too short to hide any character with the configured keep counts')
    : { ok: true, value: out };
}

/** Stop tokens at or below province level that are not districts/counties: skipped while looking for the district. */
const ABOVE_DISTRICT = ['自治区', '特别行政区', '地区'];
/** 区 words that name places below district level: reaching one first means the value cannot be parsed safely. */
const BELOW_DISTRICT = [
  '小区',
  '社区',
  '园区',
  '校区',
  '街区',
  '景区',
  '片区',
  '厂区',
  '营区',
  '住宅区',
  '生活区',
  '开发区',
];

/**
 * Address to district: keeps everything through the first district-level `区` or `县` (this includes `市辖区`,
 * `新区`, `自治县`), then exactly four `*`. Province/prefecture words (自治区, 特别行政区, 地区) are passed over; a
 * place word below district level met first (小区, 社区, 开发区, …) or no token at all means it cannot be parsed.
 */
function maskAddress(value: string, opts: PartialOptions | undefined): PartialResult {
  const o = opts?.address;
  if (o !== undefined && (o.keepFirst !== undefined || o.keepLast !== undefined)) {
    const keep = { keepFirst: o.keepFirst ?? 0, keepLast: o.keepLast ?? 0 };
    assertKeep('address', keep);
    return masked('address', value, keep, 4);
  }
  const chars = SURROGATE.test(value) ? Array.from(value) : value;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c !== '区' && c !== '县') continue;
    const prefix = typeof chars === 'string' ? chars.slice(0, i + 1) : chars.slice(0, i + 1).join('');
    if (ABOVE_DISTRICT.some((w) => prefix.endsWith(w))) continue;
    if (BELOW_DISTRICT.some((w) => prefix.endsWith(w)))
      return fail('address', 'a place below district level comes before any district');
    if (i === 0) return fail('address', 'no place name before the district token');
    // an address that ends at its district would be shown whole: nothing is hidden, so it is not a partial mask
    if (i === chars.length - 1) return fail('address', 'nothing after the district to hide');
    return { ok: true, value: prefix + '****' };
  }
  return fail('address', 'no district-level 区/县 token found');
}

const EMAIL = /^([^\s@]+)@([^\s@.]+(?:\.[^\s@.]+)+)$/u;
const PHONE = /^(\(0(?:10|2\d|[3-9]\d{2})\)|0(?:10|2\d|[3-9]\d{2}))([- ]?)([2-9]\d{6,7})$/;

/**
 * Partially masks `value` according to its sensitivity `tag` (see the module table). An absent or unknown tag, or a
 * value the tag's format does not accept, gives `ok: false` with a reason (the caller hashes instead and counts a
 * quality failure).
 * @throws RangeError when `opts` holds a keep count that is not a non-negative integer.
 */
export function partialMask(tag: string | undefined, value: string, opts?: PartialOptions): PartialResult {
  if (tag === undefined) return { ok: false, reason: 'no sensitivity tag: no partial mask applies' };
  if (!isPartialTag(tag)) return { ok: false, reason: `${tag}: no partial mask for this tag` };
  switch (tag) {
    case 'person_name':
      if (value.trim() === '') return fail(tag, 'blank');
      return masked(tag, value, keepFor(tag, opts));
    case 'cn_id_card': {
      const problem = residentIdProblem(value);
      if (problem !== null) return fail(tag, RESIDENT_ID_PROBLEM_TEXT[problem]);
      return masked(tag, value, keepFor(tag, opts));
    }
    case 'cn_mobile':
      if (!/^1\d{10}$/.test(value)) return fail(tag, 'not an 11-digit mainland mobile number starting with 1');
      return masked(tag, value, keepFor(tag, opts));
    case 'bank_card':
      if (!/^\d{12,19}$/.test(value)) return fail(tag, 'not a card number of 12–19 digits');
      return masked(tag, value, keepFor(tag, opts));
    case 'email': {
      const m = EMAIL.exec(value);
      if (m === null) return fail(tag, 'not an address of the form local@domain.tld');
      const [, local = '', domain = ''] = m;
      const r = masked(tag, local, keepFor(tag, opts), 3);
      return r.ok ? { ok: true, value: `${r.value}@${domain}` } : r;
    }
    case 'address':
      return maskAddress(value, opts);
    case 'phone': {
      const m = PHONE.exec(value);
      if (m === null) return fail(tag, 'not a mainland landline number (area code, optional -/space, 7–8 digits)');
      const [, area = '', sep = '', local = ''] = m;
      const r = masked(tag, local, keepFor(tag, opts));
      return r.ok ? { ok: true, value: area + sep + r.value } : r;
    }
  }
}

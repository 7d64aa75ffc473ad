/**
 * fast-check arbitraries for the rule-engine property test (engine/delivery/rule-engine.property.test.ts): random
 * resource catalogs (columns, types, classification, tags, sharing, conditions), masking policies, subscribers,
 * subscriptions, and runs of change events whose values are realistic for each column's type and sensitivity tag —
 * valid and invalid resident IDs, mobiles, names, addresses, bank cards, e-mails, landlines, numbers, dates — with
 * junk strings and NULLs mixed in.
 */

import fc from 'fast-check';
import { generateResidentId, residentIdCheckChar } from '../../masking/index.ts';
import type { MaskingMatrix, MaskingRow, PartialOptions, Strategy } from '../../masking/index.ts';
import type { ResourceSchema } from '../../ports/index.ts';
import type {
  ChangeEvent,
  ColumnType,
  ConditionsConfig,
  FieldConfig,
  GeneralizeConfig,
  ResourceConfig,
  Row,
  SubscriberConfig,
  SubscriptionConfig,
} from '../../../schemas/index.ts';
import { GIVEN_NAMES, SURNAMES } from '../sample-names.ts';

/** The instant every grant of the property is decided for. */
export const AT = '2026-06-01T00:00:00.000Z';

export const STRATEGIES: readonly Strategy[] = ['clear', 'partial', 'generalize', 'encrypt', 'hash', 'null', 'deny'];
export const TAGS = ['person_name', 'cn_id_card', 'cn_mobile', 'bank_card', 'email', 'address', 'phone'] as const;
export type Tag = (typeof TAGS)[number];

export const PURPOSES = ['social-assistance', 'tax-audit', 'statistics'] as const;
export const BUSINESS_SYSTEMS = ['mz-welfare', 'tax-core'] as const;
export const ORGANISATIONS = ['11100000000013127X', '12100000400010639A', 'org-civil-affairs'] as const;
export const SUBSCRIBER_IDS = ['civil-affairs', 'tax-bureau', 'stats-office'] as const;

const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');

/** A tiny deterministic PRNG (Park–Miller) for generateResidentId, seeded by fast-check. */
function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 48271) % 2147483647;
    return (s - 1) / 2147483646;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Values, by column type and tag
// ---------------------------------------------------------------------------------------------------------------

const personName: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(fc.constantFrom(...SURNAMES), fc.constantFrom(...GIVEN_NAMES)).map(([a, b]) => a + b),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...SURNAMES), fc.constantFrom(...GIVEN_NAMES), fc.constantFrom(...GIVEN_NAMES))
      .map(([a, b, c]) => a + b + c),
  },
  { weight: 1, arbitrary: fc.constantFrom('阿卜杜拉·买买提', '𠀀三', 'Zhang San', '张', ' ') },
);

const residentId: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.integer().map((seed) => generateResidentId(lcg(seed))) },
  {
    weight: 1,
    arbitrary: fc.integer().map((seed) => generateResidentId(lcg(seed), { minBirthYear: 1800, maxBirthYear: 2099 })),
  },
  // lowercase x check character where the check is X (valid), else a wrong check character (invalid)
  {
    weight: 1,
    arbitrary: fc.integer().map((seed) => {
      const id = generateResidentId(lcg(seed));
      const first17 = id.slice(0, 17);
      if (residentIdCheckChar(first17) === 'X') return first17 + 'x';
      return first17 + (id.endsWith('0') ? '1' : '0');
    }),
  },
  // 15-digit first generation, and other near misses
  { weight: 1, arbitrary: fc.stringMatching(/^[1-6]\d{14}$/) },
  { weight: 1, arbitrary: fc.constantFrom('11010519491231002X', '110105194902300021', '11010519491231002') },
);

const mobile: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^1[3-9]\d{9}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^\+861[3-9]\d{9}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^1[3-9]\d \d{4} \d{4}$/) },
);

const bankCard: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^62\d{14,17}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^\d{4} \d{4} \d{4} \d{4}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^\d{8,11}$/) },
);

const DOMAINS = ['example.cn', 'gov.cn', 'mail.example.com.cn', '例子.中国', '163.com', 'qq.com'];
const email: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.stringMatching(/^[a-z][a-z0-9._]{0,11}$/), fc.constantFrom(...DOMAINS))
      .map(([l, d]) => `${l}@${d}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('张三丰@例子.中国', 'a@b', 'no-at-sign.example.cn', '@example.cn') },
);

const PLACES = [
  '北京市',
  '上海市',
  '广东省广州市',
  '四川省成都市',
  '浙江省杭州市',
  '新疆维吾尔自治区乌鲁木齐市',
  '香港特别行政区',
];
const DISTRICTS = [
  '东城区',
  '朝阳区',
  '天河区',
  '锦江区',
  '西湖区',
  '淳安县',
  '浦东新区',
  '天山区',
  '中西区',
  '市辖区东城区',
];
const STREETS = ['东华门街道某胡同1号', '世纪大道100号', '千岛湖镇', '某路1号', '人民路88号3单元502室', ''];
const address: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(...PLACES), fc.constantFrom(...DISTRICTS), fc.constantFrom(...STREETS))
      .map(([p, d, s]) => p + d + s),
  },
  // a place below district level first, or no district at all: partial cannot parse it
  {
    weight: 1,
    arbitrary: fc.constantFrom('幸福小区3栋2单元', '高新开发区科技路1号', '人民路88号', '区', '某某社区东区'),
  },
);

const phone: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^0(10|2\d)-[2-9]\d{7}$/) },
  { weight: 2, arbitrary: fc.stringMatching(/^0[3-9]\d{2} [2-9]\d{6}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^\(010\)[2-9]\d{7}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^400-\d{3}-\d{4}$/) },
);

const freeText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('低保', '城乡居民最低生活保障', '审核通过', 'pending', 'approved', '备注：无'),
  fc.stringMatching(/^[a-z]{3,12}( [a-z]{2,8}){0,3}$/),
  fc.string({ minLength: 6, maxLength: 24, unit: 'grapheme' }),
);

/** Texts no source type would produce for a typed column, and strings that look like masked output. */
export const junk: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.string({ maxLength: 12, unit: 'binary' }),
  fc.constantFrom('', ' ', '*', '张*', 'a***@x.cn', 'NaN', 'null', '<0', '[0,500)', '2024', 'deadbeef12', '\\x00ff'),
);

const BOUNDARY_VALUES = ['0', '500', '1000', '100000', '250000', '500000'];

const int32: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.integer().map(String),
  fc.constantFrom('-2147483648', '2147483647', ...BOUNDARY_VALUES),
);

const int64: fc.Arbitrary<string> = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  fc.integer({ min: 0, max: 1_000_000 }).map(String),
  fc.constantFrom('9007199254740993', '-9223372036854775808', '9223372036854775807', ...BOUNDARY_VALUES),
);

function decimalText(precision: number, scale: number): fc.Arbitrary<string> {
  const max = 10n ** BigInt(precision) - 1n;
  const digits = fc.oneof(fc.bigInt({ min: -max, max }), fc.bigInt({ min: -100_000n, max: 10_000_000n }));
  const num = digits.map((n) => {
    if (scale === 0) return String(n);
    const neg = n < 0n;
    const abs = pad(neg ? -n : n, scale + 1);
    return `${neg ? '-' : ''}${abs.slice(0, -scale)}.${abs.slice(-scale)}`;
  });
  return fc.oneof(
    { weight: 10, arbitrary: num },
    { weight: 1, arbitrary: fc.constantFrom('NaN', 'Infinity', '-Infinity') },
  );
}

const ymd = fc
  .tuple(fc.integer({ min: 1, max: 2099 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
  .map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`);
const date: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: ymd },
  { weight: 1, arbitrary: ymd.map((d) => `${d} BC`) },
  { weight: 1, arbitrary: fc.constantFrom('infinity', '-infinity') },
);
const timestamptz: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .tuple(ymd, fc.integer({ min: 0, max: 86_399 }), fc.option(fc.integer({ min: 0, max: 999_999 })))
      .map(
        ([d, s, us]) =>
          `${d} ${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}` +
          `${us === null ? '' : `.${pad(us, 6).replace(/0+$/, '') || '0'}`}+00`,
      ),
  },
  { weight: 1, arbitrary: fc.constantFrom('infinity', '-infinity', '2024-01-01 08:00:00+08') },
);

const TAG_VALUES: Readonly<Record<Tag, fc.Arbitrary<string>>> = {
  person_name: personName,
  cn_id_card: residentId,
  cn_mobile: mobile,
  bank_card: bankCard,
  email,
  address,
  phone,
};

/** A realistic non-null value of a column of `type` holding data of kind `tag` (junk now and then). */
export function valueOf(type: ColumnType, tag: Tag | undefined): fc.Arbitrary<string> {
  let typed: fc.Arbitrary<string>;
  switch (type.kind) {
    case 'int32':
      typed = int32;
      break;
    case 'int64':
      typed =
        tag === 'cn_mobile'
          ? fc.stringMatching(/^1[3-9]\d{9}$/)
          : tag === 'bank_card'
            ? fc.stringMatching(/^62\d{14,16}$/)
            : int64;
      break;
    case 'decimal':
      typed = decimalText(type.precision, type.scale);
      break;
    case 'date':
      typed = date;
      break;
    case 'timestamp':
      typed = timestamptz;
      break;
    case 'bool':
      typed = fc.constantFrom('t', 'f');
      break;
    default:
      typed = tag === undefined ? freeText : TAG_VALUES[tag];
  }
  return fc.oneof({ weight: 12, arbitrary: typed }, { weight: 1, arbitrary: junk });
}

// ---------------------------------------------------------------------------------------------------------------
// Catalog
// ---------------------------------------------------------------------------------------------------------------

/** One column of the generated resource: its type, what its data is, and its classification (absent: unclassified). */
export interface CatalogColumn {
  name: string;
  type: ColumnType;
  sourceType: string;
  /** What the column holds (drives the values), whether or not the catalog says so. */
  holds?: Tag;
  field?: FieldConfig;
}

export interface Catalog {
  resource: ResourceConfig;
  schema: ResourceSchema;
  columns: CatalogColumn[];
}

/** Column names: a safe alphabet (lower-case letters, digits, `_`; never a leading `_`, which sources refuse). */
export const safeName: fc.Arbitrary<string> = fc.stringMatching(/^[a-z][a-z0-9_]{0,9}$/);

/** Names that are keys of Object.prototype: ordinary column names (decision.ts D5). */
export const PROTOTYPE_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'] as const;

const sourceTypeOf = (t: ColumnType, length?: number): string => {
  switch (t.kind) {
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'decimal':
      return `numeric(${t.precision},${t.scale})`;
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp with time zone';
    case 'bool':
      return 'boolean';
    default:
      return length === undefined ? 'text' : `character varying(${length})`;
  }
};

const decimalType: fc.Arbitrary<ColumnType> = fc
  .constantFrom(10, 12, 18, 38)
  .chain((precision) =>
    fc
      .integer({ min: 0, max: Math.min(6, precision) })
      .map((scale): ColumnType => ({ kind: 'decimal', precision, scale })),
  );
const OTHER_TYPES: ColumnType[] = [
  { kind: 'int32' },
  { kind: 'int64' },
  { kind: 'date' },
  { kind: 'timestamp', tz: 'UTC' },
  { kind: 'bool' },
];

/** A column's type and what it holds: tags mostly on text, mobiles and card numbers sometimes in a bigint. */
const typeAndHolds: fc.Arbitrary<{ type: ColumnType; holds?: Tag }> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .option(fc.constantFrom(...TAGS), { nil: undefined, freq: 3 })
      .map((holds) => ({ type: { kind: 'utf8' } as ColumnType, ...(holds ? { holds } : {}) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<Tag | undefined>('cn_mobile', 'bank_card', undefined)
      .map((holds) => ({ type: { kind: 'int64' } as ColumnType, ...(holds ? { holds } : {}) })),
  },
  { weight: 4, arbitrary: fc.oneof(fc.constantFrom(...OTHER_TYPES), decimalType).map((type) => ({ type })) },
);

const instants = fc.constantFrom(
  '2026-01-01T00:00:00Z',
  AT,
  '2026-06-01T00:00:00.000001Z',
  '2026-05-31T23:59:59.999999Z',
  '2027-01-01T00:00:00+08:00',
);

const CONDITIONS = {
  organisations: fc.subarray([...ORGANISATIONS, ...SUBSCRIBER_IDS], { minLength: 1 }),
  adminLevels: fc.subarray(['national', 'provincial', 'municipal', 'county'] as const, { minLength: 1 }),
  purposes: fc.subarray([...PURPOSES], { minLength: 1 }),
  businessSystems: fc.subarray([...BUSINESS_SYSTEMS], { minLength: 1 }),
  validFrom: instants,
  validUntil: instants,
  maxDeliveries: fc.integer({ min: 1, max: 3 }),
  minClearance: fc.integer({ min: 0, max: 4 }),
};
type ConditionName = keyof typeof CONDITIONS;

/** One to three listed conditions (all of them at once would almost never hold). */
const conditions: fc.Arbitrary<ConditionsConfig> = fc
  .subarray(Object.keys(CONDITIONS) as ConditionName[], { minLength: 1, maxLength: 3 })
  .chain(
    (keys) => fc.record(Object.fromEntries(keys.map((k) => [k, CONDITIONS[k]]))) as fc.Arbitrary<ConditionsConfig>,
  );

/** Strictly ascending bucket boundaries (decimal strings or numbers), often hitting values rows also hold. */
const buckets: fc.Arbitrary<(string | number)[]> = fc
  .uniqueArray(
    fc.oneof(
      fc.constantFrom(...BOUNDARY_VALUES.map(BigInt)),
      fc.bigInt({ min: -1_000_000n, max: 10_000_000n }),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .chain((xs) =>
    fc.tuple(
      fc.constant([...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))),
      fc.array(fc.boolean(), { minLength: xs.length, maxLength: xs.length }),
    ),
  )
  .map(([xs, asNumber]) =>
    xs.map((x, i) => (asNumber[i] && x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : String(x))),
  );

/** A field's own generalize options: buckets for a numeric column (rarely forgotten), otherwise sometimes. */
function generalizeFor(type: ColumnType): fc.Arbitrary<GeneralizeConfig | undefined> {
  switch (type.kind) {
    case 'int32':
    case 'int64':
    case 'decimal':
      return fc.oneof(
        { weight: 30, arbitrary: buckets.map((b): GeneralizeConfig => ({ buckets: b })) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      );
    case 'date':
    case 'timestamp':
      return fc.option(
        fc.constantFrom('year', 'month' as const).map((d): GeneralizeConfig => ({ date: d })),
        { nil: undefined },
      );
    default:
      return fc.option(
        fc.constantFrom(2, 4, 6 as const).map((d): GeneralizeConfig => ({ idRegionDigits: d })),
        { nil: undefined },
      );
  }
}

function fieldFor(type: ColumnType, holds: Tag | undefined): fc.Arbitrary<FieldConfig | undefined> {
  const classified = fc
    .record({
      level: fc.constantFrom('core', 'important', 'general' as const),
      // the catalog usually says what the column holds; sometimes it has no tag, or the wrong one
      tag: fc.oneof(
        { weight: 8, arbitrary: fc.constant(holds) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom(...TAGS) },
      ),
      share: fc.constantFrom('unconditional', 'unconditional', 'conditional', 'conditional', 'none' as const),
      conditions: fc.option(conditions, { nil: undefined, freq: 2 }),
      generalize: generalizeFor(type),
      required: fc.boolean(),
    })
    .map(({ level, tag, share, conditions: c, generalize, required }): FieldConfig => ({
      level,
      share,
      ...(tag !== undefined ? { tag } : {}),
      ...(c !== undefined && share === 'conditional' ? { conditions: c } : {}),
      ...(generalize !== undefined ? { generalize } : {}),
      ...(required ? { required } : {}),
    }));
  return fc.oneof({ weight: 6, arbitrary: classified }, { weight: 1, arbitrary: fc.constant(undefined) });
}

const column = (name: string): fc.Arbitrary<CatalogColumn> =>
  typeAndHolds.chain(({ type, holds }) =>
    fc
      .tuple(fieldFor(type, holds), fc.option(fc.integer({ min: 4, max: 40 }), { nil: undefined, freq: 4 }))
      .map(([field, length]) => ({
        name,
        type,
        sourceType: sourceTypeOf(type, type.kind === 'utf8' ? length : undefined),
        ...(holds ? { holds } : {}),
        ...(field ? { field } : {}),
      })),
  );

/** A resource of 3–12 columns; the first one or two are the key. */
export function catalog(names: fc.Arbitrary<string> = safeName): fc.Arbitrary<Catalog> {
  return fc
    .uniqueArray(names, { minLength: 3, maxLength: 12 })
    .chain((ns) => fc.tuple(fc.tuple(...ns.map(column)), fc.integer({ min: 1, max: 2 })))
    .map(([columns, keys]): Catalog => {
      const key = columns.slice(0, keys).map((c) => c.name);
      const fields: Record<string, FieldConfig> = {};
      for (const c of columns) if (c.field) fields[c.name] = c.field;
      return {
        columns,
        resource: { id: 'households', provider: 'civil', table: 'public.households', key, fields },
        schema: {
          resource: 'households',
          version: 1,
          key,
          columns: columns.map((c) => ({ name: c.name, type: c.type, sourceType: c.sourceType })),
        },
      };
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Policy, subscriber, subscription
// ---------------------------------------------------------------------------------------------------------------

/** Any of the 7 strategies; `deny` (which delivers nothing to look at) a little less often. */
const strategy: fc.Arbitrary<Strategy> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...STRATEGIES.filter((s) => s !== 'deny')) },
  { weight: 1, arbitrary: fc.constant('deny' as const) },
);

/** A matrix or tag row: random thresholds "0".."4" and (usually) a default, each to any of the 7 strategies. */
export const maskingRow: fc.Arbitrary<MaskingRow> = fc
  .tuple(
    fc.record({ '0': strategy, '1': strategy, '2': strategy, '3': strategy, '4': strategy }, { requiredKeys: [] }),
    fc.option(strategy, { nil: undefined, freq: 4 }),
  )
  .map(([row, d]): MaskingRow => (d === undefined ? row : { ...row, default: d }));

export interface Policy {
  matrix: MaskingMatrix;
  tags?: Record<string, MaskingRow>;
  partial?: PartialOptions;
  /** Deployment default of generalize (`masking.generalize`). */
  generalize?: { date?: 'year' | 'month' };
}

const keep = fc.record(
  { keepFirst: fc.integer({ min: 0, max: 8 }), keepLast: fc.integer({ min: 0, max: 8 }) },
  { requiredKeys: [] },
);

export const policy: fc.Arbitrary<Policy> = fc
  .record({
    matrix: fc.record({ core: maskingRow, important: maskingRow, general: maskingRow }),
    tags: fc.option(fc.dictionary(fc.constantFrom(...TAGS), maskingRow, { maxKeys: 3 }), { nil: undefined }),
    partial: fc.option(fc.dictionary(fc.constantFrom(...TAGS), keep, { maxKeys: 3 }), { nil: undefined }),
    generalize: fc.option(fc.constantFrom('year', 'month' as const), { nil: undefined }),
  })
  .map(({ matrix, tags, partial, generalize }) => ({
    matrix,
    ...(tags ? { tags } : {}),
    ...(partial ? { partial } : {}),
    ...(generalize ? { generalize: { date: generalize } } : {}),
  }));

export const subscriber: fc.Arbitrary<SubscriberConfig> = fc
  .record({
    id: fc.constantFrom(...SUBSCRIBER_IDS),
    clearance: fc.integer({ min: 0, max: 4 }),
    organisation: fc.option(fc.constantFrom(...ORGANISATIONS), { nil: undefined }),
    adminLevel: fc.option(fc.constantFrom('national', 'provincial', 'municipal', 'county' as const), {
      nil: undefined,
    }),
  })
  .map(({ id, clearance, organisation, adminLevel }) => ({
    id,
    clearance,
    ...(organisation !== undefined ? { organisation } : {}),
    ...(adminLevel !== undefined ? { adminLevel } : {}),
  }));

/** Names a subscription may ask for that the resource's schema does not have. */
const GHOSTS = ['ghost', 'salary', 'id_no'];

/**
 * A subscription of `cat`: a random ordered subset of its columns (classified or not) and of names it does not
 * have, `masks` overrides that are stricter or looser than the matrix (some for fields it does not request), and a
 * purpose and business system.
 */
export function subscription(cat: Catalog, subscriberId: string): fc.Arbitrary<SubscriptionConfig> {
  const columns = cat.columns.map((c) => c.name);
  const ghosts = GHOSTS.filter((g) => !columns.includes(g));
  const names = [...columns, ...ghosts];
  return fc
    .record({
      // at least half of the columns, now and then a name the schema does not have, in a random order
      fields: fc
        .tuple(
          fc.subarray(columns, { minLength: Math.ceil(columns.length / 2) }),
          fc.subarray(ghosts, { maxLength: 1 }),
        )
        .chain(([cs, gs]) => fc.shuffledSubarray([...cs, ...gs], { minLength: cs.length + gs.length })),
      masks: fc.option(fc.dictionary(fc.constantFrom(...names), strategy, { maxKeys: 4 }), { nil: undefined }),
      purpose: fc.constantFrom(...PURPOSES),
      businessSystem: fc.constantFrom(...BUSINESS_SYSTEMS),
    })
    .map(({ fields, masks, purpose, businessSystem }) => ({
      id: 'households-to-welfare',
      subscriber: subscriberId,
      resource: cat.resource.id,
      fields,
      ...(masks ? { masks } : {}),
      purpose,
      businessSystem,
      delivery: { mode: 'batch' as const, cadence: '0 * * * *', dir: '/tmp/out' },
    }));
}

// ---------------------------------------------------------------------------------------------------------------
// Change events
// ---------------------------------------------------------------------------------------------------------------

/** A full row image of `cat`: every column, NULL now and then. */
export function rowOf(cat: Catalog): fc.Arbitrary<Row> {
  return fc
    .tuple(
      ...cat.columns.map((c) =>
        fc.option(valueOf(c.type, c.holds), { nil: null, freq: cat.schema.key.includes(c.name) ? 40 : 8 }),
      ),
    )
    .map((vs) => {
      const row: Row = {};
      cat.columns.forEach((c, i) => (row[c.name] = vs[i] ?? null));
      return row;
    });
}

type Draft = Pick<ChangeEvent, 'op' | 'key' | 'before' | 'after' | 'unchanged'>;

const project = (row: Row, names: readonly string[]): Row => {
  const out: Row = {};
  for (const n of names) out[n] = row[n] ?? null;
  return out;
};

/** One event before the bus numbers it: insert, update (sometimes with unchanged TOAST columns), delete, read, truncate. */
function draft(cat: Catalog): fc.Arbitrary<Draft> {
  const key = cat.schema.key;
  const nonKey = cat.columns.map((c) => c.name).filter((n) => !key.includes(n));
  const row = rowOf(cat);
  return fc.oneof(
    { weight: 3, arbitrary: row.map((after): Draft => ({ op: 'c', key: project(after, key), after })) },
    { weight: 1, arbitrary: row.map((after): Draft => ({ op: 'r', key: project(after, key), after })) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          row,
          fc.option(row, { nil: null }),
          fc.subarray(nonKey, { maxLength: Math.min(3, nonKey.length) }),
          fc.boolean(),
        )
        .map(([after, old, unchanged, fullBefore]): Draft => {
          const k = project(after, key);
          // the old row has the same key; without REPLICA IDENTITY FULL the source sends no before image
          const before = old && fullBefore ? { ...old, ...k } : null;
          const sent: Row = { ...after };
          for (const n of unchanged) delete sent[n];
          return { op: 'u', key: k, before, after: sent, ...(unchanged.length > 0 ? { unchanged } : {}) };
        }),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(row, fc.boolean())
        .map(([old, full]): Draft => ({ op: 'd', key: project(old, key), before: full ? old : null, after: null })),
    },
    { weight: 1, arbitrary: fc.constant<Draft>({ op: 't', key: {} }) },
  );
}

/** A run of 1–`max` change events of `cat` as the bus delivers them: seq and commit times increasing. */
export function events(cat: Catalog, max = 6): fc.Arbitrary<ChangeEvent[]> {
  return fc
    .tuple(fc.array(draft(cat), { minLength: 1, maxLength: max }), fc.integer({ min: 1, max: 1_000_000 }))
    .map(([drafts, first]) =>
      drafts.map((d, i): ChangeEvent => {
        const us = 1_780_272_000_000_000 + (first + i) * 1_000_003;
        const ms = Math.floor(us / 1000);
        const commitTs = new Date(ms).toISOString().replace('Z', `${pad(us % 1000, 3)}Z`);
        return {
          resource: cat.resource.id,
          ...d,
          position: pad(first + i, 16),
          seq: String(first + i),
          commitTs,
          txId: String(700 + i),
          schemaVersion: 1,
        };
      }),
    );
}

/** Choices for a row filter over a clear-granted column, resolved by the test once the grant is known. */
export interface FilterChoice {
  column: number;
  form: number;
  literal: number;
}

export const filterChoice: fc.Arbitrary<FilterChoice> = fc.record({
  column: fc.nat(),
  form: fc.nat(),
  literal: fc.nat(),
});

import test from 'ava';
import fc from 'fast-check';
import type { ColumnType } from '../../schemas/index.ts';
import { decryptValue, deriveEncryptKeys } from './encrypt.ts';
import { generateResidentId } from './gb11643.ts';
import type { GeneralizeOptions } from './generalize.ts';
import { hmacHex } from './hash.ts';
import { createFieldMasker, type FieldMaskerOptions } from './masker.ts';

const hashKey = new TextEncoder().encode('property-key');
const dataKey = new Uint8Array(32).fill(42);
const encryptKey = deriveEncryptKeys(dataKey);

const TAGS = [undefined, 'cn_id_card', 'person_name', 'cn_mobile', 'bank_card', 'email', 'address', 'phone', 'x'];
const ANY_TYPES: ColumnType[] = [
  { kind: 'utf8' },
  { kind: 'int64' },
  { kind: 'decimal', precision: 12, scale: 2 },
  { kind: 'float64' },
  { kind: 'date' },
  { kind: 'timestamp', tz: null },
  { kind: 'timestamp', tz: 'UTC' },
  { kind: 'bool' },
  { kind: 'binary' },
];

/** Strictly ascending bucket boundaries, as strings and numbers. */
const buckets = fc
  .uniqueArray(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), { minLength: 1, maxLength: 6 })
  .chain((xs) =>
    fc.tuple(
      fc.constant([...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))),
      fc.array(fc.boolean(), { minLength: xs.length, maxLength: xs.length }),
    ),
  )
  .map(([xs, asNumber]) =>
    xs.map((x, i) => (asNumber[i] && x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : String(x))),
  );

/** A masker configuration that is valid for its strategy. */
const config: fc.Arbitrary<FieldMaskerOptions> = fc.oneof(
  fc.record({
    strategy: fc.constantFrom('clear', 'partial', 'encrypt', 'hash', 'null' as const),
    column: fc.constantFrom('c', 'id_card', '名字'),
    tag: fc.constantFrom(...TAGS),
    type: fc.constantFrom(...ANY_TYPES),
    hashKey: fc.constant(hashKey),
    encryptKey: fc.constantFrom(dataKey, encryptKey),
  }),
  fc.record({
    strategy: fc.constant('generalize' as const),
    column: fc.constant('g'),
    tag: fc.constantFrom(...TAGS),
    type: fc.constantFrom<ColumnType>(
      { kind: 'date' },
      { kind: 'timestamp', tz: null },
      { kind: 'timestamp', tz: 'UTC' },
    ),
    hashKey: fc.constant(hashKey),
    generalize: fc.record({ date: fc.constantFrom('year', 'month' as const) }, { requiredKeys: [] }),
  }),
  fc.record({
    strategy: fc.constant('generalize' as const),
    column: fc.constant('g'),
    tag: fc.constantFrom(...TAGS),
    type: fc.constantFrom<ColumnType>(
      { kind: 'int64' },
      { kind: 'decimal', precision: 30, scale: 5 },
      { kind: 'float32' },
    ),
    hashKey: fc.constant(hashKey),
    generalize: buckets.map((b): GeneralizeOptions => ({ buckets: b })),
  }),
  fc.record({
    strategy: fc.constant('generalize' as const),
    column: fc.constant('g'),
    tag: fc.constant('cn_id_card'),
    type: fc.constant<ColumnType>({ kind: 'utf8' }),
    hashKey: fc.constant(hashKey),
    generalize: fc.constantFrom<GeneralizeOptions>({}, { idRegionDigits: 2 }, { idRegionDigits: 6 }),
  }),
);

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Values: arbitrary strings, and strings in the shapes the masks parse. */
const value: fc.Arbitrary<string | null> = fc.oneof(
  fc.constant(null),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.bigInt().map(String),
  fc.tuple(fc.bigInt(), fc.nat(30)).map(([m, s]) => (s === 0 ? String(m) : `${m}.${pad(s, 3)}`)),
  fc.double().map(String),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', 'infinity', '-infinity', '', '*', '张*', 'a***@x.cn'),
  fc
    .tuple(
      fc.integer({ min: 1, max: 9999 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 28 }),
      fc.boolean(),
    )
    .map(([y, m, d, bc]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}${bc ? ' BC' : ''}`),
  fc
    .tuple(fc.date({ noInvalidDate: true, min: new Date('0001-01-01'), max: new Date('9999-12-31') }), fc.boolean())
    .map(([d, z]) =>
      d
        .toISOString()
        .replace('T', ' ')
        .replace('Z', z ? '+00' : ''),
    ),
  fc.integer().map((seed) => {
    let s = seed >>> 0 || 1;
    return generateResidentId(() => ((s = (s * 48271) % 2147483647) - 1) / 2147483646);
  }),
  fc.stringMatching(/^1\d{10}$/),
);

const LABEL = /^(\d{4,}(-\d{2})?( BC)?|<-?[\d.]+|\[-?[\d.]+,-?[\d.]+\)|>=-?[\d.]+|\d{2,6}-\d{4})$/;

test('a masker never throws, keeps null, and never returns the raw value for a non-clear strategy', (t) => {
  fc.assert(
    fc.property(config, value, (opts, raw) => {
      const out = createFieldMasker(opts)(raw);
      if (raw === null) return out.value === null;
      switch (opts.strategy) {
        case 'clear':
          return out.value === raw && out.fallback === undefined;
        case 'null':
          return out.value === null;
        case 'hash':
          return out.value === hmacHex(hashKey, raw);
        case 'encrypt': {
          // Decrypts back to the UTF-8 round trip of the value (lone surrogates become U+FFFD, as in Postgres text).
          const back = decryptValue(encryptKey, opts.column, out.value ?? '');
          return out.value !== raw && back.ok && back.value === Buffer.from(raw, 'utf8').toString('utf8');
        }
        case 'partial':
          // A value already masked ("张*", "a***@x.cn") masks to itself: the only way the output can equal the input.
          if (out.fallback === 'hash') return out.value === hmacHex(hashKey, raw) && typeof out.reason === 'string';
          return out.value !== raw || raw.includes('*');
        case 'generalize':
          // Labels never look like a value of their column (a date has a day, a number no brackets, an ID 18 chars).
          // Reasons are fixed texts: a value long enough not to be a chance substring of one never shows in it.
          if (out.fallback === 'hash') {
            return out.value === hmacHex(hashKey, raw) && !!out.reason && (raw.length < 8 || !out.reason.includes(raw));
          }
          return out.value !== raw && LABEL.test(out.value ?? '');
        default:
          return false;
      }
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

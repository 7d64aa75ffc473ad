/**
 * The `generalize` strategy (DESIGN.md "Masking"): a value becomes a coarser string label.
 *
 * | source column | label | example |
 * |---|---|---|
 * | date, timestamp, timestamptz | `YYYY` (default) or `YYYY-MM` | `2024-03-15 08:00:00+00` → `2024`; `0044-03-15 BC` → `0044 BC` |
 * | int16/32/64, decimal, float32/64 | bucket of the configured boundaries | with `["0","500","1000"]`: `-1` → `<0`, `500` → `[500,1000)`, `1000` → `>=1000` |
 * | text tagged `cn_id_card` | division prefix + `-` + birth year | `11010519491231002X` → `1101-1949` |
 *
 * Values are canonical Postgres text (DateStyle ISO, TimeZone UTC): dates `YYYY-MM-DD[ BC]`, timestamps
 * `YYYY-MM-DD HH:MM:SS[.ffffff][ BC]`, timestamptz the same with `+00` before the era. Years keep the digits as
 * written (four or more). Numbers are compared exactly as decimals ({@link parseOrderedDecimal}), so an int64 beyond
 * 2^53 or a long decimal lands in the right bucket; `Infinity`/`-Infinity` fall in the outer buckets.
 *
 * Unparseable values — `infinity`/`-infinity` dates, numeric `NaN`, invalid resident IDs (15 digits, wrong check
 * character), or text not in the canonical form — give `ok: false` with a reason that never contains the value;
 * the masker then hashes the value and reports `fallback: 'hash'`, as `partial` does.
 *
 * Decisions: the column's type decides the rule (a numeric column tagged `cn_id_card` is bucketed); options that do
 * not apply to the column's type are ignored, so one options object can serve several fields; a timestamptz in
 * another offset than `+00` is not canonical and is unparseable (its UTC year could differ); bucket labels use the
 * boundary as configured (`String(n)` for a number).
 */

import { columnTypeName, type ColumnType } from '../../schemas/index.ts';
import { compareOrderedDecimal, parseOrderedDecimal, type OrderedDecimal } from './decimal-order.ts';
import { RESIDENT_ID_PROBLEM_TEXT, daysInMonth, residentIdProblem } from './gb11643.ts';

/** How `generalize` coarsens one field (the config's `fields.<col>.generalize`). */
export interface GeneralizeOptions {
  /** Dates and timestamps to `YYYY` (`year`, the default) or `YYYY-MM` (`month`). */
  readonly date?: 'year' | 'month';
  /**
   * Strictly ascending bucket boundaries of a numeric field, as decimal strings (`"-1.5"`, `"9007199254740993"`) or
   * finite numbers; labels `<b0`, `[b0,b1)`, …, `>=bn`. Required for numeric columns.
   */
  readonly buckets?: readonly (string | number)[];
  /** Digits of a resident ID's division code kept with the birth year: 2 (province), 4 (city, default), 6 (county). */
  readonly idRegionDigits?: 2 | 4 | 6;
}

/** Outcome of generalizing one value. */
export type GeneralizeResult = { ok: true; value: string } | { ok: false; reason: string };

/** Generalizes one non-null value of a column. */
export type Generalizer = (value: string) => GeneralizeResult;

/** What the generalization of a column was compiled from. */
export type GeneralizeRule = 'date' | 'bucket' | 'resident-id';

/** Outcome of {@link compileGeneralizer}. */
export type CompiledGeneralizer =
  { ok: true; rule: GeneralizeRule; generalize: Generalizer } | { ok: false; problems: string[] };

const SUPPORTED =
  'generalize supports date, timestamp and timestamptz columns (to year or month), numeric columns ' +
  '(int16/int32/int64/decimal/float32/float64, with buckets) and text columns tagged cn_id_card';

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/** A bucket boundary: its label text and its parsed value. */
export interface BucketBoundary {
  readonly label: string;
  readonly value: OrderedDecimal;
}

/**
 * Problems in one field's {@link GeneralizeOptions} that do not depend on the column (unknown keys, a `date` other
 * than year/month, boundaries that are not decimals or not strictly ascending, `idRegionDigits` other than 2/4/6);
 * empty when valid. Messages name the option, never a value of the data.
 */
export function validateGeneralizeOptions(opts: GeneralizeOptions | undefined): string[] {
  const issues: string[] = [];
  if (opts === undefined) return issues;
  if (typeof opts !== 'object' || opts === null) return ['generalize options must be an object'];
  for (const k of Object.keys(opts)) {
    if (k !== 'date' && k !== 'buckets' && k !== 'idRegionDigits') issues.push(`${k}: unknown generalize option`);
  }
  if (opts.date !== undefined && opts.date !== 'year' && opts.date !== 'month') {
    issues.push('date: must be "year" or "month"');
  }
  if (opts.idRegionDigits !== undefined && ![2, 4, 6].includes(opts.idRegionDigits)) {
    issues.push('idRegionDigits: must be 2, 4 or 6');
  }
  if (opts.buckets !== undefined) issues.push(...parseBoundaries(opts.buckets).issues);
  return issues;
}

function parseBoundaries(buckets: unknown): { boundaries: BucketBoundary[]; issues: string[] } {
  const boundaries: BucketBoundary[] = [];
  const issues: string[] = [];
  if (!Array.isArray(buckets) || buckets.length === 0) {
    return { boundaries, issues: ['buckets: must be a non-empty array of ascending boundaries'] };
  }
  buckets.forEach((b: unknown, i) => {
    let label: string | undefined;
    if (typeof b === 'number' && Number.isFinite(b)) label = String(b);
    else if (typeof b === 'string' && PLAIN_DECIMAL.test(b)) label = b;
    const value = label === undefined ? undefined : parseOrderedDecimal(label);
    if (label === undefined || value === undefined) {
      issues.push(`buckets[${i}]: must be a decimal string like "-12.5" or a finite number`);
      return;
    }
    const prev = boundaries.at(-1);
    if (prev !== undefined && compareOrderedDecimal(prev.value, value) >= 0) {
      issues.push(`buckets[${i}]: boundaries must be strictly ascending (${label} after ${prev.label})`);
    }
    boundaries.push({ label, value });
  });
  return { boundaries, issues };
}

/**
 * Compiles the generalization of one column: the rule its type (and, for text, its tag) selects, with the options
 * checked against it. `ok: false` lists every problem (an unsupported type or tag, a numeric column without
 * buckets, invalid options); the caller names the field.
 */
export function compileGeneralizer(
  type: ColumnType,
  tag: string | undefined,
  opts: GeneralizeOptions = {},
): CompiledGeneralizer {
  const problems = validateGeneralizeOptions(opts);
  const o: GeneralizeOptions = typeof opts === 'object' && opts !== null ? opts : {};
  let compiled: CompiledGeneralizer | undefined;
  let supported = true;
  switch (type.kind) {
    case 'date':
    case 'timestamp': {
      const precision = o.date === 'month' ? 'month' : 'year';
      const shape = type.kind === 'date' ? 'date' : type.tz === null ? 'timestamp' : 'timestamptz';
      compiled = { ok: true, rule: 'date', generalize: (v) => generalizeDate(v, shape, precision) };
      break;
    }
    case 'int16':
    case 'int32':
    case 'int64':
    case 'decimal':
    case 'float32':
    case 'float64': {
      if (o.buckets === undefined) {
        problems.push('a numeric column needs buckets (ascending boundaries, e.g. buckets: ["0", "500", "1000"])');
        break;
      }
      const { boundaries } = parseBoundaries(o.buckets);
      compiled = { ok: true, rule: 'bucket', generalize: (v) => bucketOf(v, boundaries) };
      break;
    }
    case 'utf8':
      if (tag === 'cn_id_card' && type.json !== true) {
        const digits = o.idRegionDigits ?? 4;
        compiled = { ok: true, rule: 'resident-id', generalize: (v) => generalizeResidentId(v, digits) };
      } else supported = false;
      break;
    default:
      supported = false;
  }
  if (!supported) {
    problems.push(`${SUPPORTED}; got ${columnTypeName(type)}${tag === undefined ? ' (no tag)' : ` tagged ${tag}`}`);
  }
  return problems.length > 0 || compiled === undefined ? { ok: false, problems } : compiled;
}

/** Canonical text shapes of the date-like columns. */
export type DateShape = 'date' | 'timestamp' | 'timestamptz';

const DATE_SHAPES: Readonly<Record<DateShape, RegExp>> = {
  date: /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/,
  timestamp: /^(\d{4,})-(\d{2})-(\d{2}) ([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.\d{1,6})?( BC)?$/,
  timestamptz: /^(\d{4,})-(\d{2})-(\d{2}) ([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.\d{1,6})?\+00( BC)?$/,
};

const DATE_FORMS: Readonly<Record<DateShape, string>> = {
  date: 'YYYY-MM-DD[ BC]',
  timestamp: 'YYYY-MM-DD HH:MM:SS[.ffffff][ BC]',
  timestamptz: 'YYYY-MM-DD HH:MM:SS[.ffffff]+00[ BC]',
};

/**
 * A date, timestamp or timestamptz (canonical text of `shape`) to its year (`YYYY`, `0044 BC`) or month
 * (`YYYY-MM`, `0044-03 BC`). The date must exist in the proleptic Gregorian calendar (1 BC is a leap year, as in
 * Postgres); `infinity`/`-infinity` and anything else give `ok: false`.
 */
export function generalizeDate(
  value: string,
  shape: DateShape,
  precision: 'year' | 'month' = 'year',
): GeneralizeResult {
  if (value === 'infinity' || value === '-infinity') {
    return { ok: false, reason: `${shape}: an infinite ${shape} has no year` };
  }
  const m = DATE_SHAPES[shape].exec(value);
  const [, y = '', mo = '', d = ''] = m ?? [];
  const bc = m !== null && m[m.length - 1] !== undefined;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  // Astronomical year for the leap rule: 1 BC = year 0, 5 BC = −4 (leap).
  const leapYear = bc ? 1 - year : year;
  if (m === null || year === 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(leapYear, month)) {
    return { ok: false, reason: `${shape}: not a valid ${DATE_FORMS[shape]}` };
  }
  const era = bc ? ' BC' : '';
  return { ok: true, value: precision === 'month' ? `${y}-${mo}${era}` : `${y}${era}` };
}

/**
 * Builds bucket boundaries for {@link bucketOf} from configured values.
 * @throws RangeError when a boundary is not a decimal or they are not strictly ascending.
 */
export function bucketBoundaries(buckets: readonly (string | number)[]): readonly BucketBoundary[] {
  const { boundaries, issues } = parseBoundaries(buckets);
  if (issues.length > 0) throw new RangeError(`invalid buckets: ${issues.join('; ')}`);
  return boundaries;
}

/**
 * The bucket label of a number (canonical text; `Infinity`/`-Infinity` allowed) among ascending `boundaries`:
 * `<b0` below the first, `[bi,bi+1)` between two, `>=bn` from the last on. `NaN` and non-numbers give `ok: false`.
 */
export function bucketOf(value: string, boundaries: readonly BucketBoundary[]): GeneralizeResult {
  const v = parseOrderedDecimal(value);
  if (v === undefined)
    return { ok: false, reason: 'bucket: not an ordered number (not-a-number, or not decimal text)' };
  // Number of boundaries ≤ v, by binary search.
  let lo = 0;
  let hi = boundaries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareOrderedDecimal(boundaries[mid]!.value, v) <= 0) lo = mid + 1;
    else hi = mid;
  }
  const first = boundaries[0];
  const last = boundaries.at(-1);
  if (first === undefined || last === undefined) return { ok: false, reason: 'bucket: no boundaries configured' };
  if (lo === 0) return { ok: true, value: `<${first.label}` };
  if (lo === boundaries.length) return { ok: true, value: `>=${last.label}` };
  return { ok: true, value: `[${boundaries[lo - 1]!.label},${boundaries[lo]!.label})` };
}

/**
 * A GB 11643 resident ID to the first `regionDigits` digits of its division code, `-`, and the birth year:
 * `11010519491231002X` → `1101-1949`. Invalid IDs (see {@link residentIdProblem}) give `ok: false`.
 */
export function generalizeResidentId(value: string, regionDigits: 2 | 4 | 6 = 4): GeneralizeResult {
  const problem = residentIdProblem(value);
  if (problem !== null) return { ok: false, reason: `cn_id_card: ${RESIDENT_ID_PROBLEM_TEXT[problem]}` };
  return { ok: true, value: `${value.slice(0, regionDigits)}-${value.slice(6, 10)}` };
}

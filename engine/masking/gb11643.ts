/**
 * Resident ID numbers (GB 11643-1999): 6-digit administrative division code + birth date YYYYMMDD + 3-digit
 * sequence (odd = male, even = female) + check character. The check character is
 * `"10X98765432"[Σ(digit_i × weight_i) mod 11]` with weights `7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2`.
 *
 * Decisions:
 * - A lowercase `x` check character is accepted (it is common in keyed-in data); the standard writes `X`.
 * - The birth date must be a real Gregorian date with a year in 1800–2099; no "not in the future" check is made
 *   (this module is pure and has no clock).
 * - The division code is not checked against the division list (it changes over time); it must be 6 digits.
 * - The 15-digit first-generation number is not accepted.
 */
import { daysInMonth } from '../calendar.ts';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

/** A parsed resident ID number. */
export interface ResidentId {
  /** 6-digit administrative division code, e.g. `110105`. */
  readonly division: string;
  readonly birthYear: number;
  /** 1–12. */
  readonly birthMonth: number;
  /** 1–31. */
  readonly birthDay: number;
  /** 3-digit sequence as written, e.g. `002`. */
  readonly sequence: string;
  /** From the sequence's parity: odd = male. */
  readonly sex: 'male' | 'female';
  /** The check character as written (`0`–`9`, `X` or `x`). */
  readonly check: string;
}

/**
 * The GB 11643 check character (`0`–`9` or uppercase `X`) for the first 17 digits of an ID.
 * @throws TypeError when `first17` is not exactly 17 ASCII digits.
 */
export function residentIdCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new TypeError('residentIdCheckChar expects exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARS.charAt(sum % 11);
}

export { daysInMonth };

/** Why {@link parseResidentId} refused a value (never contains the value itself). */
export type ResidentIdProblem = 'length' | 'format' | 'birth date' | 'check character';

/** A sentence for each {@link ResidentIdProblem}, for fallback reasons (never contains the value). */
export const RESIDENT_ID_PROBLEM_TEXT: Readonly<Record<ResidentIdProblem, string>> = Object.freeze({
  length: 'not an 18-character resident ID (15-digit first-generation IDs are not accepted)',
  format: 'not 17 digits followed by a digit or X',
  'birth date': 'birth date is not a valid date',
  'check character': 'GB 11643 check character does not match',
});

/**
 * Parses an 18-character resident ID; see the module notes for what is accepted.
 * @returns the parts, or the kind of problem found.
 */
export function parseResidentId(s: string): { ok: true; id: ResidentId } | { ok: false; problem: ResidentIdProblem } {
  const problem = residentIdProblem(s);
  if (problem !== null) return { ok: false, problem };
  const sequence = s.slice(14, 17);
  return {
    ok: true,
    id: {
      division: s.slice(0, 6),
      birthYear: Number(s.slice(6, 10)),
      birthMonth: Number(s.slice(10, 12)),
      birthDay: Number(s.slice(12, 14)),
      sequence,
      sex: Number(sequence) % 2 === 1 ? 'male' : 'female',
      check: s.charAt(17),
    },
  };
}

/**
 * What is wrong with `s` as an 18-character resident ID, or null when it is valid — {@link parseResidentId}'s
 * verdict without building the parts (one pass over the characters, no allocation: it runs per value).
 */
export function residentIdProblem(s: string): ResidentIdProblem | null {
  if (s.length !== 18) return 'length';
  let sum = 0;
  let year = 0;
  let month = 0;
  let day = 0;
  for (let i = 0; i < 17; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return 'format';
    sum += d * WEIGHTS[i]!;
    if (i >= 6 && i < 10) year = year * 10 + d;
    else if (i >= 10 && i < 12) month = month * 10 + d;
    else if (i >= 12 && i < 14) day = day * 10 + d;
  }
  const last = s.charCodeAt(17);
  if (!((last >= 48 && last <= 57) || last === 88 || last === 120)) return 'format';
  if (year < 1800 || year > 2099 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return 'birth date';
  }
  const expected = CHECK_CHARS.charCodeAt(sum % 11);
  return (last === 120 ? 88 : last) === expected ? null : 'check character';
}

/** Whether `s` is a valid 18-character GB 11643 resident ID (lowercase `x` accepted; see the module notes). */
export function isValidResidentId(s: string): boolean {
  return parseResidentId(s).ok;
}

/** A few real division codes (districts of Beijing, Shanghai, Guangzhou, Chengdu, Hangzhou) for demo data. */
export const DEMO_DIVISION_CODES: readonly string[] = Object.freeze([
  '110101', // 北京市东城区
  '110105', // 北京市朝阳区
  '310101', // 上海市黄浦区
  '440106', // 广州市天河区
  '510104', // 成都市锦江区
  '330106', // 杭州市西湖区
]);

/** Options of {@link generateResidentId}. */
export interface GenerateResidentIdOptions {
  /** Division codes to draw from (6 digits each); default {@link DEMO_DIVISION_CODES}. */
  readonly divisionCodes?: readonly string[];
  /** Earliest birth year, inclusive; default 1940. */
  readonly minBirthYear?: number;
  /** Latest birth year, inclusive; default 2005. */
  readonly maxBirthYear?: number;
  /** Fix the sex (sequence parity); default drawn at random. */
  readonly sex?: 'male' | 'female';
}

/**
 * A valid, plausible resident ID for demo and test data: a division code from the table, a real birth date in the
 * year range, a sequence 001–999 whose parity matches the sex, and the correct (uppercase) check character.
 * @param rand uniform random numbers in [0, 1), e.g. `Math.random` or a seeded generator for reproducible data.
 * @throws RangeError on an empty code table, a code that is not 6 digits, or a year range outside 1800–2099.
 */
export function generateResidentId(rand: () => number, opts: GenerateResidentIdOptions = {}): string {
  const codes = opts.divisionCodes ?? DEMO_DIVISION_CODES;
  const minYear = opts.minBirthYear ?? 1940;
  const maxYear = opts.maxBirthYear ?? 2005;
  if (codes.length === 0) throw new RangeError('generateResidentId: divisionCodes is empty');
  if (!codes.every((c) => /^\d{6}$/.test(c))) throw new RangeError('generateResidentId: division codes are 6 digits');
  if (
    !Number.isInteger(minYear) ||
    !Number.isInteger(maxYear) ||
    minYear < 1800 ||
    maxYear > 2099 ||
    minYear > maxYear
  ) {
    throw new RangeError('generateResidentId: birth years must be integers with 1800 ≤ min ≤ max ≤ 2099');
  }
  const pick = (n: number): number => Math.max(0, Math.min(n - 1, Math.floor(rand() * n)));
  const division = codes[pick(codes.length)] ?? '';
  const year = minYear + pick(maxYear - minYear + 1);
  const month = 1 + pick(12);
  const day = 1 + pick(daysInMonth(year, month));
  const sex = opts.sex ?? (pick(2) === 0 ? 'male' : 'female');
  // male: odd 1..999 (500 values); female: even 2..998 (499 values).
  const seq = sex === 'male' ? 1 + 2 * pick(500) : 2 + 2 * pick(499);
  const first17 =
    division +
    String(year).padStart(4, '0') +
    String(month).padStart(2, '0') +
    String(day).padStart(2, '0') +
    String(seq).padStart(3, '0');
  return first17 + residentIdCheckChar(first17);
}

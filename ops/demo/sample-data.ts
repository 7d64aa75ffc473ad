import { readFileSync } from 'node:fs';
import { generateResidentId } from '../../engine/masking/index.ts';
import { GIVEN_NAMES, SURNAMES } from '../../engine/testing/sample-names.ts';

const DIAGNOSES = ['慢性肾病', '糖尿病', '高血压', '脑梗后遗症', '无', '肢体残疾二级', '视力残疾一级'];
const MOBILE_PREFIXES = ['130', '131', '135', '138', '139', '150', '151', '158', '177', '186', '188', '199'];

export interface Recipient {
  name: string;
  id_card: string;
  mobile: string;
  amount: string;
  diagnosis: string;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** A realistic relief recipient: a valid GB 11643 resident ID, a mainland mobile, an allowance in yuan. */
export function sampleRecipient(r: () => number): Recipient {
  const digits = Array.from({ length: 8 }, () => Math.floor(r() * 10)).join('');
  return {
    name: pick(r, SURNAMES) + pick(r, GIVEN_NAMES) + (r() < 0.5 ? pick(r, GIVEN_NAMES) : ''),
    id_card: generateResidentId(r),
    mobile: pick(r, MOBILE_PREFIXES) + digits,
    amount: (300 + Math.floor(r() * 150000) / 100).toFixed(2),
    diagnosis: pick(r, DIAGNOSES),
  };
}

/** The sample provider table: examples/relief-schema.sql, which the compose provider loads too. */
export const RELIEF_TABLE_DDL = readFileSync(new URL('../../examples/relief-schema.sql', import.meta.url), 'utf8');

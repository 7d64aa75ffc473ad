import test from 'ava';
import {
  DEMO_DIVISION_CODES,
  generateResidentId,
  isValidResidentId,
  parseResidentId,
  residentIdCheckChar,
} from './gb11643.ts';
import { prng as mulberry32 } from '../testing/prng.ts';

// The first two are the standard's own examples; the rest were computed by hand from the weights.
const VALID = [
  '11010519491231002X',
  '440524188001010014',
  '440106198501011237',
  '310101199003074415',
  '510104200002290062', // 29 Feb 2000 (leap year)
  '330106197811150670',
  '110101200506309878',
  '110105194912310038',
];

test('check characters of known-good IDs', (t) => {
  for (const id of VALID) {
    t.is(residentIdCheckChar(id.slice(0, 17)), id.slice(17), id);
    t.true(isValidResidentId(id), id);
  }
});

test('residentIdCheckChar rejects non-17-digit input', (t) => {
  t.throws(() => residentIdCheckChar('1101051949123100'), { instanceOf: TypeError });
  t.throws(() => residentIdCheckChar('1101051949123100X'), { instanceOf: TypeError });
});

test('lowercase x is accepted', (t) => {
  t.true(isValidResidentId('11010519491231002x'));
});

const INVALID: [string, string][] = [
  ['110105194912310021', 'check character'], // wrong check char
  ['110105194912310020', 'check character'],
  ['440106198501011238', 'check character'],
  ['110105491231002', 'length'], // 15-digit first generation
  ['11010519491231002X ', 'length'],
  ['1101051949123100XX', 'format'],
  ['11010519491231002Y', 'format'],
  ['１10105194912310020', 'format'], // full-width digit
  ['110105194902301234', 'birth date'], // 30 Feb
  ['110105190002290000', 'birth date'], // 1900 is not a leap year
  ['110105194913010000', 'birth date'],
  ['110105179901010000', 'birth date'],
];

test('invalid IDs', (t) => {
  for (const [id, problem] of INVALID) {
    t.false(isValidResidentId(id), id);
    const p = parseResidentId(id);
    t.deepEqual(p, { ok: false, problem }, id);
  }
});

test('parseResidentId parts and sex', (t) => {
  t.deepEqual(parseResidentId('11010519491231002X'), {
    ok: true,
    id: {
      division: '110105',
      birthYear: 1949,
      birthMonth: 12,
      birthDay: 31,
      sequence: '002',
      sex: 'female',
      check: 'X',
    },
  });
  const m = parseResidentId('440524188001010014');
  t.true(m.ok && m.id.sex === 'male');
});

test('generateResidentId is always valid over 1000 draws', (t) => {
  const rand = mulberry32(11643);
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = generateResidentId(rand);
    seen.add(id);
    const p = parseResidentId(id);
    if (!p.ok) t.fail(`invalid: ${id} (${p.problem})`);
    else {
      t.true(DEMO_DIVISION_CODES.includes(p.id.division));
      t.true(p.id.birthYear >= 1940 && p.id.birthYear <= 2005);
      t.not(p.id.sequence, '000');
    }
  }
  t.true(seen.size > 990);
});

test('generateResidentId honours options and edge random values', (t) => {
  for (const r of [0, 0.5, 0.999999999, 1, -0.1]) {
    for (const sex of ['male', 'female'] as const) {
      const id = generateResidentId(() => r, {
        sex,
        divisionCodes: ['440524'],
        minBirthYear: 1880,
        maxBirthYear: 1880,
      });
      const p = parseResidentId(id);
      t.true(p.ok && p.id.sex === sex && p.id.division === '440524' && p.id.birthYear === 1880, id);
    }
  }
  t.is(generateResidentId(Math.random, { divisionCodes: ['310101'] }).slice(0, 6), '310101');
  t.throws(() => generateResidentId(Math.random, { divisionCodes: [] }), { instanceOf: RangeError });
  t.throws(() => generateResidentId(Math.random, { divisionCodes: ['1101'] }), { instanceOf: RangeError });
  t.throws(() => generateResidentId(Math.random, { minBirthYear: 2000, maxBirthYear: 1990 }), {
    instanceOf: RangeError,
  });
});

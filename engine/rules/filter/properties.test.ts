/**
 * Property tests over random well-typed filters: canonical printing round-trips, and compiled evaluation agrees with a
 * naive reference evaluator (testing/reference-evaluator.ts).
 */

import test from 'ava';
import fc from 'fast-check';
import { checkFilter, compileFilter, formatFilter, parseFilter } from './index.ts';
import { COLUMNS, expr, rowArb, shape, Z } from './testing/filter-arbitraries.ts';
import { ref } from './testing/reference-evaluator.ts';

test('(2) random well-typed trees: formatFilter → parseFilter round-trips', (t) => {
  fc.assert(
    fc.property(expr, (e) => {
      t.deepEqual(checkFilter(e, COLUMNS), [], 'the generator makes well-typed trees');
      const src = formatFilter(e);
      const r = parseFilter(src);
      return r.ok && JSON.stringify(shape(r.ast)) === JSON.stringify(shape(e));
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test('(3) compiled evaluation equals the reference evaluator on random rows with nulls', (t) => {
  fc.assert(
    fc.property(expr, fc.array(rowArb, { minLength: 1, maxLength: 8 }), (e, rows) => {
      const p = compileFilter(e, COLUMNS);
      return rows.every((row) => p(row) === ref(e, row));
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test('(4) not p is null exactly when p is null, and its negation otherwise', (t) => {
  fc.assert(
    fc.property(expr, rowArb, (e, row) => {
      const p = compileFilter(e, COLUMNS)(row);
      const q = compileFilter({ kind: 'not', operand: e, ...Z }, COLUMNS)(row);
      return (q === null) === (p === null) && (p === null || q === !p);
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

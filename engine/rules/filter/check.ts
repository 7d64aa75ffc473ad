/**
 * Name and type checking of a parsed filter against a resource's columns (rules in typing.ts). Every problem is
 * reported, each at its own token, so an operator can fix a filter in one pass.
 */

import type { ColumnType } from '../../../schemas/column-type.ts';
import {
  errorAt,
  predicatesOf,
  type FieldRef,
  type FilterError,
  type FilterExpr,
  type Literal,
  type PredicateExpr,
} from './ast.ts';
import { describeField, familyOf, fieldsProblem, literalProblem, opaqueProblem } from './typing.ts';

/** Every field reference of a filter, in source order. */
export function filterFieldRefs(ast: FilterExpr): { name: string; offset: number; length: number }[] {
  const out: { name: string; offset: number; length: number }[] = [];
  const add = (f: FieldRef): void => {
    out.push({ name: f.name, offset: f.offset, length: f.length });
  };
  for (const e of predicatesOf(ast)) {
    switch (e.kind) {
      case 'compare':
        if (e.left.kind === 'field') add(e.left);
        if (e.right.kind === 'field') add(e.right);
        break;
      case 'truth':
        if (e.operand.kind === 'field') add(e.operand);
        break;
      default:
        add(e.field);
    }
  }
  return out;
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}

function unknownField(f: FieldRef, columns: ReadonlyMap<string, ColumnType>): string {
  const names = [...columns.keys()];
  const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? ', …' : '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const n of names) {
    if (Math.abs(n.length - f.name.length) >= bestDistance || f.name.length > 64) continue;
    const d = levenshtein(f.name.toLowerCase(), n.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [n, d];
  }
  const hint = best === undefined ? '' : `; did you mean "${best}"?`;
  return `unknown field "${f.name}"${hint} (fields: ${shown || 'none'})`;
}

/** Name and type problems, all of them, each pointing at its token. Empty = OK. */
export function checkFilter(ast: FilterExpr, columns: ReadonlyMap<string, ColumnType>): FilterError[] {
  const errors: FilterError[] = [];
  const typeOf = (f: FieldRef): ColumnType | null => {
    const t = columns.get(f.name);
    if (t === undefined) errors.push(errorAt(f, unknownField(f, columns)));
    return t ?? null;
  };
  /** The type of a field that is compared with something, or null (with the error reported) when it cannot be. */
  const comparable = (f: FieldRef): ColumnType | null => {
    const t = typeOf(f);
    if (t && familyOf(t) === 'opaque') {
      errors.push(errorAt(f, opaqueProblem(f, t)));
      return null;
    }
    return t;
  };
  const literals = (f: FieldRef, values: readonly Literal[]): void => {
    const t = comparable(f);
    if (!t) return;
    for (const v of values) {
      const why = literalProblem(f, t, v);
      if (why) errors.push(errorAt(v, why));
    }
  };
  const visit = (e: PredicateExpr): void => {
    switch (e.kind) {
      case 'isNull':
        typeOf(e.field);
        return;
      case 'truth': {
        if (e.operand.kind !== 'field') return;
        const t = typeOf(e.operand);
        if (t && t.kind !== 'bool') {
          const f = describeField(e.operand, t);
          errors.push(
            errorAt(e.operand, `${f} is not bool, so it cannot stand alone as a condition; compare it with a value`),
          );
        }
        return;
      }
      case 'like': {
        const t = comparable(e.field);
        if (t && familyOf(t) !== 'text') {
          errors.push(errorAt(e.field, `"like" works on text fields only, not on ${describeField(e.field, t)}`));
        }
        return;
      }
      case 'in':
        literals(e.field, e.values);
        return;
      case 'between':
        literals(e.field, [e.low, e.high]);
        return;
      case 'compare': {
        const { left, right } = e;
        if (left.kind === 'field' && right.kind === 'field') {
          const tl = comparable(left);
          const tr = comparable(right);
          const why = tl && tr ? fieldsProblem(left, tl, right, tr) : null;
          if (why) errors.push(errorAt(right, why));
        } else if (left.kind === 'field') literals(left, [right as Literal]);
        else if (right.kind === 'field') literals(right, [left]);
        else errors.push(errorAt(right, 'a comparison needs a field on one side, but both sides are values'));
        return;
      }
    }
  };
  for (const e of predicatesOf(ast)) visit(e);
  return errors;
}

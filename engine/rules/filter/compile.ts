/**
 * Compiles a checked filter ONCE into a closure evaluated per row with SQL three-valued logic: `true` (the row is in
 * the filter), `false`, or `null` (unknown — and, as in SQL's WHERE, an unknown row is not in the filter).
 *
 * All literals are turned into keys and all column types resolved here; per row the closure only reads own
 * properties of the row (`Object.hasOwn`, so `__proto__` or `constructor` never reach the prototype) and parses
 * those values. NULL, an absent column (an unchanged TOAST value is unknown, not NULL) and a value that does not
 * parse for its column type all read as unknown. Comparisons with unknown are unknown; `and` is false if either side
 * is, `or` true if either side is; `not unknown` is unknown; `x in (…)` and `x between a and b` are unknown for an
 * unknown `x`; `x is null` is true only for an explicit NULL (unknown for an absent column).
 */

import type { Row } from '../../../schemas/change-event.ts';
import type { ColumnType } from '../../../schemas/column-type.ts';
import { SluiceError } from '../../errors.ts';
import type { CompareOp, FieldRef, FilterExpr, Literal } from './ast.ts';
import { checkFilter } from './check.ts';
import { compileLike } from './like.ts';
import { planFor, type Key } from './typing.ts';

/** A compiled filter: true = in the filter, false = out, null = unknown (not in the filter). */
export type FilterPredicate = (row: Row) => boolean | null;

type Reader = (row: Row) => Key | null;

/** The own string value of a row field, else null (NULL, absent, inherited or not a string). */
function own(row: Row, name: string): string | null {
  if (!Object.hasOwn(row, name)) return null;
  const v = row[name];
  return typeof v === 'string' ? v : null;
}

function reader(name: string, read: (text: string) => Key | null): Reader {
  return (row) => {
    const v = own(row, name);
    return v === null ? null : read(v);
  };
}

const FLIP: Record<CompareOp, CompareOp> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** `field op literal`, specialised per operator so the closure does one comparison. */
function compareWithKey(
  op: CompareOp,
  get: Reader,
  k: Key,
  cmp: (a: Key, b: Key) => number,
  textual: boolean,
): FilterPredicate {
  // Code point equality is string equality.
  if (textual && op === '=') {
    return (row) => {
      const v = get(row);
      return v === null ? null : v === k;
    };
  }
  if (textual && op === '<>') {
    return (row) => {
      const v = get(row);
      return v === null ? null : v !== k;
    };
  }
  switch (op) {
    case '=':
      return (row: Row) => {
        const v = get(row);
        return v === null ? null : cmp(v, k) === 0;
      };
    case '<>':
      return (row: Row) => {
        const v = get(row);
        return v === null ? null : cmp(v, k) !== 0;
      };
    case '<':
      return (row: Row) => {
        const v = get(row);
        return v === null ? null : cmp(v, k) < 0;
      };
    case '<=':
      return (row: Row) => {
        const v = get(row);
        return v === null ? null : cmp(v, k) <= 0;
      };
    case '>':
      return (row: Row) => {
        const v = get(row);
        return v === null ? null : cmp(v, k) > 0;
      };
    case '>=':
      return (row: Row) => {
        const v = get(row);
        return v === null ? null : cmp(v, k) >= 0;
      };
  }
}

const TEST: Record<CompareOp, (c: number) => boolean> = {
  '=': (c) => c === 0,
  '<>': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

function build(e: FilterExpr, columns: ReadonlyMap<string, ColumnType>): FilterPredicate {
  const typeOf = (f: FieldRef): ColumnType => columns.get(f.name) as ColumnType;
  switch (e.kind) {
    case 'and': {
      const l = build(e.left, columns);
      const r = build(e.right, columns);
      return (row) => {
        const a = l(row);
        if (a === false) return false;
        const b = r(row);
        if (b === false) return false;
        return a === null || b === null ? null : true;
      };
    }
    case 'or': {
      const l = build(e.left, columns);
      const r = build(e.right, columns);
      return (row) => {
        const a = l(row);
        if (a === true) return true;
        const b = r(row);
        if (b === true) return true;
        return a === null || b === null ? null : false;
      };
    }
    case 'not': {
      const p = build(e.operand, columns);
      return (row) => {
        const a = p(row);
        return a === null ? null : !a;
      };
    }
    case 'truth': {
      const o = e.operand;
      if (o.kind === 'bool') {
        const value = o.value;
        return () => value;
      }
      const name = o.name;
      return (row) => {
        const v = own(row, name);
        return v === 't' || v === 'true' ? true : v === 'f' || v === 'false' ? false : null;
      };
    }
    case 'isNull': {
      const { name } = e.field;
      const negated = e.negated;
      return (row) => {
        if (!Object.hasOwn(row, name)) return null;
        const v = row[name];
        return v === null ? !negated : typeof v === 'string' ? negated : null;
      };
    }
    case 'like': {
      const name = e.field.name;
      const match = compileLike(e.pattern.value);
      const negated = e.negated;
      return (row) => {
        const v = own(row, name);
        return v === null ? null : match(v) !== negated;
      };
    }
    case 'in': {
      const t = typeOf(e.field);
      const plan = planFor([t], e.values);
      const get = reader(e.field.name, plan.read(t));
      const negated = e.negated;
      // Keys are canonical (see typing.ts), so set membership is exactly equality under the plan's ordering.
      const keys = new Set<Key>(e.values.map((v) => plan.literal(v, t)));
      return (row) => {
        const k = get(row);
        return k === null ? null : keys.has(k) !== negated;
      };
    }
    case 'between': {
      const t = typeOf(e.field);
      const plan = planFor([t], [e.low, e.high]);
      const get = reader(e.field.name, plan.read(t));
      const lo = plan.literal(e.low, t);
      const hi = plan.literal(e.high, t);
      const { compare } = plan;
      const negated = e.negated;
      return (row) => {
        const k = get(row);
        return k === null ? null : (compare(k, lo) >= 0 && compare(k, hi) <= 0) !== negated;
      };
    }
    case 'compare': {
      const { left, right } = e;
      if (left.kind === 'field' && right.kind === 'field') {
        const tl = typeOf(left);
        const tr = typeOf(right);
        const plan = planFor([tl, tr], []);
        const a = reader(left.name, plan.read(tl));
        const b = reader(right.name, plan.read(tr));
        const test = TEST[e.op];
        const { compare } = plan;
        return (row) => {
          const x = a(row);
          if (x === null) return null;
          const y = b(row);
          return y === null ? null : test(compare(x, y));
        };
      }
      const [field, lit, op] =
        left.kind === 'field' ? [left, right as Literal, e.op] : [right as FieldRef, left, FLIP[e.op]];
      const t = typeOf(field);
      const plan = planFor([t], [lit]);
      return compareWithKey(op, reader(field.name, plan.read(t)), plan.literal(lit, t), plan.compare, plan.textual);
    }
  }
}

/**
 * Precompiled predicate: true = in the filter, false = out, null = unknown (SQL: unknown is NOT in the filter).
 * Expects a tree that {@link checkFilter} accepts for `columns`; otherwise throws a `CONFIG_INVALID` SluiceError
 * listing the problems, rather than compiling something wrong.
 */
export function compileFilter(ast: FilterExpr, columns: ReadonlyMap<string, ColumnType>): FilterPredicate {
  const errors = checkFilter(ast, columns);
  if (errors.length > 0) {
    const first = errors[0] as (typeof errors)[number];
    throw new SluiceError('CONFIG_INVALID', `filter: column ${first.column}: ${first.message}`, {
      details: { errors },
    });
  }
  return build(ast, columns);
}

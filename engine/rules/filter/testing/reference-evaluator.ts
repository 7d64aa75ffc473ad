/**
 * A deliberately naive reference evaluator for filter trees over {@link SCHEMA}, sharing nothing with the
 * implementation: regexes, BigInt at a fixed scale, JS Date for the calendar, code point arrays, plain recursion.
 */

import type { Row } from '../../../../schemas/change-event.ts';
import type { ColumnType } from '../../../../schemas/column-type.ts';
import type { CompareOp, FilterExpr, Literal } from '../ast.ts';
import { TYPE } from './filter-arbitraries.ts';

type RefKey = [rank: number, v: bigint | number | number[]];
const SCALE = 10; // every exact text here has ≤ 3 fraction digits

function refExact(text: string, maxScale: number): RefKey | null {
  if (text === 'NaN') return [3, 0n];
  if (text === 'Infinity') return [2, 0n];
  if (text === '-Infinity') return [0, 0n];
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return null;
  const frac = m[3] ?? '';
  if (/[1-9]/.test(frac.slice(maxScale))) return null;
  return [1, BigInt(`${m[1]}${m[2]}${frac.slice(0, SCALE).padEnd(SCALE, '0')}`)];
}

function refInstant(text: string, zoned: boolean | 'date'): RefKey | null {
  if (text === 'infinity') return [2, 0n];
  if (text === '-infinity') return [0, 0n];
  const m = /^(\d{4,})-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::\d\d)?)?)?( BC)?$/.exec(
    text,
  );
  if (!m) return null;
  if (zoned === 'date' && m[4] !== undefined) return null;
  if (zoned === false && m[8] !== undefined) return null;
  const year = m[9] ? 1 - Number(m[1]) : Number(m[1]);
  const d = new Date(0);
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  if (d.getUTCDate() !== Number(m[3])) return null; // rolled over: not a calendar date
  d.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  let us = BigInt(d.getTime()) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0') || '0');
  const z = m[8];
  if (z && z !== 'Z')
    us -=
      BigInt((z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 3600 + Number(z.slice(4, 6) || 0) * 60)) * 1_000_000n;
  return [1, us];
}

/** Key of row text or a literal, for a field of type `t`, in a comparison where `floaty` says a float is involved. */
function refKey(text: string, t: ColumnType, floaty: boolean, literal?: Literal): RefKey | null {
  switch (t.kind) {
    case 'int16':
    case 'int32':
    case 'int64':
    case 'decimal':
    case 'float32':
    case 'float64': {
      if (literal) return floaty ? [1, Number(text)] : refExact(text, SCALE);
      if (isFloat(t)) return [1, Number(text)];
      const k =
        t.kind === 'decimal' ? refExact(text, t.scale) : /^(NaN|-?Infinity)$/.test(text) ? null : refExact(text, 0);
      return k && floaty ? [1, Number(text)] : k;
    }
    case 'utf8':
      return [1, Array.from(text, (c) => c.codePointAt(0) as number)];
    case 'bool':
      return text === 't' ? [1, 1] : text === 'f' ? [1, 0] : null;
    case 'date':
      return refInstant(text, 'date');
    case 'timestamp':
      return refInstant(text, t.tz !== null || literal !== undefined);
    case 'time': {
      const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(text);
      return m
        ? [1, ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1e6 + Number((m[4] ?? '').padEnd(6, '0'))]
        : null;
    }
    default:
      return null;
  }
}

function refCompare([ra, a]: RefKey, [rb, b]: RefKey): number {
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++)
      if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1;
    return Math.sign(a.length - b.length);
  }
  if (typeof a === 'number' && typeof b === 'number' && (Number.isNaN(a) || Number.isNaN(b))) {
    return Number.isNaN(a) && Number.isNaN(b) ? 0 : Number.isNaN(a) ? 1 : -1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

const litText = (l: Literal): string =>
  l.kind === 'number' ? l.text : l.kind === 'bool' ? (l.value ? 't' : 'f') : l.value;
const rowText = (row: Row, name: string): string | null => (Object.hasOwn(row, name) ? (row[name] ?? null) : null);
const isFloat = (t: ColumnType) => t.kind === 'float32' || t.kind === 'float64';
const holds = (op: CompareOp, c: number) =>
  ({ '=': c === 0, '<>': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 })[op];

function likeRef(value: string, pattern: string): boolean {
  const v = Array.from(value);
  const p = Array.from(pattern);
  const go = (i: number, j: number): boolean =>
    j === p.length
      ? i === v.length
      : p[j] === '%'
        ? go(i, j + 1) || (i < v.length && go(i + 1, j))
        : i < v.length && (p[j] === '_' || p[j] === v[i]) && go(i + 1, j + 1);
  return go(0, 0);
}

/** SQL three-valued evaluation of `e` on `row`. */
export function ref(e: FilterExpr, row: Row): boolean | null {
  const fieldKey = (name: string, floaty: boolean) => {
    const v = rowText(row, name);
    return v === null ? null : refKey(v, TYPE(name), floaty);
  };
  switch (e.kind) {
    case 'and': {
      const [a, b] = [ref(e.left, row), ref(e.right, row)];
      return a === false || b === false ? false : a === null || b === null ? null : true;
    }
    case 'or': {
      const [a, b] = [ref(e.left, row), ref(e.right, row)];
      return a === true || b === true ? true : a === null || b === null ? null : false;
    }
    case 'not': {
      const a = ref(e.operand, row);
      return a === null ? null : !a;
    }
    case 'truth':
      if (e.operand.kind === 'bool') return e.operand.value;
      return { t: true, f: false }[rowText(row, e.operand.name) ?? ''] ?? null;
    case 'isNull':
      if (!Object.hasOwn(row, e.field.name)) return null;
      return (row[e.field.name] === null) !== e.negated;
    case 'like': {
      const v = rowText(row, e.field.name);
      return v === null ? null : likeRef(v, e.pattern.value) !== e.negated;
    }
    case 'in':
    case 'between': {
      const t = TYPE(e.field.name);
      const x = fieldKey(e.field.name, isFloat(t));
      if (x === null) return null;
      const lit = (l: Literal) => refKey(litText(l), t, isFloat(t), l) as RefKey;
      const r =
        e.kind === 'in'
          ? e.values.some((l) => refCompare(x, lit(l)) === 0)
          : refCompare(x, lit(e.low)) >= 0 && refCompare(x, lit(e.high)) <= 0;
      return r !== e.negated;
    }
    case 'compare': {
      const { left, right } = e;
      const types = [left, right].flatMap((o) => (o.kind === 'field' ? [TYPE(o.name)] : []));
      const floaty = types.some(isFloat);
      const key = (o: typeof left, other: typeof left) =>
        o.kind === 'field'
          ? fieldKey(o.name, floaty)
          : refKey(litText(o), TYPE((other as { name: string }).name), floaty, o);
      const a = key(left, right);
      const b = key(right, left);
      return a === null || b === null ? null : holds(e.op, refCompare(a, b));
    }
  }
}

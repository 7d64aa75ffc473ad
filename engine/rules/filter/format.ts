/**
 * Canonical printing of a filter tree: lower-case keywords, single spaces, `<>` for not-equal, `''`/`""` escapes and
 * parentheses only where precedence (`or` < `and` < `not` < predicate) or left-associativity needs them. Parsing the
 * output gives back the same tree, positions aside.
 */

import type { FilterExpr, Literal, Operand } from './ast.ts';
import { fieldSource } from './names.ts';

const str = (s: string): string => `'${s.replace(/'/g, "''")}'`;

function literal(l: Literal): string {
  switch (l.kind) {
    case 'number':
      return l.text;
    case 'string':
      return str(l.value);
    case 'date':
      return `date ${str(l.value)}`;
    case 'timestamp':
      return `timestamp ${str(l.value)}`;
    case 'bool':
      return l.value ? 'true' : 'false';
  }
}

const operand = (o: Operand): string => (o.kind === 'field' ? fieldSource(o.name) : literal(o));
const not = (negated: boolean): string => (negated ? 'not ' : '');

/** Prints `e`, parenthesised when it binds more loosely than its position allows. */
function print(e: FilterExpr, parens: boolean): string {
  const s = bare(e);
  return parens ? `(${s})` : s;
}

function bare(e: FilterExpr): string {
  switch (e.kind) {
    case 'or':
      return `${print(e.left, false)} or ${print(e.right, e.right.kind === 'or')}`;
    case 'and': {
      const right = print(e.right, e.right.kind === 'or' || e.right.kind === 'and');
      return `${print(e.left, e.left.kind === 'or')} and ${right}`;
    }
    case 'not':
      return `not ${print(e.operand, e.operand.kind === 'or' || e.operand.kind === 'and')}`;
    case 'compare':
      return `${operand(e.left)} ${e.op} ${operand(e.right)}`;
    case 'in':
      return `${fieldSource(e.field.name)} ${not(e.negated)}in (${e.values.map(literal).join(', ')})`;
    case 'between':
      return `${fieldSource(e.field.name)} ${not(e.negated)}between ${literal(e.low)} and ${literal(e.high)}`;
    case 'isNull':
      return `${fieldSource(e.field.name)} is ${not(e.negated)}null`;
    case 'like':
      return `${fieldSource(e.field.name)} ${not(e.negated)}like ${str(e.pattern.value)}`;
    case 'truth':
      return operand(e.operand);
  }
}

/** Canonical source text of a filter: `parseFilter(formatFilter(a))` gives `a` back, modulo positions. */
export function formatFilter(ast: FilterExpr): string {
  return bare(ast);
}

/**
 * SQL `LIKE` without an escape character: `%` matches any run of code points (also none), `_` exactly one code point
 * (an astral character such as 𠀀 counts once), everything else matches itself, case-sensitively. The pattern is
 * compiled once into code points; no RegExp is ever built from it. Matching is the classic wildcard walk with one
 * backtrack point, O(value × pattern) at worst.
 */

const ANY = -1;
const ONE = -2;

const hasSurrogate = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
};

/** Compiles a LIKE pattern into a matcher. */
export function compileLike(pattern: string): (value: string) => boolean {
  const toks: number[] = [];
  for (const ch of pattern) {
    const t = ch === '%' ? ANY : ch === '_' ? ONE : (ch.codePointAt(0) as number);
    if (t === ANY && toks[toks.length - 1] === ANY) continue;
    toks.push(t);
  }
  // Shortcuts for the common shapes: 'abc', 'abc%', '%abc', '%abc%' (exact for well-formed text).
  if (!pattern.includes('_') && !hasSurrogate(pattern)) {
    let from = 0;
    let to = pattern.length;
    while (from < to && pattern[from] === '%') from++;
    while (to > from && pattern[to - 1] === '%') to--;
    const inner = pattern.slice(from, to);
    if (!inner.includes('%')) {
      const lead = from > 0;
      const trail = to < pattern.length;
      if (inner === '') return lead ? () => true : (v) => v === '';
      if (!lead && !trail) return (v) => v === inner;
      if (!lead) return (v) => v.startsWith(inner);
      if (!trail) return (v) => v.endsWith(inner);
      return (v) => v.includes(inner);
    }
  }
  const p = Int32Array.from(toks);
  return (v) => matchTokens(p, v);
}

function matchTokens(p: Int32Array, s: string): boolean {
  let si = 0;
  let pi = 0;
  let starPi = -1;
  let starSi = 0;
  while (si < s.length) {
    if (pi < p.length) {
      const t = p[pi] as number;
      if (t === ANY) {
        starPi = pi++;
        starSi = si;
        continue;
      }
      const cp = s.codePointAt(si) as number;
      if (t === ONE || t === cp) {
        si += cp > 0xffff ? 2 : 1;
        pi++;
        continue;
      }
    }
    if (starPi < 0) return false;
    // Let the last % swallow one more code point and retry from there.
    starSi += (s.codePointAt(starSi) as number) > 0xffff ? 2 : 1;
    si = starSi;
    pi = starPi + 1;
  }
  while (pi < p.length && p[pi] === ANY) pi++;
  return pi === p.length;
}

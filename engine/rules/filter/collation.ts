/**
 * Text ordering for utf8 columns: binary order of Unicode code points (Postgres's "C" collation on UTF-8 data), so
 * results never depend on a locale. Note that JS `<` on strings compares UTF-16 units, which puts U+E000–U+FFFF after
 * astral characters; this corrects that. Equality is plain string equality (no case folding, no normalisation, and
 * char(n) padding is significant).
 */

// Lifts surrogates above U+E000–U+FFFF so UTF-16 unit order becomes code point order.
const fix = (c: number): number => (c < 0xd800 ? c : c >= 0xe000 ? c - 0x800 : c + 0x2000);

/** −1, 0 or 1 as `a` sorts before, with, or after `b` by code point. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fix(x) < fix(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

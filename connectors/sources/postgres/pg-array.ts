/**
 * Postgres array text output → the platform's list text form (a JSON array of element texts, null for NULL; see
 * schemas/column-type.ts). `{1,2,NULL}` → `["1","2",null]`; `{"a b","x\"y"}` → `["a b","x\"y"]`. A
 * multi-dimensional array becomes nested JSON arrays and an array with explicit bounds (`[0:1]={…}`) is returned
 * unchanged — both have no one-dimensional LIST value, so delivery writes them as NULL with the raw text in
 * `_quality` instead of losing their shape. Arrays whose element type uses another delimiter than ',' (box) are not
 * passed here.
 */
export function pgArrayToJson(text: string): string {
  if (text.charCodeAt(0) !== 0x7b /* { */) return text; // explicit bounds: '[l:u]={…}'
  const [value, end] = parseLevel(text, 0);
  if (end !== text.length) throw new SyntaxError(`array text has trailing characters at ${end}: ${preview(text)}`);
  return JSON.stringify(value);
}

type Nested = (string | null | Nested)[];

/** Parses `{…}` starting at `p`; returns the elements and the index after the closing brace. */
function parseLevel(s: string, p: number): [Nested, number] {
  const out: Nested = [];
  p++; // '{'
  if (s.charCodeAt(p) === 0x7d /* } */) return [out, p + 1];
  for (;;) {
    const c = s.charCodeAt(p);
    if (c === 0x7b /* { */) {
      const [inner, q] = parseLevel(s, p);
      out.push(inner);
      p = q;
    } else if (c === 0x22 /* " */) {
      let v = '';
      let q = p + 1;
      let from = q;
      for (;;) {
        const d = s.charCodeAt(q);
        if (Number.isNaN(d)) throw new SyntaxError(`unterminated quoted array element: ${preview(s)}`);
        if (d === 0x5c /* \ */) {
          v += s.slice(from, q) + s.charAt(q + 1);
          q += 2;
          from = q;
        } else if (d === 0x22) {
          v += s.slice(from, q);
          break;
        } else q++;
      }
      out.push(v);
      p = q + 1;
    } else {
      let q = p;
      while (q < s.length) {
        const d = s.charCodeAt(q);
        if (d === 0x2c /* , */ || d === 0x7d /* } */) break;
        q++;
      }
      const raw = s.slice(p, q);
      out.push(raw.length === 4 && raw.toUpperCase() === 'NULL' ? null : raw);
      p = q;
    }
    const sep = s.charCodeAt(p);
    if (sep === 0x2c) {
      p++;
      continue;
    }
    if (sep === 0x7d) return [out, p + 1];
    throw new SyntaxError(`unexpected character at ${p} in array text: ${preview(s)}`);
  }
}

function preview(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

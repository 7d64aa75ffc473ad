/**
 * A micro-benchmark of encodeParquet on synthetic rows shaped like the reference workload
 * (int64, 3 strings, float64, timestamptz). Input generation is not timed. Not run by the tests:
 *   npx tsx -e "import('./connectors/sinks/parquet/bench-encode.ts').then(async m => console.log(await m.benchEncode(1_000_000)))"
 */
import type { ColumnSpec } from '../../../schemas/column-type.ts';
import { encodeParquet } from './encode.ts';
import type { ParquetInput } from './types.ts';

const CITIES = ['北京市', '上海市', 'Guangzhou', 'Shenzhen', '杭州市', 'Chengdu', '武汉市', "Xi'an"];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Re-creates each string from UTF-8 bytes, the way a driver decodes a DataRow: a flat sequential string rather than
 * the cons-string a template literal leaves behind (which V8 would flatten, allocating, on the first charCodeAt).
 */
function flatten(col: (string | null)[]): (string | null)[] {
  const decoder = new TextDecoder();
  return col.map((s) => (s == null ? null : decoder.decode(Buffer.from(s, 'utf8'))));
}

/** Deterministic synthetic input: ids, names, emails, cities, amounts and UTC timestamps with µs. */
export function syntheticInput(rows: number): ParquetInput {
  const columns: ColumnSpec[] = [
    { name: 'id', type: { kind: 'int64' } },
    { name: 'name', type: { kind: 'utf8' } },
    { name: 'email', type: { kind: 'utf8' } },
    { name: 'city', type: { kind: 'utf8' } },
    { name: 'amount', type: { kind: 'float64' } },
    { name: 'updated_at', type: { kind: 'timestamp', tz: 'UTC' } },
  ];
  const id: (string | null)[] = new Array(rows);
  const name: (string | null)[] = new Array(rows);
  const email: (string | null)[] = new Array(rows);
  const city: (string | null)[] = new Array(rows);
  const amount: (string | null)[] = new Array(rows);
  const ts: (string | null)[] = new Array(rows);
  let seed = 42;
  for (let r = 0; r < rows; r++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    id[r] = String(1_000_000_000_000 + r);
    name[r] = r % 10 === 0 ? `张${pad(seed % 10000, 4)}` : `user_${pad(seed % 1000000, 6)}`;
    email[r] = r % 97 === 0 ? null : `u${seed % 1000000}@example.cn`;
    city[r] = CITIES[seed % CITIES.length] as string;
    amount[r] = String((seed % 10000000) / 100);
    const day = 1 + (r % 28);
    const sec = r % 86400;
    ts[r] =
      `2024-03-${pad(day, 2)} ${pad(Math.floor(sec / 3600), 2)}:${pad(Math.floor(sec / 60) % 60, 2)}:` +
      `${pad(sec % 60, 2)}.${pad(seed % 1000000, 6)}+00`;
  }
  return {
    columns,
    rows,
    values: [id, name, email, city, amount, ts].map(flatten),
    metadata: { 'sluice.bench': 'synthetic' },
  };
}

export async function benchEncode(rows: number): Promise<{ ms: number; bytes: number }> {
  const input = syntheticInput(rows);
  const t0 = performance.now();
  const out = encodeParquet(input);
  const ms = performance.now() - t0;
  return { ms: Math.round(ms), bytes: out.bytes.length };
}

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { readParquetFile } from '../../connectors/sinks/parquet/index.ts';
import { EXIT } from './exit-codes.ts';
import { renderTable } from './table.ts';

interface InspectOptions {
  rows: string;
  json?: boolean;
}

export function inspectCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('inspect <file>')
    .description('show a delivered Parquet file: schema, row count, metadata, first rows, and its manifest check')
    .option('-n, --rows <n>', 'how many rows to show', '10')
    .option('--json', 'print as JSON')
    .action((file: string, o: InspectOptions) => setCode(inspect(file, o)));
}

function inspect(file: string, o: InspectOptions): number {
  if (!existsSync(file)) {
    process.stderr.write(`sluice inspect: ${file}: file not found\n`);
    return EXIT.NEGATIVE;
  }
  const bytes = new Uint8Array(readFileSync(file));
  let info;
  try {
    info = readParquetFile(bytes);
  } catch (e) {
    process.stderr.write(`sluice inspect: ${file}: not a readable Parquet file (${(e as Error).message})\n`);
    return EXIT.NEGATIVE;
  }
  const head = info.head(Math.max(0, Number(o.rows) || 0));
  const check = manifestCheck(file, bytes);
  if (o.json) {
    process.stdout.write(
      JSON.stringify(
        {
          file,
          bytes: bytes.byteLength,
          rows: info.rows,
          schema: info.schema,
          metadata: info.metadata,
          head,
          manifest: check,
        },
        null,
        2,
      ) + '\n',
    );
    return check?.ok === false ? EXIT.NEGATIVE : EXIT.OK;
  }
  const out: string[] = [];
  out.push(`${file}`, `  ${info.rows} rows, ${bytes.byteLength} bytes`);
  if (check)
    out.push(
      `  manifest ${check.manifest}: ${check.ok ? 'sha256 matches' : `sha256 MISMATCH (manifest ${check.expected}, file ${check.actual})`}`,
    );
  out.push('', 'schema:');
  for (const f of info.schema) out.push(`  ${f.name.padEnd(14)} ${f.type}`);
  if (Object.keys(info.metadata).length) {
    out.push('', 'metadata:');
    for (const [k, v] of Object.entries(info.metadata).sort(([a], [b]) => a.localeCompare(b)))
      out.push(`  ${k} = ${v}`);
  }
  if (head.length) {
    out.push('', `first ${head.length} row${head.length === 1 ? '' : 's'}:`);
    out.push(
      ...renderTable(
        info.schema.map((f) => f.name),
        head,
      ).map((l) => `  ${l}`),
    );
  }
  process.stdout.write(out.join('\n') + '\n');
  return check?.ok === false ? EXIT.NEGATIVE : EXIT.OK;
}

/** Compares the file with the sha256 its manifest (`<stem>.manifest.json` beside it) records. */
function manifestCheck(file: string, bytes: Uint8Array) {
  const name = basename(file);
  const stem = name.replace(/(\.p\d{3,})?\.parquet$/, '');
  const manifest = join(dirname(file), `${stem}.manifest.json`);
  if (!existsSync(manifest)) return null;
  let m: { parts?: { file: string; sha256: string }[] };
  try {
    m = JSON.parse(readFileSync(manifest, 'utf8')) as typeof m;
  } catch (e) {
    return {
      manifest: basename(manifest),
      ok: false,
      expected: `(unreadable manifest: ${(e as Error).message})`,
      actual: '',
    };
  }
  const part = m.parts?.find((p) => p.file === name);
  if (!part) return { manifest: basename(manifest), ok: false, expected: '(not listed)', actual: '' };
  const actual = createHash('sha256').update(bytes).digest('hex');
  return { manifest: basename(manifest), ok: actual === part.sha256, expected: part.sha256, actual };
}

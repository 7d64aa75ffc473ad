/**
 * readParquetFile: what `sluice inspect` shows about a Parquet file — schema, row count, key-value metadata and the
 * first rows — read with parquet-wasm (readSchema / readParquet) and apache-arrow (tableFromIPC).
 */
import { tableFromIPC, type Schema } from 'apache-arrow';
import { readParquet, readSchema } from 'parquet-wasm';
import { arrowTypeName, cellValue } from './arrow-cell.ts';
import { footerRange } from './canonical-footer.ts';
import { CompactReader, T_I64 } from './thrift-compact.ts';

export interface ParquetFileInfo {
  schema: { name: string; type: string }[];
  rows: number;
  /** The file's key-value metadata, without the ARROW:schema entry the writer adds. */
  metadata: Record<string, string>;
  /** The first n rows (all if fewer), values converted exactly (see arrow-cell.ts). */
  head(n: number): Record<string, unknown>[];
}

/** FileMetaData.num_rows (field 3) straight from the footer: the row count without reading any data page. */
export function footerRowCount(bytes: Uint8Array): number {
  const { start, end } = footerRange(bytes)!; // a whole file: throws rather than return null
  const r = new CompactReader(bytes, start, end);
  let lastId = 0;
  for (;;) {
    const { type, id } = r.fieldHeader(lastId);
    if (type === 0) throw new Error('Parquet footer has no num_rows');
    if (id === 3 && type === T_I64) return r.zigzag();
    r.skip(type);
    lastId = id;
  }
}

function arrowSchema(bytes: Uint8Array): { schema: Schema; metadata: Record<string, string> } {
  const wasmSchema = readSchema(bytes);
  // parquet-wasm (arrow-rs) returns the Parquet key-value metadata as the Arrow schema's metadata.
  const metadata: Record<string, string> = {};
  for (const [k, v] of wasmSchema.metadata()) {
    if (k !== 'ARROW:schema') metadata[k] = v;
  }
  // intoIPCStream consumes (and frees) the WASM-side schema.
  const schema = tableFromIPC(wasmSchema.intoIPCStream()).schema;
  return { schema, metadata };
}

export function readParquetFile(bytes: Uint8Array): ParquetFileInfo {
  const { schema, metadata } = arrowSchema(bytes);
  const rows = footerRowCount(bytes);
  return {
    schema: schema.fields.map((f) => ({ name: f.name, type: arrowTypeName(f.type) })),
    rows,
    metadata,
    head(n: number): Record<string, unknown>[] {
      const limit = Math.min(Math.max(0, Math.floor(n)), rows);
      if (limit === 0) return [];
      const table = tableFromIPC(readParquet(bytes, { limit }).intoIPCStream());
      const names = table.schema.fields.map((f) => f.name);
      const out: Record<string, unknown>[] = [];
      for (const batch of table.batches) {
        const columns = names.map((_, c) => batch.getChildAt(c));
        for (let i = 0; i < batch.numRows && out.length < limit; i++) {
          const row: Record<string, unknown> = {};
          columns.forEach((vector, c) => {
            if (!vector) return;
            const data = vector.data[0];
            if (!data) return;
            row[names[c] as string] = cellValue(data, i, (k) => vector.get(k));
          });
          out.push(row);
        }
      }
      return out;
    },
  };
}

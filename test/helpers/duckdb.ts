import { DuckDBInstance } from '@duckdb/node-api';

/** Reads a Parquet file with DuckDB, the independent reader, as view `t`: column types and query rows (JSON-safe). */
export async function readWithDuckDB(file: string, query = 'select * from t') {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`create view t as select * from read_parquet('${file.replaceAll("'", "''")}')`);
    const desc = await c.runAndReadAll('describe select * from t');
    const types = Object.fromEntries(
      desc.getRowObjectsJson().map((r) => [String(r.column_name), String(r.column_type)]),
    );
    const rows = await c.runAndReadAll(query);
    return { types, rows: rows.getRowObjectsJson() as Record<string, string | number | boolean | null>[] };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

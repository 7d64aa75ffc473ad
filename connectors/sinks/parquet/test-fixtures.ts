/** Shared fixtures for the Parquet sink tests: inputs covering every ColumnType, and a DuckDB reader. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSpec, ColumnType } from '../../../schemas/column-type.ts';
import type { ParquetInput } from './types.ts';

export type Row = Record<string, unknown>;

/** DuckDB (an independent Parquet reader) plus a temp directory for the files it reads. */
export class Duck {
  readonly dir = mkdtempSync(join(tmpdir(), 'sluice-parquet-'));
  private fileNo = 0;

  private constructor(
    private readonly db: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  static async open(): Promise<Duck> {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run("SET TimeZone = 'UTC'").catch(() => undefined);
    return new Duck(db, conn);
  }

  save(bytes: Uint8Array): string {
    const path = join(this.dir, `f${this.fileNo++}.parquet`);
    writeFileSync(path, bytes);
    return path;
  }

  async query(sql: string): Promise<Row[]> {
    const r = await this.conn.runAndReadAll(sql);
    return r.getRowObjectsJson() as Row[];
  }

  close(): void {
    this.conn.closeSync();
    this.db.closeSync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function input(
  cols: [string, ColumnType][],
  rows: (string | null)[][],
  extra: Partial<ParquetInput> = {},
): ParquetInput {
  const columns: ColumnSpec[] = cols.map(([name, type]) => ({ name, type }));
  return {
    columns,
    rows: rows.length,
    values: columns.map((_, c) => rows.map((r) => r[c] ?? null)),
    metadata: {},
    ...extra,
  };
}

export const ALL_TYPES: [string, ColumnType][] = [
  ['i2', { kind: 'int16' }],
  ['i4', { kind: 'int32' }],
  ['i8', { kind: 'int64' }],
  ['num', { kind: 'decimal', precision: 20, scale: 4 }],
  ['f8', { kind: 'float64' }],
  ['f4', { kind: 'float32' }],
  ['b', { kind: 'bool' }],
  ['s', { kind: 'utf8' }],
  ['j', { kind: 'utf8', json: true }],
  ['bin', { kind: 'binary' }],
  ['d', { kind: 'date' }],
  ['t', { kind: 'time' }],
  ['ts', { kind: 'timestamp', tz: null }],
  ['tstz', { kind: 'timestamp', tz: 'UTC' }],
];

export const ALL_ROWS: (string | null)[][] = [
  [
    '-32768',
    '2147483647',
    '9007199254740993',
    '1234567890123456.7891',
    '3.141592653589793',
    '1.5',
    't',
    '张三',
    '{"a":1}',
    '\\x0a0bff',
    '2024-02-29',
    '23:59:59.999999',
    '2024-01-02 03:04:05.123456',
    '2024-01-02 03:04:05.123456+08',
  ],
  [
    '32767',
    '-2147483648',
    '-9223372036854775808',
    '-1234567890123456.7891',
    'NaN',
    '-Infinity',
    'f',
    'Ünïcödé 😀 欧阳娜娜',
    '[]',
    '\\x',
    '1970-01-01',
    '00:00:00',
    '1999-12-31T23:59:59',
    '2000-01-01 00:00:00.000001+05:30',
  ],
  [null, null, null, null, null, null, null, null, null, null, null, null, null, null],
  [
    '0',
    '0',
    '9223372036854775807',
    '0.0001',
    '-0',
    'Infinity',
    'true',
    '',
    'null',
    '\\xDEADbeef',
    '0001-01-01',
    '24:00:00',
    '1900-03-01 00:00:00.5',
    '1969-12-31 23:59:59.999999Z',
  ],
];

export function bigInput(rows: number, extra: Partial<ParquetInput> = {}): ParquetInput {
  const id: string[] = new Array(rows);
  const name: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    id[r] = String(r);
    name[r] = r % 3 === 0 ? `名字${r}` : `name${r}`;
  }
  return {
    columns: [
      { name: 'id', type: { kind: 'int64' } },
      { name: 'name', type: { kind: 'utf8' } },
    ],
    rows,
    values: [id, name],
    metadata: { 'sluice.table': 'public.people' },
    ...extra,
  };
}

export const UTF8_LIST: ColumnType = { kind: 'list', element: { kind: 'utf8' } };

/**
 * `rows` rows of (id int64, _unchanged list<utf8>): every 7th row null, every 5th an empty list, the rest 1–3
 * column names (some non-ASCII), in the canonical text form (JSON array of strings).
 */
export function listInput(rows: number, extra: Partial<ParquetInput> = {}): ParquetInput {
  const id: string[] = new Array(rows);
  const unchanged: (string | null)[] = new Array(rows);
  const names = ['notes', 'photo', '备注', 'Ünïcödé 😀'];
  for (let r = 0; r < rows; r++) {
    id[r] = String(r);
    if (r % 7 === 0) unchanged[r] = null;
    else if (r % 5 === 0) unchanged[r] = '[]';
    else unchanged[r] = JSON.stringify(names.slice(r % 4, (r % 4) + 1 + (r % 3)));
  }
  return {
    columns: [
      { name: 'id', type: { kind: 'int64' } },
      { name: '_unchanged', type: UTF8_LIST },
    ],
    rows,
    values: [id, unchanged],
    metadata: { 'sluice.table': 'public.docs' },
    ...extra,
  };
}

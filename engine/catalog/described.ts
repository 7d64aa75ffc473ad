import type { ColumnType } from '../../schemas/index.ts';

/** A source column as the provider's database describes it (types and lengths are never retyped by hand). */
export interface DescribedColumn {
  name: string;
  /** The database's own name of the type, e.g. `character varying(20)`, `numeric(12,2)`. */
  sourceType: string;
  /** The type it is delivered as. */
  type: ColumnType;
  nullable: boolean;
  primaryKey: boolean;
  /** Maximum length of character types. */
  length?: number;
  /** Precision and scale of numeric types. */
  precision?: number;
  scale?: number;
  comment?: string;
}

/** A source table as its database describes it. */
export interface DescribedTable {
  table: string;
  comment?: string;
  /** What updates and deletes carry of the old row: `full` = the whole row (needed by non-key row filters). */
  replicaIdentity?: 'default' | 'full' | 'nothing' | 'index';
  /** The planner's estimate (pg_class.reltuples), 0 when never analyzed. */
  estimatedRows: number;
  columns: DescribedColumn[];
}

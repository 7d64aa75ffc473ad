export { encodeParquet, DEFAULT_ROW_GROUP_ROWS } from './encode.ts';
export type { ParquetInput, ParquetOutput, QualityIssue } from './types.ts';
export { readParquetFile, footerRowCount, type ParquetFileInfo } from './read.ts';
export { arrowTypeOf } from './arrow-type.ts';

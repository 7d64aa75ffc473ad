/** The data map: resources and their fields, classified by config and by providers at runtime. */
export type { DescribedColumn, DescribedTable } from './described.ts';
export { effectiveFields, withClassifications } from './classification.ts';
export {
  catalogResource,
  type CatalogClassification,
  type CatalogField,
  type CatalogResource,
  type ClassificationSource,
} from './catalog.ts';
export { shapeChange, type ShapeChange } from './shape-change.ts';

/** Data-quality checks of the joint operation model: per resource, on scans and on a sample of the stream. */
export {
  QUALITY_CHECKS,
  compileQualityChecks,
  type QualityCheck,
  type QualityColumn,
  type QualityFailure,
  type QualityRules,
  type RowChecker,
} from './checks.ts';
export { QualityTally, SAMPLE_KEYS, type QualityCount, type QualityReport } from './tally.ts';
export { qualityRules } from './rules.ts';

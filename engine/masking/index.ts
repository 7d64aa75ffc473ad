/** Masking: classification × clearance → strategy, and tag → format-aware value masks (DESIGN.md "Masking"). */

export {
  DEFAULT_MASKING,
  STRICTNESS,
  isAtLeastAsStrict,
  isStrategy,
  resolveStrategy,
  stricterOf,
  strictnessRank,
  type Level,
  type MaskingMatrix,
  type MaskingRow,
  type Strategy,
} from './strategy.ts';
export {
  DEMO_DIVISION_CODES,
  generateResidentId,
  isValidResidentId,
  parseResidentId,
  residentIdCheckChar,
  type GenerateResidentIdOptions,
  type ResidentId,
  type ResidentIdProblem,
} from './gb11643.ts';
export {
  DEFAULT_PARTIAL_KEEP,
  PARTIAL_TAGS,
  isPartialTag,
  partialMask,
  validatePartialOptions,
  type PartialKeep,
  type PartialOptions,
  type PartialResult,
  type PartialTag,
} from './partial.ts';
export { hmacHex } from './hash.ts';
export { createFieldMasker, maskedType, type FieldMasker, type MaskedColumnType, type MaskedValue } from './masker.ts';

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
  RESIDENT_ID_PROBLEM_TEXT,
  generateResidentId,
  isValidResidentId,
  parseResidentId,
  residentIdProblem,
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
export { compareOrderedDecimal, parseOrderedDecimal, type OrderedDecimal } from './decimal-order.ts';
export {
  bucketBoundaries,
  bucketOf,
  compileGeneralizer,
  generalizeDate,
  generalizeResidentId,
  validateGeneralizeOptions,
  type BucketBoundary,
  type CompiledGeneralizer,
  type DateShape,
  type GeneralizeOptions,
  type GeneralizeResult,
  type GeneralizeRule,
  type Generalizer,
} from './generalize.ts';
export {
  DATA_KEY_BYTES,
  ENCRYPT_NONCE_BYTES,
  ENCRYPT_TAG_BYTES,
  EncryptKeys,
  decryptValue,
  deriveEncryptKeys,
  encryptValue,
  generateDataKey,
  type DecryptResult,
} from './encrypt.ts';
export {
  KEY_WRAP_ALG,
  generateSubscriberKeyPair,
  parsePrivateKey,
  parsePublicKey,
  publicKeyProblem,
  unwrapDataKey,
  wrapDataKey,
  type SubscriberKeyPair,
  type UnwrapResult,
  type WrappedKey,
} from './key-wrap.ts';
export {
  createFieldMasker,
  maskedType,
  type FieldMasker,
  type FieldMaskerOptions,
  type MaskedColumnType,
  type MaskedValue,
} from './masker.ts';

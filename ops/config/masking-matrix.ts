import { DEFAULT_MASKING, type MaskingMatrix, type MaskingRow } from '../../engine/masking/index.ts';
import type { MaskingConfig } from '../../schemas/index.ts';

/** The config's matrix, each level falling back to the default row when absent. */
export function maskingMatrix(m: MaskingConfig | undefined): MaskingMatrix {
  return {
    core: m?.core ?? DEFAULT_MASKING.core,
    important: m?.important ?? DEFAULT_MASKING.important,
    general: m?.general ?? DEFAULT_MASKING.general,
  };
}

/** The config's per-tag rows (a field with the tag gets the stricter of its level's strategy and the tag's). */
export function maskingTags(m: MaskingConfig | undefined): Record<string, MaskingRow> {
  return m?.tags ?? {};
}

import { DEFAULT_MASKING, type MaskingMatrix } from '../../engine/masking/index.ts';
import type { MaskingConfig } from '../../schemas/index.ts';

/** The config's matrix, each level falling back to the default row when absent. */
export function maskingMatrix(m: MaskingConfig | undefined): MaskingMatrix {
  return {
    core: m?.core ?? DEFAULT_MASKING.core,
    important: m?.important ?? DEFAULT_MASKING.important,
    general: m?.general ?? DEFAULT_MASKING.general,
  };
}

import type { ColumnType } from '../../schemas/index.ts';
import { createFieldMasker, type PartialOptions } from '../masking/index.ts';
import type { GrantedField } from '../rules/grant.ts';

export interface FieldMask {
  field: string;
  strategy: GrantedField['strategy'];
  tag?: string;
  apply(value: string | null): { value: string | null; fallback?: 'hash'; reason?: string };
  /** The delivered column type: the source type for clear/null, text for partial/hash. */
  outputType(source: ColumnType): ColumnType;
}

/** Compiles a grant's fields into maskers keyed by the subscription's HMAC key. */
export function compileFieldMasks(fields: GrantedField[], key: Uint8Array, partial?: PartialOptions): FieldMask[] {
  return fields.map((f) => {
    const masker = createFieldMasker(f.strategy, f.tag, key, partial);
    const keepsType = f.strategy === 'clear' || f.strategy === 'null';
    return {
      field: f.name,
      strategy: f.strategy,
      ...(f.tag ? { tag: f.tag } : {}),
      apply: masker,
      outputType: (source) => (keepsType ? source : { kind: 'utf8' }),
    };
  });
}

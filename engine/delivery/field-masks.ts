import type { ColumnSpec, ColumnType } from '../../schemas/index.ts';
import { SluiceError } from '../errors.ts';
import {
  createFieldMasker,
  deriveEncryptKeys,
  maskedType,
  type EncryptKeys,
  type GeneralizeOptions,
  type MaskedValue,
  type PartialOptions,
} from '../masking/index.ts';
import type { GrantedField } from '../rules/grant.ts';

/** One granted field, compiled: how its values are masked and what type its delivered column has. */
export interface FieldMask {
  field: string;
  strategy: GrantedField['strategy'];
  tag?: string;
  apply(value: string | null): MaskedValue;
  /** The delivered column type: the source type for clear/null, utf8 for partial/hash/generalize, binary for encrypt. */
  outputType(source: ColumnType): ColumnType;
}

/** The subscription's keys. */
export interface FieldMaskKeys {
  /** HMAC key of `hash` (and of the fallback of `partial`/`generalize`). */
  hash: Uint8Array;
  /** 32-byte data key of `encrypt`; required when a field is encrypted. */
  encrypt?: Uint8Array;
}

/** Per-deployment and per-field masking options. */
export interface FieldMaskOptions {
  /** Per-tag partial-mask overrides. */
  partial?: PartialOptions;
  /** Per-field generalize options, by field name. */
  generalize?: Readonly<Record<string, GeneralizeOptions>>;
  /**
   * The source columns of the schema version being masked: `generalize` picks its rule from the column's type, so
   * a field with `generalize` needs its column here. Compile once per schema version.
   */
  columns?: readonly ColumnSpec[];
}

/**
 * Compiles a grant's fields into maskers under the subscription's keys. Every configuration problem surfaces here,
 * not per value.
 * @throws SluiceError `INTERNAL` naming the field when a field is `encrypt` and `keys.encrypt` is missing, or is
 * `generalize` and its column is not in `opts.columns`; `CONFIG_INVALID` (from {@link createFieldMasker}) for
 * invalid options or a type `generalize` does not support.
 */
export function compileFieldMasks(
  fields: readonly GrantedField[],
  keys: FieldMaskKeys,
  opts: FieldMaskOptions = {},
): FieldMask[] {
  let encryptKeys: EncryptKeys | undefined;
  return fields.map((f) => {
    let encryptKey: EncryptKeys | undefined;
    if (f.strategy === 'encrypt') {
      if (keys.encrypt === undefined) {
        throw new SluiceError('INTERNAL', `field "${f.name}" is encrypted but the subscription has no data key`, {
          details: { field: f.name, strategy: f.strategy },
        });
      }
      encryptKey = encryptKeys ??= deriveEncryptKeys(keys.encrypt);
    }
    const type = opts.columns?.find((c) => c.name === f.name)?.type;
    const generalize = opts.generalize && Object.hasOwn(opts.generalize, f.name) ? opts.generalize[f.name] : undefined;
    const masker = createFieldMasker({
      strategy: f.strategy,
      column: f.name,
      tag: f.tag,
      type,
      hashKey: keys.hash,
      encryptKey,
      partial: opts.partial,
      generalize,
    });
    const output = maskedType(f.strategy);
    return {
      field: f.name,
      strategy: f.strategy,
      ...(f.tag ? { tag: f.tag } : {}),
      apply: masker,
      outputType: (source) =>
        output === 'text' ? { kind: 'utf8' } : output === 'binary' ? { kind: 'binary' } : source,
    };
  });
}

/**
 * Turns a resolved strategy and a column's sensitivity tag and type into a per-value masking function. Identical
 * input gives identical output wherever it runs (snapshot, stream, batch, feed): every function here is
 * deterministic. Everything that can be wrong with a configuration is reported when the masker is created, never
 * per value; a masker never throws for a value.
 */

import { columnTypeName, type ColumnType } from '../../schemas/index.ts';
import { SluiceError } from '../errors.ts';
import { EncryptKeys, assertEncryptColumn, deriveEncryptKeys, encryptValue } from './encrypt.ts';
import { compileGeneralizer, type GeneralizeOptions } from './generalize.ts';
import { hmacHex } from './hash.ts';
import { partialMask, validatePartialOptions, type PartialOptions } from './partial.ts';
import type { Strategy } from './strategy.ts';

/**
 * One masked value. `fallback: 'hash'` means the format-aware strategy (`partial`, `generalize`) could not parse the
 * value and hashed it instead: count a quality failure.
 */
export interface MaskedValue {
  readonly value: string | null;
  readonly fallback?: 'hash';
  /** Why the fallback happened; never contains the value. */
  readonly reason?: string;
}

/** Masks one value of a column; `null` stays `null` for every strategy. */
export type FieldMasker = (value: string | null) => MaskedValue;

/**
 * Type of the masked output column: `source` keeps the source column's type, `text` makes it a string column,
 * `binary` a BINARY column (values are `\x` + hex text), `all-null` keeps the source type but every value is null.
 */
export type MaskedColumnType = 'source' | 'text' | 'binary' | 'all-null';

/** What {@link createFieldMasker} needs to know about one column. */
export interface FieldMaskerOptions {
  readonly strategy: Strategy;
  /** The column (field) name: named in errors and authenticated by `encrypt` (its AAD). */
  readonly column: string;
  /** Sensitivity tag (`cn_id_card`, `person_name`, …), if the field has one. */
  readonly tag?: string | undefined;
  /** Type of the source column; required for `generalize`, which picks its rule from it. */
  readonly type?: ColumnType | undefined;
  /** Per-subscription HMAC key; non-empty for `hash`, `partial` and `generalize` (their fallback hashes). */
  readonly hashKey: Uint8Array;
  /** Per-subscription data key (32 bytes) or its derived subkeys; required for `encrypt`. */
  readonly encryptKey?: Uint8Array | EncryptKeys | undefined;
  /** Per-tag partial-mask overrides, validated here. */
  readonly partial?: PartialOptions | undefined;
  /** This field's generalize options, validated here against the column's type. */
  readonly generalize?: GeneralizeOptions | undefined;
}

function denied(strategy: Strategy): SluiceError {
  return new SluiceError('INTERNAL', 'strategy deny cannot mask values: deny columns are removed before masking', {
    details: { strategy },
  });
}

/**
 * Output column type for a strategy: `clear` → `source`, `partial`/`hash`/`generalize` → `text`, `encrypt` →
 * `binary`, `null` → `all-null`.
 * @throws SluiceError for `deny` (the column is removed).
 */
export function maskedType(strategy: Strategy): MaskedColumnType {
  switch (strategy) {
    case 'clear':
      return 'source';
    case 'null':
      return 'all-null';
    case 'encrypt':
      return 'binary';
    case 'partial':
    case 'hash':
    case 'generalize':
      return 'text';
    case 'deny':
      throw denied(strategy);
    default:
      throw new SluiceError('INTERNAL', `unknown masking strategy: ${String(strategy)}`);
  }
}

/**
 * A masker for one column:
 * - `clear` returns the value, `null` returns null;
 * - `hash` returns {@link hmacHex} under `hashKey`;
 * - `partial` applies the tag's partial mask;
 * - `generalize` coarsens by the column's type (date → year/month, number → bucket, `cn_id_card` text → region +
 *   birth year; see generalize.ts);
 * - `encrypt` returns deterministic AES-256-GCM as `\x` hex (see encrypt.ts); its subkeys are derived once, here.
 *
 * When `partial` or `generalize` cannot parse a value (or the tag has no partial mask), the value is hashed and the
 * result says `fallback: 'hash'` with the reason.
 * @throws SluiceError at creation: `CONFIG_INVALID` for an empty HMAC key, invalid partial options, or a
 * `generalize` the column's type/tag/options do not support (naming the field); `INTERNAL` for `deny` (removed
 * before masking), `generalize` without the column type, `encrypt` without a valid data key.
 */
export function createFieldMasker(opts: FieldMaskerOptions): FieldMasker {
  const { strategy, column, tag, hashKey } = opts;
  switch (strategy) {
    case 'clear':
      return (value) => ({ value });
    case 'null':
      return () => ({ value: null });
    case 'hash':
      assertHashKey(hashKey, strategy, column);
      return (value) => ({ value: value === null ? null : hmacHex(hashKey, value) });
    case 'partial': {
      assertHashKey(hashKey, strategy, column);
      const issues = validatePartialOptions(opts.partial);
      if (issues.length > 0) {
        throw new SluiceError('CONFIG_INVALID', `invalid partial-mask options: ${issues.join('; ')}`, {
          details: { issues },
        });
      }
      const partial = opts.partial;
      return (value) => {
        if (value === null) return { value: null };
        const r = partialMask(tag, value, partial);
        return r.ok ? { value: r.value } : { value: hmacHex(hashKey, value), fallback: 'hash', reason: r.reason };
      };
    }
    case 'generalize': {
      assertHashKey(hashKey, strategy, column);
      if (opts.type === undefined) {
        throw new SluiceError('INTERNAL', `field "${column}": generalize needs the source column's type`, {
          details: { field: column, strategy },
        });
      }
      const compiled = compileGeneralizer(opts.type, tag, opts.generalize);
      if (!compiled.ok) {
        const type = columnTypeName(opts.type);
        throw new SluiceError(
          'CONFIG_INVALID',
          `field "${column}" (${type}${tag === undefined ? '' : `, tag ${tag}`}): cannot generalize: ${compiled.problems.join('; ')}`,
          { details: { field: column, type, tag, strategy, problems: compiled.problems } },
        );
      }
      const generalize = compiled.generalize;
      return (value) => {
        if (value === null) return { value: null };
        const r = generalize(value);
        return r.ok ? { value: r.value } : { value: hmacHex(hashKey, value), fallback: 'hash', reason: r.reason };
      };
    }
    case 'encrypt': {
      const key = opts.encryptKey;
      if (key === undefined) {
        throw new SluiceError('INTERNAL', `field "${column}": strategy encrypt needs the subscription's data key`, {
          details: { field: column, strategy },
        });
      }
      assertEncryptColumn(column);
      const keys = key instanceof EncryptKeys ? key : deriveEncryptKeys(key);
      return (value) => ({ value: value === null ? null : encryptValue(keys, column, value) });
    }
    case 'deny':
      throw denied(strategy);
    default:
      throw new SluiceError('INTERNAL', `unknown masking strategy: ${String(strategy)}`);
  }
}

function assertHashKey(key: Uint8Array, strategy: Strategy, column: string): void {
  if (!(key instanceof Uint8Array) || key.length === 0) {
    throw new SluiceError('CONFIG_INVALID', `field "${column}": strategy ${strategy} needs a non-empty HMAC key`, {
      details: { field: column, strategy },
    });
  }
}

/**
 * Turns a resolved strategy and a column's sensitivity tag into a per-value masking function. Identical input gives
 * identical output wherever it runs (snapshot, stream, batch, feed): every function here is deterministic.
 */

import { SluiceError } from '../errors.ts';
import { hmacHex } from './hash.ts';
import { partialMask, validatePartialOptions, type PartialOptions } from './partial.ts';
import type { Strategy } from './strategy.ts';

/** One masked value. `fallback: 'hash'` means the partial mask could not parse the value: count a quality failure. */
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
 * `all-null` keeps the source type but every value is null.
 */
export type MaskedColumnType = 'source' | 'text' | 'all-null';

function unavailable(strategy: Strategy): SluiceError | undefined {
  switch (strategy) {
    case 'generalize':
    case 'encrypt':
      return new SluiceError('CONFIG_INVALID', `strategy ${strategy} is not implemented yet`, {
        details: { strategy },
      });
    case 'deny':
      return new SluiceError('INTERNAL', 'strategy deny cannot mask values: deny columns are removed before masking', {
        details: { strategy },
      });
    default:
      return undefined;
  }
}

/**
 * Output column type for a strategy: `clear` → `source`, `partial`/`hash` → `text`, `null` → `all-null`.
 * @throws SluiceError for `generalize`/`encrypt` (not implemented yet) and `deny` (the column is removed).
 */
export function maskedType(strategy: Strategy): MaskedColumnType {
  const err = unavailable(strategy);
  if (err !== undefined) throw err;
  switch (strategy) {
    case 'clear':
      return 'source';
    case 'null':
      return 'all-null';
    default:
      return 'text';
  }
}

/**
 * A masker for one column. `clear` returns the value, `null` returns null, `hash` returns {@link hmacHex} under
 * `key`, `partial` applies the tag's partial mask and, when the value cannot be parsed (or the tag has no partial
 * mask), hashes it and reports `fallback: 'hash'` with the reason.
 * @param key per-subscription HMAC key; must be non-empty for `hash` and `partial`.
 * @param opts per-tag partial-mask overrides, validated here.
 * @throws SluiceError at creation for `generalize`/`encrypt` (not implemented yet), `deny` (removed before masking),
 * an empty key, or invalid `opts`.
 */
export function createFieldMasker(
  strategy: Strategy,
  tag: string | undefined,
  key: Uint8Array,
  opts?: PartialOptions,
): FieldMasker {
  const err = unavailable(strategy);
  if (err !== undefined) throw err;
  switch (strategy) {
    case 'clear':
      return (value) => ({ value });
    case 'null':
      return () => ({ value: null });
    case 'hash':
      assertKey(key, strategy);
      return (value) => ({ value: value === null ? null : hmacHex(key, value) });
    case 'partial': {
      assertKey(key, strategy);
      const issues = validatePartialOptions(opts);
      if (issues.length > 0) {
        throw new SluiceError('CONFIG_INVALID', `invalid partial-mask options: ${issues.join('; ')}`, {
          details: { issues },
        });
      }
      return (value) => {
        if (value === null) return { value: null };
        const r = partialMask(tag, value, opts);
        return r.ok ? { value: r.value } : { value: hmacHex(key, value), fallback: 'hash', reason: r.reason };
      };
    }
    default:
      throw new SluiceError('INTERNAL', `unknown masking strategy: ${String(strategy)}`);
  }
}

function assertKey(key: Uint8Array, strategy: Strategy): void {
  if (!(key instanceof Uint8Array) || key.length === 0) {
    throw new SluiceError('CONFIG_INVALID', `strategy ${strategy} needs a non-empty HMAC key`, {
      details: { strategy },
    });
  }
}

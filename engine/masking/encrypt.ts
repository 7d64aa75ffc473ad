/**
 * The `encrypt` strategy (DESIGN.md "Masking"): AES-256-GCM under a per-subscription 32-byte data key, with a
 * nonce derived from the value so that the output is deterministic.
 *
 * Construction (version 1):
 * - subkeys: `encKey = HKDF-SHA256(dataKey, salt = "", info = "sluice encrypt v1 key", 32)` and
 *   `nonceKey = HKDF-SHA256(dataKey, salt = "", info = "sluice encrypt v1 nonce", 32)`;
 * - `nonce = HMAC-SHA256(nonceKey, utf8(column) ‖ 0x00 ‖ utf8(value))[0..12]`;
 * - `ciphertext ‖ tag = AES-256-GCM(encKey, nonce, plaintext = utf8(value), aad = utf8(column))`, 16-byte tag;
 * - output: `nonce(12) ‖ ciphertext ‖ tag(16)`, written as Postgres bytea text `\x` + lowercase hex (the delivered
 *   column is BINARY). Its length is 28 + the value's UTF-8 length.
 *
 * Why the nonce is derived (an SIV-like construction): re-created batch files must be byte-identical and identical
 * input must give identical output across snapshot, stream, batch and feed, so the output cannot depend on a random
 * nonce. Deriving the nonce with a PRF of (column, value) means a nonce repeats only when the same value is
 * encrypted again for the same column — and then the whole output repeats, which reveals equality, exactly as
 * `hash` does (intended: subscribers can join on it). GCM's real failure mode, one nonce under two different
 * plaintexts, needs a collision of the 96-bit truncated HMAC between two distinct values: by the birthday bound
 * about n²/2^97 for n distinct (column, value) pairs per data key (2^32 of them → ~2^-33), the bound NIST SP 800-38D
 * accepts for random nonces. Rotate the data key (a new key version) well before billions of distinct values. The
 * column is the AAD, so a ciphertext copied into another column does not decrypt. A misuse-resistant mode
 * (AES-GCM-SIV, RFC 8452) would be the textbook choice, but Node 20's OpenSSL 3.0 does not offer it in node:crypto.
 *
 * Cost, measured on these machines: ~7 µs per value (HMAC ~2 µs, one AES-GCM cipher object ~4 µs, buffers and hex
 * ~1 µs) with the subkeys derived once; node:crypto offers no way to reuse a GCM context across nonces, so this is
 * close to the floor of a per-value API.
 *
 * Decryption failures (wrong key, wrong column, an altered byte, malformed input) are expected outcomes and are
 * returned, not thrown. Neither keys nor values ever appear in an error or a reason.
 */

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { SluiceError } from '../errors.ts';

/** Bytes of a data key (AES-256). */
export const DATA_KEY_BYTES = 32;
/** Bytes of the derived nonce. */
export const ENCRYPT_NONCE_BYTES = 12;
/** Bytes of the GCM tag. */
export const ENCRYPT_TAG_BYTES = 16;

const KEY_INFO = 'sluice encrypt v1 key';
const NONCE_INFO = 'sluice encrypt v1 nonce';
const ZERO = Buffer.from([0]);

/**
 * The subkeys of one data key, derived once (both HKDFs take ~20 µs; deriving per value would make encryption
 * about four times slower). Opaque:
 * the key material is in private fields, so logging or serializing this object shows nothing.
 */
export class EncryptKeys {
  /** AES-256 key: a raw Buffer is faster per `createCipheriv` call than a KeyObject here. */
  readonly #enc: Buffer;
  /** HMAC key of the nonce derivation, as a KeyObject (slightly faster per `createHmac` than raw bytes). */
  readonly #nonce: KeyObject;

  /** @internal Use {@link deriveEncryptKeys}. */
  constructor(enc: Buffer, nonce: KeyObject) {
    this.#enc = enc;
    this.#nonce = nonce;
  }

  /** @internal */
  encKey(): Buffer {
    return this.#enc;
  }

  /** @internal */
  nonceKey(): KeyObject {
    return this.#nonce;
  }

  toJSON(): string {
    return '[EncryptKeys]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[EncryptKeys]';
  }
}

/** A fresh random data key ({@link DATA_KEY_BYTES} bytes). */
export function generateDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(DATA_KEY_BYTES));
}

/**
 * Derives the encryption and nonce subkeys of a data key.
 * @throws SluiceError `INTERNAL` when the key is not {@link DATA_KEY_BYTES} bytes (the message gives only the length).
 */
export function deriveEncryptKeys(dataKey: Uint8Array): EncryptKeys {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
    const got = dataKey instanceof Uint8Array ? `${dataKey.length} bytes` : typeof dataKey;
    throw new SluiceError('INTERNAL', `an encrypt data key must be ${DATA_KEY_BYTES} bytes (got ${got})`);
  }
  const enc = Buffer.from(hkdfSync('sha256', dataKey, new Uint8Array(0), KEY_INFO, 32));
  const nonce = createSecretKey(Buffer.from(hkdfSync('sha256', dataKey, new Uint8Array(0), NONCE_INFO, 32)));
  return new EncryptKeys(enc, nonce);
}

function keysOf(key: Uint8Array | EncryptKeys): EncryptKeys {
  return key instanceof EncryptKeys ? key : deriveEncryptKeys(key);
}

/**
 * Deterministically encrypts `value` for `column` (see the module notes), as `\x` + lowercase hex of
 * nonce ‖ ciphertext ‖ tag. Pass {@link EncryptKeys} from {@link deriveEncryptKeys} when encrypting many values; a raw
 * data key is derived on every call.
 * @throws SluiceError `INTERNAL` for a column name containing NUL (it would make `column ‖ 0x00 ‖ value` ambiguous;
 * Postgres names cannot contain it) or a raw data key of the wrong length.
 */
export function encryptValue(key: Uint8Array | EncryptKeys, column: string, value: string): string {
  assertEncryptColumn(column);
  const k = keysOf(key);
  const col = Buffer.from(column, 'utf8');
  const plain = Buffer.from(value, 'utf8');
  const nonce = createHmac('sha256', k.nonceKey())
    .update(col)
    .update(ZERO)
    .update(plain)
    .digest()
    .subarray(0, ENCRYPT_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', k.encKey(), nonce, { authTagLength: ENCRYPT_TAG_BYTES });
  cipher.setAAD(col);
  const head = cipher.update(plain);
  const tail = cipher.final();
  return '\\x' + Buffer.concat([nonce, head, tail, cipher.getAuthTag()]).toString('hex');
}

/**
 * Checks a column name for {@link encryptValue}: NUL would make the nonce input ambiguous.
 * @throws SluiceError `INTERNAL`.
 */
export function assertEncryptColumn(column: string): void {
  if (typeof column !== 'string' || column.includes('\0')) {
    throw new SluiceError('INTERNAL', 'an encrypted column name must be a string without NUL characters');
  }
}

/** Outcome of {@link decryptValue}; `reason` never contains key material or plaintext. */
export type DecryptResult = { ok: true; value: string } | { ok: false; reason: string };

const HEX = /^(?:\\x)?((?:[0-9a-fA-F]{2})*)$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decrypts an {@link encryptValue} output: `\x`-hex text (the prefix may be omitted) or the raw bytes. A wrong key,
 * a wrong column, an altered byte or malformed input gives `ok: false`.
 * @throws SluiceError `INTERNAL` only for a raw data key of the wrong length.
 */
export function decryptValue(
  key: Uint8Array | EncryptKeys,
  column: string,
  hexOrBytes: string | Uint8Array,
): DecryptResult {
  let bytes: Buffer;
  if (typeof hexOrBytes === 'string') {
    const m = HEX.exec(hexOrBytes);
    if (m === null) return { ok: false, reason: 'not \\x-prefixed hex text of an even length' };
    bytes = Buffer.from(m[1] ?? '', 'hex');
  } else bytes = Buffer.from(hexOrBytes.buffer, hexOrBytes.byteOffset, hexOrBytes.byteLength);
  if (bytes.length < ENCRYPT_NONCE_BYTES + ENCRYPT_TAG_BYTES) {
    return { ok: false, reason: `too short: ${bytes.length} bytes, at least 28 (nonce 12 + tag 16) expected` };
  }
  const k = keysOf(key);
  const nonce = bytes.subarray(0, ENCRYPT_NONCE_BYTES);
  const tag = bytes.subarray(bytes.length - ENCRYPT_TAG_BYTES);
  const body = bytes.subarray(ENCRYPT_NONCE_BYTES, bytes.length - ENCRYPT_TAG_BYTES);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', k.encKey(), nonce, { authTagLength: ENCRYPT_TAG_BYTES });
    decipher.setAAD(Buffer.from(column, 'utf8'));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return { ok: false, reason: 'authentication failed: wrong key, wrong column, or an altered value' };
  }
  try {
    return { ok: true, value: UTF8.decode(plain) };
  } catch {
    return { ok: false, reason: 'the decrypted bytes are not UTF-8 text' };
  }
}

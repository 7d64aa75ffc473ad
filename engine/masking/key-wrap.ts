/**
 * How an `encrypt` data key reaches its subscriber (DESIGN.md "Masking"): wrapped for the subscriber's registered
 * X25519 public key, so only the holder of the private key can run `sluice decrypt`.
 *
 * Algorithm `X25519-HKDF-SHA256-A256GCM` (an ECIES / HPKE-base-mode shape):
 * 1. a fresh ephemeral X25519 key pair `(esk, epk)`; `shared = X25519(esk, recipientPk)`;
 * 2. `kek = HKDF-SHA256(shared, salt = epk ‖ recipientPk, info = "sluice key wrap v1", 32)` — both public keys in the
 *    salt bind the wrap to this recipient;
 * 3. `ciphertext ‖ tag = AES-256-GCM(kek, random 12-byte nonce, dataKey, aad = utf8(keyId))`, so a wrapped key
 *    relabelled with another key id does not unwrap.
 *
 * Wrapping is randomized (ephemeral key, random nonce): it is done once per data-key version and stored, not per
 * file, so files stay byte-identical. Keys are exchanged as raw 32-byte keys in unpadded base64url (the JWK `x` and
 * `d` members). A low-order public key (whose shared secret would be all zeros, readable by anyone) is refused.
 * Errors and reasons never contain key material.
 */

import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { SluiceError } from '../errors.ts';
import { DATA_KEY_BYTES } from './encrypt.ts';

/** The one key-wrap algorithm. */
export const KEY_WRAP_ALG = 'X25519-HKDF-SHA256-A256GCM';

/** A data key wrapped for one subscriber public key; every binary member is unpadded base64url. */
export interface WrappedKey {
  readonly alg: typeof KEY_WRAP_ALG;
  /** Identifies the data key version (e.g. `<subscription>:v3`); authenticated as the AAD. */
  readonly keyId: string;
  /** The ephemeral X25519 public key, raw 32 bytes. */
  readonly epk: string;
  /** The AES-GCM nonce, 12 bytes. */
  readonly nonce: string;
  /** The wrapped data key followed by the 16-byte GCM tag. */
  readonly ciphertext: string;
}

/** A subscriber's X25519 key pair, each key raw 32 bytes in unpadded base64url. */
export interface SubscriberKeyPair {
  /** Registered in the config (`subscribers.<id>.publicKey`). */
  readonly publicKey: string;
  /** Kept by the subscriber; needed by `sluice decrypt`. */
  readonly privateKey: string;
}

/** Outcome of {@link unwrapDataKey}; `reason` never contains key material. */
export type UnwrapResult = { ok: true; dataKey: Uint8Array } | { ok: false; reason: string };

const INFO = 'sluice key wrap v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const RAW_KEY_BYTES = 32;

/** A fresh subscriber key pair. */
export function generateSubscriberKeyPair(): SubscriberKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { publicKey: jwk.x ?? '', privateKey: jwk.d ?? '' };
}

type Decoded = { ok: true; bytes: Buffer; canonical: boolean } | { ok: false; problem: string };

/**
 * Decodes base64url (unpadded, or `=`-padded); `what` names the thing in the problem text, which never contains the
 * text itself. `canonical` is false when the text has stray trailing bits or an impossible length.
 */
function decodeB64url(s: unknown, what: string): Decoded {
  if (typeof s !== 'string') return { ok: false, problem: `${what}: expected a base64url string, got ${typeof s}` };
  const body = s.replace(/={1,2}$/, '');
  if (/[+/]/.test(body)) {
    return { ok: false, problem: `${what}: uses + or / (standard base64); base64url uses - and _` };
  }
  if (!/^[A-Za-z0-9_-]*$/.test(body)) return { ok: false, problem: `${what}: not base64url text` };
  const bytes = Buffer.from(body, 'base64url');
  return { ok: true, bytes, canonical: bytes.toString('base64url') === body };
}

/**
 * Strict decoding of a binary member: base64url, `bytes` long, canonical. `expected` describes the length in the
 * problem text, e.g. "12 bytes".
 */
function decodeExact(s: unknown, what: string, bytes: number, expected = `${bytes} bytes`): Decoded {
  const d = decodeB64url(s, what);
  if (!d.ok) return d;
  if (d.bytes.length !== bytes)
    return { ok: false, problem: `${what}: expected ${expected}, got ${d.bytes.length} bytes` };
  if (!d.canonical) return { ok: false, problem: `${what}: not canonical base64url` };
  return d;
}

function rawKeyProblem(s: unknown, what: string): Decoded {
  return decodeExact(s, what, RAW_KEY_BYTES, `a raw ${RAW_KEY_BYTES}-byte X25519 key in base64url (43 characters)`);
}

/**
 * A private key made on first use, only to test that a public key is not a low-order point (X25519 clamps every
 * scalar to a multiple of the cofactor, so such a point gives all zeros with any private key).
 */
let probeKey: KeyObject | undefined;

/**
 * Why `s` is not a usable X25519 public key (raw 32 bytes, base64url), or `undefined` when it is. For config
 * validation: reports the problem instead of throwing.
 */
export function publicKeyProblem(s: unknown): string | undefined {
  const r = parsePublicKeyInner(s);
  return r.ok ? undefined : r.problem;
}

function parsePublicKeyInner(s: unknown): { ok: true; key: KeyObject } | { ok: false; problem: string } {
  const what = 'X25519 public key';
  const d = rawKeyProblem(s, what);
  if (!d.ok) return d;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: d.bytes.toString('base64url') }, format: 'jwk' });
  } catch {
    return { ok: false, problem: `${what}: not accepted as an X25519 key` };
  }
  probeKey ??= generateKeyPairSync('x25519').privateKey;
  try {
    diffieHellman({ privateKey: probeKey, publicKey: key });
  } catch {
    return { ok: false, problem: `${what}: a low-order point (its shared secret would be all zeros)` };
  }
  return { ok: true, key };
}

/**
 * Parses a subscriber's public key: raw 32 bytes in base64url.
 * @throws SluiceError `CONFIG_INVALID` saying what is wrong (standard base64, how many bytes it got, low-order point).
 */
export function parsePublicKey(s: string): KeyObject {
  const r = parsePublicKeyInner(s);
  if (!r.ok) throw new SluiceError('CONFIG_INVALID', r.problem, { details: { problem: r.problem } });
  return r.key;
}

/**
 * Parses a subscriber's private key: raw 32 bytes in base64url (as {@link generateSubscriberKeyPair} gives it).
 * @throws SluiceError `CONFIG_INVALID` saying what is wrong (never the key).
 */
export function parsePrivateKey(s: string): KeyObject {
  const what = 'X25519 private key';
  const d = rawKeyProblem(s, what);
  if (!d.ok) throw new SluiceError('CONFIG_INVALID', d.problem, { details: { problem: d.problem } });
  const priv = d.bytes;
  // Node's JWK import insists on `x`, the public half we do not have yet; PKCS#8 (RFC 8410) takes the scalar alone.
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), priv]);
  try {
    return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    throw new SluiceError('CONFIG_INVALID', `${what}: not accepted as an X25519 key`);
  }
}

function rawPublicOf(privateKey: KeyObject): Buffer {
  return Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '', 'base64url');
}

function kekOf(shared: Buffer, epk: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, recipient]), INFO, 32));
}

/**
 * Wraps a data key for a subscriber's public key (randomized: two wraps of one key differ).
 * @param recipientPublicKey raw 32-byte X25519 public key in base64url, or a parsed KeyObject.
 * @param keyId the data key's version id, authenticated with it.
 * @throws SluiceError `CONFIG_INVALID` for an unusable public key; `INTERNAL` for a data key that is not 32 bytes.
 */
export function wrapDataKey(dataKey: Uint8Array, recipientPublicKey: string | KeyObject, keyId: string): WrappedKey {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
    throw new SluiceError('INTERNAL', `a data key to wrap must be ${DATA_KEY_BYTES} bytes`);
  }
  if (typeof keyId !== 'string') throw new SluiceError('INTERNAL', 'keyId must be a string');
  const recipient = typeof recipientPublicKey === 'string' ? parsePublicKey(recipientPublicKey) : recipientPublicKey;
  const recipientRaw = Buffer.from(recipient.export({ format: 'jwk' }).x ?? '', 'base64url');
  const eph = generateKeyPairSync('x25519');
  const epk = rawPublicOf(eph.privateKey);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: eph.privateKey, publicKey: recipient });
  } catch (cause) {
    throw new SluiceError('CONFIG_INVALID', 'X25519 public key: key agreement failed (a low-order point?)', {
      cause,
    });
  }
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kekOf(shared, epk, recipientRaw), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(keyId, 'utf8'));
  const ct = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return {
    alg: KEY_WRAP_ALG,
    keyId,
    epk: epk.toString('base64url'),
    nonce: nonce.toString('base64url'),
    ciphertext: ct.toString('base64url'),
  };
}

/**
 * Unwraps a data key with the subscriber's private key. A wrong private key, an altered or relabelled wrapped key,
 * or a malformed one gives `ok: false`.
 * @param recipientPrivateKey raw 32-byte X25519 private key in base64url, or a KeyObject.
 * @throws SluiceError `CONFIG_INVALID` only when the private key string itself is malformed.
 */
export function unwrapDataKey(wrapped: WrappedKey, recipientPrivateKey: string | KeyObject): UnwrapResult {
  const priv = typeof recipientPrivateKey === 'string' ? parsePrivateKey(recipientPrivateKey) : recipientPrivateKey;
  if (typeof wrapped !== 'object' || wrapped === null) return { ok: false, reason: 'not a wrapped key object' };
  if (wrapped.alg !== KEY_WRAP_ALG) return { ok: false, reason: `unsupported alg (expected ${KEY_WRAP_ALG})` };
  if (typeof wrapped.keyId !== 'string') return { ok: false, reason: 'keyId: not a string' };
  const epk = rawKeyProblem(wrapped.epk, 'epk');
  if (!epk.ok) return { ok: false, reason: epk.problem };
  const nonce = decodeExact(wrapped.nonce, 'nonce', NONCE_BYTES);
  if (!nonce.ok) return { ok: false, reason: nonce.problem };
  const ct = decodeExact(
    wrapped.ciphertext,
    'ciphertext',
    DATA_KEY_BYTES + TAG_BYTES,
    `${DATA_KEY_BYTES + TAG_BYTES} bytes (key + tag)`,
  );
  if (!ct.ok) return { ok: false, reason: ct.problem };
  let shared: Buffer;
  try {
    const epkKey = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: epk.bytes.toString('base64url') },
      format: 'jwk',
    });
    shared = diffieHellman({ privateKey: priv, publicKey: epkKey });
  } catch {
    return { ok: false, reason: 'epk: key agreement failed (not a usable X25519 public key)' };
  }
  const body = ct.bytes.subarray(0, DATA_KEY_BYTES);
  const tag = ct.bytes.subarray(DATA_KEY_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kekOf(shared, epk.bytes, rawPublicOf(priv)), nonce.bytes, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(wrapped.keyId, 'utf8'));
    decipher.setAuthTag(tag);
    const dataKey = Buffer.concat([decipher.update(body), decipher.final()]);
    return { ok: true, dataKey: new Uint8Array(dataKey) };
  } catch {
    return { ok: false, reason: 'authentication failed: wrong private key, or the wrapped key was altered' };
  }
}

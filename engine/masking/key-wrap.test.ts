import { createPublicKey, diffieHellman } from 'node:crypto';
import test from 'ava';
import { SluiceError } from '../errors.ts';
import { decryptValue, encryptValue, generateDataKey } from './encrypt.ts';
import {
  KEY_WRAP_ALG,
  generateSubscriberKeyPair,
  parsePrivateKey,
  parsePublicKey,
  publicKeyProblem,
  unwrapDataKey,
  wrapDataKey,
  type WrappedKey,
} from './key-wrap.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

test('key pair: raw 32-byte base64url keys that belong together', (t) => {
  const kp = generateSubscriberKeyPair();
  t.regex(kp.publicKey, /^[A-Za-z0-9_-]{43}$/);
  t.regex(kp.privateKey, /^[A-Za-z0-9_-]{43}$/);
  const derived = createPublicKey(parsePrivateKey(kp.privateKey)).export({ format: 'jwk' }).x;
  t.is(derived, kp.publicKey);
  t.not(generateSubscriberKeyPair().publicKey, kp.publicKey);
});

test('wrap → unwrap round trip; the unwrapped key decrypts', (t) => {
  const kp = generateSubscriberKeyPair();
  const dataKey = generateDataKey();
  const w = wrapDataKey(dataKey, kp.publicKey, 'audit-people:v1');
  t.is(w.alg, KEY_WRAP_ALG);
  t.is(w.keyId, 'audit-people:v1');
  t.is(Buffer.from(w.epk, 'base64url').length, 32);
  t.is(Buffer.from(w.nonce, 'base64url').length, 12);
  t.is(Buffer.from(w.ciphertext, 'base64url').length, 48);
  const u = unwrapDataKey(w, kp.privateKey);
  t.true(u.ok);
  if (!u.ok) return;
  t.deepEqual(u.dataKey, dataKey);
  const ct = encryptValue(dataKey, 'mobile', '13812345678');
  t.deepEqual(decryptValue(u.dataKey, 'mobile', ct), { ok: true, value: '13812345678' });
  // Also with KeyObjects, and it survives JSON.
  const again = unwrapDataKey(JSON.parse(JSON.stringify(w)) as WrappedKey, parsePrivateKey(kp.privateKey));
  t.true(again.ok && Buffer.from(again.dataKey).equals(Buffer.from(dataKey)));
  t.true(unwrapDataKey(wrapDataKey(dataKey, parsePublicKey(kp.publicKey), 'k'), kp.privateKey).ok);
});

test('wrapping is randomized (ephemeral key, nonce)', (t) => {
  const kp = generateSubscriberKeyPair();
  const dataKey = generateDataKey();
  const a = wrapDataKey(dataKey, kp.publicKey, 'k');
  const b = wrapDataKey(dataKey, kp.publicKey, 'k');
  t.not(a.epk, b.epk);
  t.not(a.ciphertext, b.ciphertext);
});

test('wrong private key, relabelled key id, altered fields: unwrap fails cleanly', (t) => {
  const kp = generateSubscriberKeyPair();
  const w = wrapDataKey(generateDataKey(), kp.publicKey, 'k1');
  const fail = { ok: false, reason: 'authentication failed: wrong private key, or the wrapped key was altered' };
  t.deepEqual(unwrapDataKey(w, generateSubscriberKeyPair().privateKey), fail);
  t.deepEqual(unwrapDataKey({ ...w, keyId: 'k2' }, kp.privateKey), fail);
  const flip = (s: string, i: number) => {
    const b = Buffer.from(s, 'base64url');
    b[i]! ^= 1;
    return b64(b);
  };
  t.deepEqual(unwrapDataKey({ ...w, ciphertext: flip(w.ciphertext, 0) }, kp.privateKey), fail);
  t.deepEqual(unwrapDataKey({ ...w, ciphertext: flip(w.ciphertext, 47) }, kp.privateKey), fail);
  t.deepEqual(unwrapDataKey({ ...w, nonce: flip(w.nonce, 3) }, kp.privateKey), fail);
  t.false(unwrapDataKey({ ...w, epk: flip(w.epk, 5) }, kp.privateKey).ok);
  t.false(unwrapDataKey({ ...w, epk: b64(new Uint8Array(32)) }, kp.privateKey).ok, 'low-order epk');
  t.false(unwrapDataKey({ ...w, alg: 'RSA-OAEP' } as unknown as WrappedKey, kp.privateKey).ok);
  t.false(unwrapDataKey({ ...w, nonce: 'AAAA' }, kp.privateKey).ok);
  t.false(unwrapDataKey({ ...w, ciphertext: w.ciphertext.slice(0, 20) }, kp.privateKey).ok);
  t.false(unwrapDataKey({ ...w, epk: 'not base64!' }, kp.privateKey).ok);
  t.false(unwrapDataKey(null as unknown as WrappedKey, kp.privateKey).ok);
});

test('bad public keys: clear errors that say what was wrong', (t) => {
  const kp = generateSubscriberKeyPair();
  const raw = Buffer.from(kp.publicKey, 'base64url');
  const cases: [string, RegExp][] = [
    [b64(raw.subarray(0, 31)), /expected a raw 32-byte X25519 key in base64url \(43 characters\), got 31 bytes/],
    [b64(Buffer.concat([raw, Buffer.from([1])])), /got 33 bytes/],
    ['', /got 0 bytes/],
    [
      raw
        .toString('base64')
        .replace(/=+$/, '')
        .replace(/[A-Za-z0-9]/, '+'),
      /standard base64/,
    ],
    [raw.toString('hex'), /got 48 bytes/],
    ['abc def', /not base64url text/],
    [b64(new Uint8Array(32)), /low-order point/],
    [b64(Uint8Array.from([1, ...new Uint8Array(31)])), /low-order point/],
  ];
  for (const [s, re] of cases) {
    const e = t.throws(() => parsePublicKey(s), { instanceOf: SluiceError }, s);
    t.is(e?.code, 'CONFIG_INVALID');
    t.regex(e!.message, re, s);
    t.regex(publicKeyProblem(s) ?? '', re);
  }
  t.is(publicKeyProblem(kp.publicKey), undefined);
  t.notThrows(() => parsePublicKey(kp.publicKey + '='), 'padding accepted');
  t.throws(() => wrapDataKey(generateDataKey(), b64(raw.subarray(0, 16)), 'k'), { message: /got 16 bytes/ });
  t.throws(() => wrapDataKey(new Uint8Array(16), kp.publicKey, 'k'), { message: /32 bytes/ });
  t.throws(() => parsePrivateKey('short'), { message: /private key.*got 3 bytes/ });
});

test('ECDH agrees with node:crypto directly (the KEK input)', (t) => {
  const a = generateSubscriberKeyPair();
  const b = generateSubscriberKeyPair();
  const ab = diffieHellman({ privateKey: parsePrivateKey(a.privateKey), publicKey: parsePublicKey(b.publicKey) });
  const ba = diffieHellman({ privateKey: parsePrivateKey(b.privateKey), publicKey: parsePublicKey(a.publicKey) });
  t.true(ab.equals(ba));
});

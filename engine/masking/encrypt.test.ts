import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import test from 'ava';
import { SluiceError } from '../errors.ts';
import { decryptValue, deriveEncryptKeys, encryptValue, generateDataKey } from './encrypt.ts';

const dataKey = Uint8Array.from({ length: 32 }, (_, i) => i);
const keys = deriveEncryptKeys(dataKey);
const hexBytes = (s: string) => Buffer.from(s.slice(2), 'hex');

test('known answer: the construction as documented', (t) => {
  const enc = Buffer.from(hkdfSync('sha256', dataKey, new Uint8Array(0), 'sluice encrypt v1 key', 32));
  const nk = Buffer.from(hkdfSync('sha256', dataKey, new Uint8Array(0), 'sluice encrypt v1 nonce', 32));
  const column = 'id_card';
  const value = '11010519491231002X';
  const nonce = createHmac('sha256', nk).update(`${column}\0${value}`, 'utf8').digest().subarray(0, 12);
  const c = createCipheriv('aes-256-gcm', enc, nonce);
  c.setAAD(Buffer.from(column));
  const expected = Buffer.concat([nonce, c.update(value, 'utf8'), c.final(), c.getAuthTag()]);
  t.is(encryptValue(keys, column, value), '\\x' + expected.toString('hex'));
  t.is(encryptValue(dataKey, column, value), '\\x' + expected.toString('hex'));
});

test('round trip, including empty and non-ASCII values', (t) => {
  for (const v of ['', '13812345678', '张三', '𠀀 emoji 🙂', 'a'.repeat(10_000), '\\x00ff']) {
    const out = encryptValue(keys, 'c', v);
    t.regex(out, /^\\x([0-9a-f]{2})+$/);
    t.is(hexBytes(out).length, 12 + Buffer.byteLength(v, 'utf8') + 16, v.slice(0, 20));
    t.deepEqual(decryptValue(keys, 'c', out), { ok: true, value: v });
    t.deepEqual(decryptValue(dataKey, 'c', out), { ok: true, value: v });
    t.deepEqual(decryptValue(keys, 'c', out.slice(2)), { ok: true, value: v }, 'hex without \\x');
    t.deepEqual(decryptValue(keys, 'c', new Uint8Array(hexBytes(out))), { ok: true, value: v }, 'bytes');
  }
});

test('deterministic; different value, column or key give different bytes', (t) => {
  const a = encryptValue(keys, 'mobile', '13812345678');
  t.is(encryptValue(deriveEncryptKeys(dataKey), 'mobile', '13812345678'), a);
  t.not(encryptValue(keys, 'mobile', '13812345679'), a);
  t.not(encryptValue(keys, 'phone', '13812345678'), a);
  const other = deriveEncryptKeys(generateDataKey());
  t.not(encryptValue(other, 'mobile', '13812345678'), a);
  // The nonce differs too, not only the ciphertext.
  t.not(a.slice(2, 26), encryptValue(keys, 'phone', '13812345678').slice(2, 26));
});

test('wrong key, wrong column, any altered byte: decrypt fails cleanly', (t) => {
  const v = '11010519491231002X';
  const out = encryptValue(keys, 'id_card', v);
  const fail = { ok: false, reason: 'authentication failed: wrong key, wrong column, or an altered value' };
  t.deepEqual(decryptValue(deriveEncryptKeys(generateDataKey()), 'id_card', out), fail);
  t.deepEqual(decryptValue(keys, 'id_card2', out), fail);
  const bytes = hexBytes(out);
  for (let i = 0; i < bytes.length; i++) {
    const altered = Buffer.from(bytes);
    altered[i]! ^= 0x01;
    const r = decryptValue(keys, 'id_card', altered);
    t.false(r.ok, `byte ${i}`);
    if (!r.ok) t.false(r.reason.includes(v));
  }
  t.false(decryptValue(keys, 'id_card', bytes.subarray(0, bytes.length - 1)).ok, 'truncated');
});

test('malformed input is a negative result, not a throw', (t) => {
  for (const bad of ['', '\\x', 'zz', '\\x0', '\\xgg', `\\x${'00'.repeat(27)}`, 'x00']) {
    const r = decryptValue(keys, 'c', bad);
    t.false(r.ok, bad);
  }
  t.false(decryptValue(keys, 'c', new Uint8Array(10)).ok);
});

test('key checks; keys never show when logged', (t) => {
  const e = t.throws(() => deriveEncryptKeys(new Uint8Array(31)), { instanceOf: SluiceError });
  t.is(e?.code, 'INTERNAL');
  t.regex(e!.message, /32 bytes \(got 31 bytes\)/);
  t.throws(() => encryptValue(keys, 'a\0b', 'x'), { message: /without NUL/ });
  t.is(JSON.stringify({ keys }), '{"keys":"[EncryptKeys]"}');
  t.is(inspect(keys), '[EncryptKeys]');
  t.deepEqual(Object.keys(keys), []);
});

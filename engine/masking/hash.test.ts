import { createHmac } from 'node:crypto';
import test from 'ava';
import { hmacHex } from './hash.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('RFC 4231 test case 2', (t) => {
  t.is(
    hmacHex(enc('Jefe'), 'what do ya want for nothing?'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
});

test('64 lowercase hex, deterministic, key-dependent', (t) => {
  const a = hmacHex(enc('k1'), '张三');
  t.regex(a, /^[0-9a-f]{64}$/);
  t.is(hmacHex(enc('k1'), '张三'), a);
  t.not(hmacHex(enc('k2'), '张三'), a);
  t.not(hmacHex(enc('k1'), '张四'), a);
});

test('hashes the UTF-8 bytes of the text', (t) => {
  const utf8 = Uint8Array.from([0xe5, 0xbc, 0xa0, 0xe4, 0xb8, 0x89]); // 张三
  t.is(hmacHex(enc('k1'), '张三'), createHmac('sha256', enc('k1')).update(utf8).digest('hex'));
  t.is(
    hmacHex(enc('k1'), '𠀀'),
    createHmac('sha256', enc('k1'))
      .update(Uint8Array.from([0xf0, 0xa0, 0x80, 0x80]))
      .digest('hex'),
  );
});

import test from 'ava';
import { SluiceError } from '../errors.ts';
import { hmacHex } from './hash.ts';
import { createFieldMasker, maskedType } from './masker.ts';
import { STRICTNESS } from './strategy.ts';

const key = new TextEncoder().encode('per-subscription-key');

test('clear, null, hash', (t) => {
  t.deepEqual(createFieldMasker('clear', 'cn_mobile', key)('13812345678'), { value: '13812345678' });
  t.deepEqual(createFieldMasker('null', 'cn_mobile', key)('13812345678'), { value: null });
  t.deepEqual(createFieldMasker('hash', 'cn_mobile', key)('13812345678'), { value: hmacHex(key, '13812345678') });
  t.deepEqual(createFieldMasker('hash', undefined, key)(''), { value: hmacHex(key, '') });
});

test('partial masks parseable values', (t) => {
  t.deepEqual(createFieldMasker('partial', 'cn_id_card', key)('11010519491231002X'), { value: '110105********002X' });
  t.deepEqual(createFieldMasker('partial', 'person_name', key)('欧阳娜娜'), { value: '欧***' });
  t.deepEqual(
    createFieldMasker('partial', 'cn_id_card', key, { cn_id_card: { keepFirst: 4, keepLast: 2 } })(
      '11010519491231002X',
    ),
    { value: '1101************2X' },
  );
});

const FALLBACK: [string | undefined, string][] = [
  ['cn_id_card', '110105491231002'], // 15-digit ID
  ['cn_id_card', '110105194912310021'], // wrong check character
  ['cn_mobile', '+8613812345678'],
  ['email', 'not-an-email'],
  ['passport', 'E12345678'], // no partial mask for the tag
  [undefined, '张三'], // untagged
];

test('unparseable values fall back to hash with a reason', (t) => {
  for (const [tag, value] of FALLBACK) {
    const r = createFieldMasker('partial', tag, key)(value);
    t.is(r.value, hmacHex(key, value), value);
    t.is(r.fallback, 'hash');
    t.is(typeof r.reason, 'string');
  }
});

test('null stays null for every strategy that masks', (t) => {
  for (const s of ['clear', 'partial', 'hash', 'null'] as const) {
    for (const tag of ['cn_id_card', undefined]) t.deepEqual(createFieldMasker(s, tag, key)(null), { value: null }, s);
  }
});

test('deterministic across maskers with the same key; different keys differ', (t) => {
  const a = createFieldMasker('partial', 'cn_id_card', key)('110105491231002');
  const b = createFieldMasker('partial', 'cn_id_card', key)('110105491231002');
  const c = createFieldMasker('partial', 'cn_id_card', new Uint8Array([1, 2, 3]))('110105491231002');
  t.deepEqual(a, b);
  t.not(a.value, c.value);
});

test('generalize/encrypt are not implemented; deny is refused; all at creation', (t) => {
  for (const s of ['generalize', 'encrypt'] as const) {
    const e = t.throws(() => createFieldMasker(s, undefined, key), { instanceOf: SluiceError });
    t.is(e?.message, `strategy ${s} is not implemented yet`);
    t.throws(() => maskedType(s), { message: `strategy ${s} is not implemented yet` });
  }
  t.throws(() => createFieldMasker('deny', undefined, key), { message: /removed before masking/ });
  t.throws(() => maskedType('deny'), { message: /removed before masking/ });
});

test('hash/partial need a key; partial options are validated at creation', (t) => {
  t.throws(() => createFieldMasker('hash', undefined, new Uint8Array()), { message: /non-empty HMAC key/ });
  t.throws(() => createFieldMasker('partial', 'cn_mobile', new Uint8Array()), { message: /non-empty HMAC key/ });
  t.notThrows(() => createFieldMasker('clear', undefined, new Uint8Array()));
  t.throws(() => createFieldMasker('partial', 'cn_mobile', key, { cn_mobile: { keepFirst: -3 } }), {
    message: /cn_mobile\.keepFirst/,
  });
});

test('maskedType', (t) => {
  t.is(maskedType('clear'), 'source');
  t.is(maskedType('partial'), 'text');
  t.is(maskedType('hash'), 'text');
  t.is(maskedType('null'), 'all-null');
  t.is(STRICTNESS.length, 7);
});

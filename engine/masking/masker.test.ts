import test from 'ava';
import type { ColumnType } from '../../schemas/index.ts';
import { SluiceError } from '../errors.ts';
import { decryptValue, deriveEncryptKeys, encryptValue } from './encrypt.ts';
import { hmacHex } from './hash.ts';
import { createFieldMasker, maskedType, type FieldMaskerOptions } from './masker.ts';
import { STRICTNESS } from './strategy.ts';

const key = new TextEncoder().encode('per-subscription-key');
const dataKey = new Uint8Array(32).fill(7);
const text: ColumnType = { kind: 'utf8' };

/** A masker for column `c` with the test keys; `over` overrides. */
const masker = (over: Partial<FieldMaskerOptions> & Pick<FieldMaskerOptions, 'strategy'>) =>
  createFieldMasker({ column: 'c', type: text, hashKey: key, encryptKey: dataKey, ...over });

test('clear, null, hash', (t) => {
  t.deepEqual(masker({ strategy: 'clear', tag: 'cn_mobile' })('13812345678'), { value: '13812345678' });
  t.deepEqual(masker({ strategy: 'null', tag: 'cn_mobile' })('13812345678'), { value: null });
  t.deepEqual(masker({ strategy: 'hash', tag: 'cn_mobile' })('13812345678'), { value: hmacHex(key, '13812345678') });
  t.deepEqual(masker({ strategy: 'hash' })(''), { value: hmacHex(key, '') });
});

test('partial masks parseable values', (t) => {
  t.deepEqual(masker({ strategy: 'partial', tag: 'cn_id_card' })('11010519491231002X'), {
    value: '110105********002X',
  });
  t.deepEqual(masker({ strategy: 'partial', tag: 'person_name' })('欧阳娜娜'), { value: '欧***' });
  t.deepEqual(
    masker({ strategy: 'partial', tag: 'cn_id_card', partial: { cn_id_card: { keepFirst: 4, keepLast: 2 } } })(
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
    const r = masker({ strategy: 'partial', tag })(value);
    t.is(r.value, hmacHex(key, value), value);
    t.is(r.fallback, 'hash');
    t.is(typeof r.reason, 'string');
  }
});

test('generalize by column type; unparseable values fall back to hash without the value in the reason', (t) => {
  const date = masker({ strategy: 'generalize', type: { kind: 'date' }, generalize: { date: 'month' } });
  t.deepEqual(date('2024-03-15'), { value: '2024-03' });
  const ts = masker({ strategy: 'generalize', type: { kind: 'timestamp', tz: 'UTC' } });
  t.deepEqual(ts('0044-03-15 12:00:00+00 BC'), { value: '0044 BC' });
  const amount = masker({
    strategy: 'generalize',
    type: { kind: 'decimal', precision: 12, scale: 2 },
    generalize: { buckets: ['0', 500, '1000'] },
  });
  t.deepEqual(amount('499.99'), { value: '[0,500)' });
  const id = masker({ strategy: 'generalize', tag: 'cn_id_card' });
  t.deepEqual(id('11010519491231002X'), { value: '1101-1949' });
  for (const [m, raw] of [
    [date, 'infinity'],
    [ts, '-infinity'],
    [amount, 'NaN'],
    [id, '110105491231002'],
    [id, '110105194912310021'],
  ] as const) {
    const r = m(raw);
    t.is(r.value, hmacHex(key, raw), raw);
    t.is(r.fallback, 'hash');
    t.false(r.reason!.includes(raw), r.reason);
  }
});

test('generalize configuration errors are CONFIG_INVALID at creation, naming the field and its type', (t) => {
  const noBuckets = t.throws(() => masker({ strategy: 'generalize', column: 'amount', type: { kind: 'int64' } }), {
    instanceOf: SluiceError,
  });
  t.is(noBuckets?.code, 'CONFIG_INVALID');
  t.regex(noBuckets!.message, /field "amount" \(int64\).*needs buckets/);
  const untagged = t.throws(() => masker({ strategy: 'generalize', column: 'name', tag: 'person_name' }), {
    instanceOf: SluiceError,
  });
  t.is(untagged?.code, 'CONFIG_INVALID');
  t.regex(untagged!.message, /field "name" \(utf8, tag person_name\).*generalize supports date.*got utf8/);
  for (const type of [{ kind: 'bool' }, { kind: 'binary' }, { kind: 'time' }] as ColumnType[]) {
    t.throws(() => masker({ strategy: 'generalize', type }), { message: /generalize supports/ });
  }
  t.throws(() => masker({ strategy: 'generalize', type: { kind: 'int32' }, generalize: { buckets: ['5', '1'] } }), {
    message: /strictly ascending/,
  });
  const noType = t.throws(() => masker({ strategy: 'generalize', type: undefined }), { instanceOf: SluiceError });
  t.is(noType?.code, 'INTERNAL');
});

test('encrypt: deterministic, decryptable with the column, binary hex output', (t) => {
  const m = masker({ strategy: 'encrypt', column: 'mobile' });
  const a = m('13812345678');
  t.is(a.value, encryptValue(dataKey, 'mobile', '13812345678'));
  t.regex(a.value!, /^\\x[0-9a-f]+$/);
  t.deepEqual(m('13812345678'), a);
  t.deepEqual(decryptValue(deriveEncryptKeys(dataKey), 'mobile', a.value!), { ok: true, value: '13812345678' });
  const e = t.throws(() => masker({ strategy: 'encrypt', encryptKey: undefined }), { instanceOf: SluiceError });
  t.is(e?.code, 'INTERNAL');
  t.throws(() => masker({ strategy: 'encrypt', encryptKey: new Uint8Array(16) }), { message: /32 bytes \(got 16/ });
});

test('null stays null for every strategy that masks', (t) => {
  for (const s of ['clear', 'partial', 'hash', 'null', 'encrypt'] as const) {
    for (const tag of ['cn_id_card', undefined]) t.deepEqual(masker({ strategy: s, tag })(null), { value: null }, s);
  }
  t.deepEqual(masker({ strategy: 'generalize', type: { kind: 'date' } })(null), { value: null });
});

test('deterministic across maskers with the same key; different keys differ', (t) => {
  const a = masker({ strategy: 'partial', tag: 'cn_id_card' })('110105491231002');
  const b = masker({ strategy: 'partial', tag: 'cn_id_card' })('110105491231002');
  const c = masker({ strategy: 'partial', tag: 'cn_id_card', hashKey: new Uint8Array([1, 2, 3]) })('110105491231002');
  t.deepEqual(a, b);
  t.not(a.value, c.value);
});

test('deny is refused at creation', (t) => {
  t.throws(() => masker({ strategy: 'deny' }), { message: /removed before masking/ });
  t.throws(() => maskedType('deny'), { message: /removed before masking/ });
});

test('hash/partial/generalize need a key; partial options are validated at creation', (t) => {
  t.throws(() => masker({ strategy: 'hash', hashKey: new Uint8Array() }), { message: /non-empty HMAC key/ });
  t.throws(() => masker({ strategy: 'partial', tag: 'cn_mobile', hashKey: new Uint8Array() }), {
    message: /non-empty HMAC key/,
  });
  t.throws(() => masker({ strategy: 'generalize', type: { kind: 'date' }, hashKey: new Uint8Array() }), {
    message: /non-empty HMAC key/,
  });
  t.notThrows(() => masker({ strategy: 'clear', hashKey: new Uint8Array() }));
  t.notThrows(() => masker({ strategy: 'encrypt', hashKey: new Uint8Array() }));
  t.throws(() => masker({ strategy: 'partial', tag: 'cn_mobile', partial: { cn_mobile: { keepFirst: -3 } } }), {
    message: /cn_mobile\.keepFirst/,
  });
});

test('maskedType', (t) => {
  t.is(maskedType('clear'), 'source');
  t.is(maskedType('partial'), 'text');
  t.is(maskedType('hash'), 'text');
  t.is(maskedType('generalize'), 'text');
  t.is(maskedType('encrypt'), 'binary');
  t.is(maskedType('null'), 'all-null');
  t.is(STRICTNESS.length, 7);
});

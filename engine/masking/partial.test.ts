import test from 'ava';
import { isPartialTag, partialMask, validatePartialOptions, type PartialOptions } from './partial.ts';

// REFERENCE.md "Partial masks — the defaults, by example", and more of the same shapes.
const OK: [tag: string, input: string, masked: string][] = [
  ['person_name', '张三', '张*'],
  ['person_name', '欧阳娜娜', '欧***'],
  ['person_name', '阿卜杜拉·买买提', '阿*******'],
  ['person_name', '𠀀三', '𠀀*'], // astral first character counts once
  ['person_name', '张𠀀𠀁', '张**'],
  ['cn_id_card', '11010519491231002X', '110105********002X'],
  ['cn_id_card', '11010519491231002x', '110105********002x'],
  ['cn_id_card', '440524188001010014', '440524********0014'],
  ['cn_mobile', '13812345678', '138****5678'],
  ['cn_mobile', '19900001111', '199****1111'],
  ['bank_card', '6222021234567890123', '6222***********0123'],
  ['bank_card', '6222021234567890', '6222********7890'],
  ['email', 'zhang.san@example.cn', 'z***@example.cn'],
  ['email', 'ab@mail.example.com.cn', 'a***@mail.example.com.cn'],
  ['email', '张三丰@例子.中国', '张***@例子.中国'],
  ['address', '北京市东城区东华门街道某胡同1号', '北京市东城区****'],

  ['address', '上海市浦东新区世纪大道100号', '上海市浦东新区****'],
  ['address', '浙江省杭州市淳安县千岛湖镇', '浙江省杭州市淳安县****'],
  ['address', '新疆维吾尔自治区乌鲁木齐市天山区某路1号', '新疆维吾尔自治区乌鲁木齐市天山区****'],
  ['address', '香港特别行政区中西区某街', '香港特别行政区中西区****'],
  ['address', '北京市市辖区东城区某胡同', '北京市市辖区****'],
  ['phone', '010-65123456', '010-****3456'],
  ['phone', '0755 2345678', '0755 ***5678'],
  ['phone', '02165123456', '021****3456'],
  ['phone', '(010)65123456', '(010)****3456'],
];

test('default partial masks', (t) => {
  for (const [tag, input, out] of OK) {
    t.deepEqual(partialMask(tag, input), { ok: true, value: out }, `${tag} ${input}`);
  }
});

// Values that cannot be parsed: the caller falls back to hash.
const FAIL: [string | undefined, string, RegExp][] = [
  [undefined, '张三', /no sensitivity tag/],
  ['passport', 'E12345678', /no partial mask/],
  ['person_name', '', /blank/],
  ['person_name', '  ', /blank/],
  ['person_name', '张', /too short/],
  ['cn_id_card', '110105491231002', /15-digit/],
  ['cn_id_card', '110105194912310021', /check character/],
  ['cn_id_card', '110105194902301234', /birth date/],
  ['cn_id_card', '11010519491231002Y', /digit or X/],
  ['cn_mobile', '+8613812345678', /mobile/],
  ['cn_mobile', '8613812345678', /mobile/],
  ['cn_mobile', '138 1234 5678', /mobile/],
  ['cn_mobile', '23812345678', /mobile/],
  ['cn_mobile', '1381234567', /mobile/],
  ['bank_card', '6222 0212 3456 7890', /card/],
  ['bank_card', '12345678901', /card/],
  ['email', 'zhang.san', /local@domain/],
  ['email', 'a@b@example.cn', /local@domain/],
  ['email', 'zhang@localhost', /local@domain/],
  ['email', 'a@example.cn', /too short/],
  ['address', '东华门街道某胡同1号', /no district/],
  ['address', '江苏省昆山市玉山镇阳光小区3栋', /below district/],
  ['address', '区', /no place name/],
  ['address', '北京市东城区', /nothing after the district/], // shown whole it would hide nothing
  ['phone', '65123456', /landline/],
  ['phone', '010-6512345678', /landline/],
  ['phone', '13812345678', /landline/],
  ['phone', '010-05123456', /landline/],
];

test('unparseable values give ok:false with a reason that does not echo the value', (t) => {
  for (const [tag, input, why] of FAIL) {
    const r = partialMask(tag, input);
    t.false(r.ok, `${tag} ${input}`);
    if (!r.ok) {
      t.regex(r.reason, why, `${tag} ${input}`);
      if (input.trim().length > 1) t.false(r.reason.includes(input), `reason leaks ${input}`);
    }
  }
});

test('prefecture-level 地区 is passed over', (t) => {
  t.deepEqual(partialMask('address', '新疆阿克苏地区库车县某镇'), { ok: true, value: '新疆阿克苏地区库车县****' });
});

test('configured keep counts per tag', (t) => {
  const opts: PartialOptions = {
    cn_id_card: { keepFirst: 3, keepLast: 1 },
    cn_mobile: { keepLast: 2 },
    person_name: { keepFirst: 0 },
    email: { keepFirst: 2, keepLast: 1 },
    phone: { keepFirst: 2, keepLast: 2 },
    bank_card: { keepFirst: 0, keepLast: 4 },
    address: { keepFirst: 3 },
  };
  const cases: [string, string, string][] = [
    ['cn_id_card', '11010519491231002X', '110**************X'],
    ['cn_mobile', '13812345678', '138******78'],
    ['person_name', '欧阳娜娜', '****'],
    ['email', 'zhang.san@example.cn', 'zh***n@example.cn'],
    ['phone', '010-65123456', '010-65****56'],
    ['bank_card', '6222021234567890123', '***************0123'],
    ['address', '北京市东城区东华门街道某胡同1号', '北京市****'],
  ];
  for (const [tag, input, out] of cases) t.deepEqual(partialMask(tag, input, opts), { ok: true, value: out }, tag);
  t.deepEqual(partialMask('cn_id_card', '11010519491231002X', { cn_id_card: { keepFirst: 6, keepLast: 4 } }), {
    ok: true,
    value: '110105********002X',
  });
  const all = partialMask('cn_mobile', '13812345678', { cn_mobile: { keepFirst: 7, keepLast: 4 } });
  t.false(all.ok, 'keeping every character is refused');
});

test('invalid keep counts throw; validatePartialOptions names them', (t) => {
  t.throws(() => partialMask('cn_mobile', '13812345678', { cn_mobile: { keepFirst: -1 } }), { instanceOf: RangeError });
  t.throws(() => partialMask('address', '北京市东城区', { address: { keepLast: 1.5 } }), { instanceOf: RangeError });
  t.deepEqual(validatePartialOptions(undefined), []);
  t.deepEqual(validatePartialOptions({ cn_id_card: { keepFirst: 6, keepLast: 4 } }), []);
  const issues = validatePartialOptions({
    cn_mobile: { keepFirst: -1 },
    passport: { keepFirst: 1 },
    email: { keepMiddle: 1 },
  } as unknown as PartialOptions);
  t.is(issues.length, 3);
  t.true(issues.some((i) => i.startsWith('cn_mobile.keepFirst')));
  t.true(issues.some((i) => i.startsWith('passport')));
  t.true(issues.some((i) => i.startsWith('email.keepMiddle')));
});

test('isPartialTag', (t) => {
  t.true(isPartialTag('cn_id_card'));
  t.false(isPartialTag('passport'));
  t.false(isPartialTag(undefined));
});

import test from 'ava';
import type { ColumnSpec } from '../../schemas/index.ts';
import { SluiceError } from '../errors.ts';
import { decryptValue, hmacHex } from '../masking/index.ts';
import type { GrantedField } from '../rules/grant.ts';
import { compileFieldMasks } from './field-masks.ts';

const hash = new TextEncoder().encode('k');
const encrypt = new Uint8Array(32).fill(9);

const fields: GrantedField[] = [
  { name: 'id', level: 'general', strategy: 'clear' },
  { name: 'mobile', level: 'important', tag: 'cn_mobile', strategy: 'hash' },
  { name: 'name', level: 'important', tag: 'person_name', strategy: 'partial' },
  { name: 'born', level: 'important', strategy: 'generalize' },
  { name: 'income', level: 'important', strategy: 'generalize' },
  { name: 'id_card', level: 'important', tag: 'cn_id_card', strategy: 'encrypt' },
  { name: 'note', level: 'important', strategy: 'null' },
];
const columns: ColumnSpec[] = [
  { name: 'id', type: { kind: 'int64' } },
  { name: 'mobile', type: { kind: 'utf8' } },
  { name: 'name', type: { kind: 'utf8' } },
  { name: 'born', type: { kind: 'date' } },
  { name: 'income', type: { kind: 'decimal', precision: 12, scale: 2 } },
  { name: 'id_card', type: { kind: 'utf8' } },
  { name: 'note', type: { kind: 'utf8' } },
];

test('masks and output types per strategy', (t) => {
  const masks = compileFieldMasks(
    fields,
    { hash, encrypt },
    { columns, generalize: { income: { buckets: ['0', '10000'] }, born: { date: 'month' } } },
  );
  const row = ['7', '13812345678', '张三', '1949-10-01', '12000.50', '11010519491231002X', 'x'];
  const out = masks.map((m, i) => m.apply(row[i]!).value);
  t.deepEqual(out.slice(0, 5), ['7', hmacHex(hash, '13812345678'), '张*', '1949-10', '>=10000']);
  t.deepEqual(decryptValue(encrypt, 'id_card', out[5]!), { ok: true, value: '11010519491231002X' });
  t.is(out[6], null);
  t.deepEqual(
    masks.map((m, i) => m.outputType(columns[i]!.type)),
    [
      { kind: 'int64' },
      { kind: 'utf8' },
      { kind: 'utf8' },
      { kind: 'utf8' },
      { kind: 'utf8' },
      { kind: 'binary' },
      { kind: 'utf8' },
    ],
  );
  t.is(masks[5]!.tag, 'cn_id_card');
});

test('missing encrypt key: INTERNAL naming the field', (t) => {
  const e = t.throws(() => compileFieldMasks(fields, { hash }, { columns, generalize: { income: { buckets: [0] } } }), {
    instanceOf: SluiceError,
  });
  t.is(e?.code, 'INTERNAL');
  t.regex(e!.message, /"id_card"/);
});

test('generalize problems surface at compile time', (t) => {
  const noBuckets = t.throws(() => compileFieldMasks(fields, { hash, encrypt }, { columns }), {
    instanceOf: SluiceError,
  });
  t.is(noBuckets?.code, 'CONFIG_INVALID');
  t.regex(noBuckets!.message, /field "income" \(decimal\(12,2\)\).*needs buckets/);
  const noColumns = t.throws(() => compileFieldMasks(fields, { hash, encrypt }), { instanceOf: SluiceError });
  t.is(noColumns?.code, 'INTERNAL');
  t.regex(noColumns!.message, /field "born": generalize needs the source column's type/);
  // Without generalize fields, no columns are needed.
  t.notThrows(() => compileFieldMasks(fields.slice(0, 3), { hash }));
});

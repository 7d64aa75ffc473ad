import test from 'ava';
import type { ResourceConfig } from '../../schemas/index.ts';
import type { ClassificationRecord } from '../ports/index.ts';
import { catalogResource, effectiveFields, type DescribedTable } from './index.ts';

const RESOURCE: ResourceConfig = {
  id: 'people',
  title: 'People',
  provider: 'civil',
  table: 'people',
  key: ['id'],
  abstract: 'Residents receiving support',
  updateCycle: 'real-time',
  fields: {
    id: { level: 'general', share: 'unconditional' },
    mobile: {
      level: 'important',
      tag: 'cn_mobile',
      share: 'conditional',
      conditions: { purposes: ['audit'] },
      required: true,
    },
    region: { level: 'general', share: 'unconditional', codeTable: { '110101': '东城区', '110102': '西城区' } },
    gone: { level: 'general', share: 'unconditional' },
  },
};

const TABLE: DescribedTable = {
  table: 'public.people',
  estimatedRows: 1200,
  columns: [
    { name: 'id', sourceType: 'bigint', type: { kind: 'int64' }, nullable: false, primaryKey: true },
    {
      name: 'mobile',
      sourceType: 'character varying(11)',
      type: { kind: 'utf8' },
      nullable: true,
      primaryKey: false,
      length: 11,
    },
    {
      name: 'region',
      sourceType: 'character(6)',
      type: { kind: 'utf8' },
      nullable: true,
      primaryKey: false,
      length: 6,
    },
    {
      name: 'email',
      sourceType: 'text',
      type: { kind: 'utf8' },
      nullable: true,
      primaryKey: false,
      comment: 'contact',
    },
    {
      name: 'amount',
      sourceType: 'numeric(12,2)',
      type: { kind: 'decimal', precision: 12, scale: 2 },
      nullable: true,
      primaryKey: false,
      precision: 12,
      scale: 2,
    },
  ],
};

const AT = '2026-12-04T08:00:00.000000Z';

test('columns in table order with types from the database; unlisted columns unclassified; a listed column the table lacks is missing', (t) => {
  const c = catalogResource(
    RESOURCE,
    { id: 'civil', title: 'Civil Affairs', connector: { kind: 'postgres', url: 'x' } },
    TABLE,
    [],
  );
  t.is(c.table, 'public.people');
  t.is(c.providerTitle, 'Civil Affairs');
  t.is(c.estimatedRows, 1200);
  t.deepEqual(
    c.fields.map((f) => [f.name, f.status, f.type ?? null]),
    [
      ['id', 'classified', 'int64'],
      ['mobile', 'classified', 'utf8'],
      ['region', 'classified', 'utf8'],
      ['email', 'unclassified', 'utf8'],
      ['amount', 'unclassified', 'decimal(12,2)'],
      ['gone', 'missing', null],
    ],
  );
  const mobile = c.fields[1]!;
  t.is(mobile.length, 11);
  t.is(mobile.sourceType, 'character varying(11)');
  t.deepEqual(mobile.classification, {
    level: 'important',
    tag: 'cn_mobile',
    share: 'conditional',
    conditions: { purposes: ['audit'] },
  });
  t.is(mobile.classifiedBy, 'config');
  t.true(mobile.required);
  t.deepEqual(c.fields[2]!.codeTable, { '110101': '东城区', '110102': '西城区' });
  t.is(c.fields[4]!.precision, 12);
  t.is(c.fields[4]!.classification, undefined);
  t.true(c.fields[0]!.key);
});

test('a runtime classification classifies a column the config does not list, and overrides one it does (both shown)', (t) => {
  const overrides: ClassificationRecord[] = [
    { resource: 'people', column: 'email', level: 'important', tag: 'email', share: 'conditional', by: 'dba', at: AT },
    { resource: 'people', column: 'mobile', level: 'general', share: 'none', at: AT },
    { resource: 'other', column: 'amount', level: 'general', share: 'unconditional', at: AT },
  ];
  const c = catalogResource(RESOURCE, undefined, TABLE, overrides);
  const byName = new Map(c.fields.map((f) => [f.name, f]));
  t.deepEqual(byName.get('email')!.classification, { level: 'important', tag: 'email', share: 'conditional' });
  t.is(byName.get('email')!.classifiedBy, 'runtime');
  t.deepEqual(byName.get('email')!.runtime, { by: 'dba', at: AT });
  t.is(byName.get('email')!.configClassification, undefined);
  const mobile = byName.get('mobile')!;
  t.is(mobile.classifiedBy, 'runtime');
  t.deepEqual(mobile.classification, { level: 'general', share: 'none', conditions: { purposes: ['audit'] } });
  t.is(mobile.configClassification?.share, 'conditional');
  t.is(byName.get('amount')!.status, 'unclassified'); // the override was for another resource
  // effectiveFields keeps what only the config says (conditions, required) and drops the config's tag
  t.deepEqual(effectiveFields(RESOURCE, overrides).mobile, {
    level: 'general',
    share: 'none',
    conditions: { purposes: ['audit'] },
    required: true,
  });
  t.deepEqual(RESOURCE.fields.mobile!.share, 'conditional', 'the config is not mutated');
});

test('without a description the config fields are listed and the error is shown', (t) => {
  const c = catalogResource(RESOURCE, undefined, new Error('connection refused'), []);
  t.deepEqual(c.described, { ok: false, error: 'connection refused' });
  t.deepEqual(
    c.fields.map((f) => [f.name, f.status]),
    [
      ['id', 'classified'],
      ['mobile', 'classified'],
      ['region', 'classified'],
      ['gone', 'classified'],
    ],
  );
  t.is(c.estimatedRows, undefined);
});

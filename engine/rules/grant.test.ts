import test from 'ava';
import type { ResourceConfig, SubscriberConfig, SubscriptionConfig } from '../../schemas/index.ts';
import { DEFAULT_MASKING, type MaskingMatrix, type Strategy } from '../masking/index.ts';
import { decideGrant, type GrantProblemReason } from './grant.ts';

const RESOURCE: ResourceConfig = {
  id: 'people',
  provider: 'civil',
  table: 'public.people',
  key: ['id'],
  fields: {
    id: { level: 'general', share: 'unconditional' },
    name: { level: 'important', tag: 'person_name', share: 'unconditional' },
    id_card: { level: 'important', tag: 'cn_id_card', share: 'conditional' },
    salary: { level: 'core', share: 'unconditional' },
    note: { level: 'general', share: 'none' },
    city: { level: 'general', share: 'conditional' },
  },
};

function sub(fields: string[], masks?: Record<string, Strategy>): SubscriptionConfig {
  return {
    id: 'audit-people',
    subscriber: 'audit',
    resource: 'people',
    fields,
    ...(masks ? { masks } : {}),
    purpose: 'audit',
    businessSystem: 'audit-sys',
    delivery: { mode: 'batch', cadence: '0 * * * *', dir: 'out' },
  };
}

const who = (clearance: number): SubscriberConfig => ({ id: 'audit', clearance });

type Case = {
  title: string;
  clearance: number;
  fields: string[];
  masks?: Record<string, Strategy>;
  matrix?: MaskingMatrix;
  granted: [string, Strategy][];
  problems: [string, number, GrantProblemReason][];
};

const CASES: Case[] = [
  {
    title: 'general fields are clear; important follows the clearance thresholds',
    clearance: 3,
    fields: ['id', 'name'],
    granted: [
      ['id', 'clear'],
      ['name', 'partial'],
    ],
    problems: [],
  },
  {
    title: 'clearance 4 sees important data clear; clearance 0..2 gets hash',
    clearance: 4,
    fields: ['name'],
    granted: [['name', 'clear']],
    problems: [],
  },
  { title: 'clearance 2 → hash', clearance: 2, fields: ['name'], granted: [['name', 'hash']], problems: [] },
  { title: 'clearance 0 → hash', clearance: 0, fields: ['name'], granted: [['name', 'hash']], problems: [] },
  {
    title: 'an unclassified field is refused',
    clearance: 4,
    fields: ['id', 'address'],
    granted: [['id', 'clear']],
    problems: [['address', 1, 'unclassified']],
  },
  {
    title: 'inherited object keys are not classifications',
    clearance: 4,
    fields: ['toString', '__proto__', 'constructor'],
    granted: [],
    problems: [
      ['toString', 0, 'unclassified'],
      ['__proto__', 1, 'unclassified'],
      ['constructor', 2, 'unclassified'],
    ],
  },
  {
    title: 'share: none is refused even at the highest clearance',
    clearance: 4,
    fields: ['note', 'id'],
    granted: [['id', 'clear']],
    problems: [['note', 0, 'share-none']],
  },
  {
    title: 'core data resolves to deny at every clearance',
    clearance: 4,
    fields: ['salary'],
    granted: [],
    problems: [['salary', 0, 'deny']],
  },
  {
    title: 'deny by clearance under a custom matrix',
    clearance: 2,
    fields: ['id', 'name'],
    matrix: {
      core: { default: 'deny' },
      important: { '3': 'partial', default: 'deny' },
      general: { default: 'clear' },
    },
    granted: [['id', 'clear']],
    problems: [['name', 1, 'deny']],
  },
  {
    title: 'the same custom matrix grants at the threshold',
    clearance: 3,
    fields: ['name'],
    matrix: {
      core: { default: 'deny' },
      important: { '3': 'partial', default: 'deny' },
      general: { default: 'clear' },
    },
    granted: [['name', 'partial']],
    problems: [],
  },
  {
    title: 'a stricter override is applied',
    clearance: 3,
    fields: ['id', 'name', 'id_card'],
    masks: { id: 'hash', name: 'null', id_card: 'partial' },
    granted: [
      ['id', 'hash'],
      ['name', 'null'],
      ['id_card', 'partial'],
    ],
    problems: [],
  },
  {
    title: 'a looser override is refused',
    clearance: 0,
    fields: ['id', 'name'],
    masks: { name: 'clear' },
    granted: [['id', 'clear']],
    problems: [['name', 1, 'override-looser']],
  },
  {
    title: 'an override to deny removes the field with a deny problem',
    clearance: 4,
    fields: ['id', 'name'],
    masks: { name: 'deny' },
    granted: [['id', 'clear']],
    problems: [['name', 1, 'deny']],
  },
  {
    title: 'an override cannot loosen core data',
    clearance: 4,
    fields: ['salary'],
    masks: { salary: 'hash' },
    granted: [],
    problems: [['salary', 0, 'override-looser']],
  },
  {
    title: 'conditional fields without conditions are granted',
    clearance: 3,
    fields: ['city', 'id_card'],
    granted: [
      ['city', 'clear'],
      ['id_card', 'partial'],
    ],
    problems: [],
  },
];

for (const c of CASES) {
  test(`decideGrant: ${c.title}`, (t) => {
    const g = decideGrant(RESOURCE, who(c.clearance), sub(c.fields, c.masks), c.matrix ?? DEFAULT_MASKING);
    t.deepEqual(
      g.fields.map((f) => [f.name, f.strategy]),
      c.granted,
    );
    t.deepEqual(
      g.problems.map((p) => [p.field, p.index, p.reason]),
      c.problems,
    );
    for (const p of g.problems) t.true(p.message.includes(p.field), p.message);
  });
}

test('granted fields keep the subscription order, level and tag', (t) => {
  const g = decideGrant(RESOURCE, who(3), sub(['id_card', 'id', 'name']), DEFAULT_MASKING);
  t.deepEqual(g.fields, [
    { name: 'id_card', level: 'important', tag: 'cn_id_card', strategy: 'partial' },
    { name: 'id', level: 'general', strategy: 'clear' },
    { name: 'name', level: 'important', tag: 'person_name', strategy: 'partial' },
  ]);
  t.false(Object.hasOwn(g.fields[1]!, 'tag'));
});

const CONDITIONAL: ResourceConfig = {
  ...RESOURCE,
  fields: {
    ...RESOURCE.fields,
    mobile: {
      level: 'important',
      tag: 'cn_mobile',
      share: 'conditional',
      conditions: { purposes: ['audit'], validUntil: '2026-07-01T00:00:00Z', maxDeliveries: 2 },
    },
    old: { level: 'general', share: 'conditional', conditions: { validUntil: '2000-01-01T00:00:00Z' } },
  },
};

test('decideGrant applies conditions at the given instant, with the usage and tag rows of its context', (t) => {
  const s = sub(['mobile', 'id']);
  const decided = (at: string, context = {}) => {
    const g = decideGrant(CONDITIONAL, who(4), s, DEFAULT_MASKING, at, context);
    return [g.fields.map((f) => [f.name, f.strategy]), g.problems.map((p) => [p.field, p.index, p.reason])];
  };
  t.deepEqual(decided('2026-06-30T23:59:59.999999Z'), [
    [
      ['mobile', 'clear'],
      ['id', 'clear'],
    ],
    [],
  ]);
  t.deepEqual(decided('2026-07-01T00:00:00Z'), [[['id', 'clear']], [['mobile', 0, 'expired']]]);
  t.deepEqual(decided('2026-03-01T00:00:00Z', { usage: new Map([['mobile', 2]]) }), [
    [['id', 'clear']],
    [['mobile', 0, 'max-deliveries']],
  ]);
  t.deepEqual(decided('2026-03-01T00:00:00Z', { tags: { cn_mobile: { default: 'hash' } } }), [
    [
      ['mobile', 'hash'],
      ['id', 'clear'],
    ],
    [],
  ]);
});

test('decideGrant decides for now when no instant is given', (t) => {
  const g = decideGrant(CONDITIONAL, who(4), sub(['old', 'id']), DEFAULT_MASKING);
  t.deepEqual(
    g.problems.map((p) => [p.field, p.reason]),
    [['old', 'expired']],
  );
});

import test from 'ava';
import { isSluiceError } from '../errors.ts';
import { DEFAULT_MASKING, STRICTNESS } from '../masking/index.ts';
import {
  DENIAL_REASONS,
  decide,
  isGranted,
  summarizeDecision,
  type Application,
  type FieldPolicy,
  type MaskingPolicy,
} from './decision.ts';
import { isInstant } from './decision-time.ts';
import { DECISION_EXAMPLES } from '../testing/decision-examples.ts';

const FILE = DECISION_EXAMPLES;
const EXAMPLES = FILE.groups.flatMap((group, g) => group.examples.map((example, e) => ({ group, g, example, e })));

for (const { group, g, example, e } of EXAMPLES) {
  test(`example ${g}.${e}: ${example.name}`, (t) => {
    const usage = example.usage ? new Map(Object.entries(example.usage)) : undefined;
    const d = decide(example.application, group.fields, group.policy, usage);
    t.deepEqual(
      d.granted.map((f) => ({ name: f.name, strategy: f.strategy })),
      example.expected.granted,
    );
    t.deepEqual(
      d.denied.map((f) => ({ field: f.field, index: f.index, reason: f.reason })),
      example.expected.denied,
    );
    for (const f of d.granted) {
      const policy = group.fields[f.name]!;
      t.is(f.level, policy.level);
      t.is(f.tag, policy.tag);
    }
    for (const f of d.denied) t.true(f.message.includes(`"${f.field}"`), f.message);
  });
}

test('the table covers every reason, lists them in rule order and has at least 40 examples', (t) => {
  t.deepEqual(FILE.reasons, [...DENIAL_REASONS]);
  t.deepEqual(FILE.strictness, [...STRICTNESS]);
  t.true(EXAMPLES.length >= 40, String(EXAMPLES.length));
  const seen = new Set(EXAMPLES.flatMap(({ example }) => example.expected.denied.map((d) => d.reason)));
  t.deepEqual(
    DENIAL_REASONS.filter((r) => !seen.has(r)),
    [],
  );
  const names = EXAMPLES.map(({ example }) => example.name);
  t.is(new Set(names).size, names.length, 'example names are unique');
});

test('the table is plain JSON: integers only, instants as RFC 3339 strings', (t) => {
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'number') t.true(Number.isSafeInteger(v), path);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    else t.true(typeof v === 'string' || typeof v === 'boolean', path);
  };
  walk(FILE, '$');
  for (const { group, example } of EXAMPLES) {
    t.true(isInstant(example.application.at), example.name);
    for (const f of Object.values(group.fields)) {
      for (const k of ['validFrom', 'validUntil'] as const) {
        const s = f.conditions?.[k];
        if (s !== undefined) t.true(isInstant(s), s);
      }
    }
  }
});

const APP: Application = {
  subscription: 'relief-people',
  subscriber: { id: 'stats', clearance: 2 },
  resource: 'people',
  fields: ['mobile'],
  purpose: 'statistics',
  businessSystem: 'stats-sys',
  at: '2026-03-01T00:00:00Z',
};
const POLICY: MaskingPolicy = { matrix: DEFAULT_MASKING };
const COND = (conditions: FieldPolicy['conditions']): Record<string, FieldPolicy> => ({
  mobile: { level: 'general', tag: 'cn_mobile', share: 'conditional', conditions },
});

test('messages name the field and the condition, quoting policy only', (t) => {
  const msg = (fields: Record<string, FieldPolicy>, app: Partial<Application> = {}, usage?: Map<string, number>) =>
    decide({ ...APP, ...app }, fields, POLICY, usage).denied[0]?.message;
  t.is(
    msg(COND({ purposes: ['relief-audit', 'fraud-check'] })),
    'field "mobile" is granted only for purposes relief-audit, fraud-check (this subscription: statistics)',
  );
  t.is(msg(COND({ minClearance: 3 })), 'field "mobile" requires clearance 3 or more (subscriber "stats" has 2)');
  t.is(
    msg(COND({ maxDeliveries: 2 }), {}, new Map([['mobile', 2]])),
    'field "mobile" may be delivered at most 2 times to subscription "relief-people" (delivered 2)',
  );
  t.is(
    msg(COND({ validUntil: '2026-01-01T00:00:00Z' })),
    'field "mobile" was granted only until 2026-01-01T00:00:00Z, exclusive (decision for 2026-03-01T00:00:00Z)',
  );
  t.regex(
    msg(COND({ organisations: ['audit'] }))!,
    /subscribers or organisations audit \(subscriber "stats", no organisation\)/,
  );
  t.regex(
    msg(COND({ adminLevels: ['national'] }))!,
    /administrative levels national \(subscriber "stats" has no administrative level\)/,
  );
});

test('a malformed instant, clearance or usage count is a usage error', (t) => {
  const fields = COND({ maxDeliveries: 3 });
  for (const at of ['2026-03-01', '2026-03-01T00:00:00', 'yesterday']) {
    t.true(
      isSluiceError(
        t.throws(() => decide({ ...APP, at }, fields, POLICY)),
        'USAGE',
      ),
      at,
    );
  }
  for (const clearance of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    const app = { ...APP, subscriber: { id: 'stats', clearance } };
    t.true(
      isSluiceError(
        t.throws(() => decide(app, fields, POLICY)),
        'USAGE',
      ),
      String(clearance),
    );
  }
  for (const n of [-1, 0.5, Number.NaN]) {
    t.true(
      isSluiceError(
        t.throws(() => decide(APP, fields, POLICY, new Map([['other', n]]))),
        'USAGE',
      ),
      String(n),
    );
  }
});

test('a malformed validity instant is a config error when a rule reaches it, and ignored otherwise', (t) => {
  const bad = COND({ validFrom: '2026-01-01T00:00:00+0800' });
  t.true(
    isSluiceError(
      t.throws(() => decide(APP, bad, POLICY)),
      'CONFIG_INVALID',
    ),
  );
  t.deepEqual(
    decide({ ...APP, fields: ['id'] }, bad, POLICY).denied.map((d) => d.reason),
    ['unclassified'],
  );
  const earlier = COND({ purposes: ['audit'], validUntil: 'soon' });
  t.deepEqual(
    decide(APP, earlier, POLICY).denied.map((d) => d.reason),
    ['purpose'],
  );
  const unconditional = { mobile: { ...bad.mobile!, share: 'unconditional' as const } };
  t.deepEqual(
    decide(APP, unconditional, POLICY).granted.map((g) => g.strategy),
    ['clear'],
  );
});

test('isGranted and summarizeDecision', (t) => {
  const fields: Record<string, FieldPolicy> = {
    id: { level: 'general', share: 'unconditional' },
    note: { level: 'general', share: 'none' },
  };
  const d = decide({ ...APP, fields: ['id', 'note', 'x'] }, fields, POLICY);
  t.true(isGranted(d, 'id'));
  t.false(isGranted(d, 'note'));
  t.false(isGranted(d, 'x'));
  t.is(summarizeDecision(d), 'granted id:clear; denied note (share-none), x (unclassified)');
  t.is(summarizeDecision({ granted: [], denied: [] }), 'granted nothing; denied nothing');
});

test('the reasons are exactly those of the rules, in order', (t) => {
  t.deepEqual(
    [...DENIAL_REASONS],
    [
      'duplicate',
      'unclassified',
      'share-none',
      'organisation',
      'admin-level',
      'purpose',
      'business-system',
      'not-yet-valid',
      'expired',
      'clearance',
      'max-deliveries',
      'override-looser',
      'deny',
    ],
  );
  t.true(Object.isFrozen(DENIAL_REASONS));
});

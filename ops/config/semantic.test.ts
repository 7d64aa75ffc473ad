/**
 * loadConfig in-process: the exact issues of each broken fixture (test/validate/broken), and rules that the CLI test
 * does not reach — run mode, structural errors next to reference errors, paths of numeric-looking keys, secrets.
 */
import type { BatchDeliveryConfig } from '../../schemas/index.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { parse, stringify } from 'yaml';
import { formatPath, type ConfigIssue } from './issues.ts';
import { loadConfig } from './load.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples/relief.yaml');
const BROKEN = join(ROOT, 'test/validate/broken');
const TMP = mkdtempSync(join(tmpdir(), 'sluice-config-test-'));
const NO_ENV = {};
test.after.always(() => rmSync(TMP, { recursive: true, force: true }));

const errors = (issues: ConfigIssue[]) => issues.filter((i) => i.severity === 'error');
const paths = (issues: ConfigIssue[]) => errors(issues).map((i) => formatPath(i.path));

/** The example as loose data: a test breaks it on purpose, in ways its type would refuse. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

/** Writes examples/relief.yaml changed by `edit` to a temporary file and loads it. */
function loadVariant(name: string, edit: (c: Loose) => void, env: NodeJS.ProcessEnv = NO_ENV) {
  const cfg = parse(readFileSync(EXAMPLE, 'utf8')) as Loose;
  edit(cfg);
  const file = join(TMP, `${name}.yaml`);
  writeFileSync(file, stringify(cfg));
  return loadConfig(file, { mode: 'validate', env });
}

/** Each single-problem fixture breaks exactly one thing: these are all its errors. */
const FIXTURE_ERRORS: Record<string, string[]> = {
  'unknown-key': ['subscribers[0].clearence'],
  'bad-id': ['subscriptions[0].id'],
  'long-id': ['subscriptions[0].id'],
  'duplicate-id': ['subscribers[1].id'],
  'unknown-provider': ['resources[0].provider'],
  'unknown-resource': ['subscriptions[0].resource'],
  'unknown-subscriber': ['subscriptions[0].subscriber'],
  'unclassified-field': ['subscriptions[0].fields[3]'],
  'share-none': ['subscriptions[0].fields[5]'],
  deny: ['subscriptions[0].fields[1]', 'subscriptions[0].fields[2]'],
  'bad-cron': ['subscriptions[0].delivery.cadence'],
  'duplicate-key': ['(root)'],
  'unknown-alias': ['(root)'],
  'bad-cron-fields': ['subscriptions[0].delivery.cadence'],
  'bad-timezone': ['subscriptions[0].delivery.timezone'],
  'bad-table': ['resources[0].table'],
  'bad-column': ['resources[0].fields.Mobile-No'],
  'underscore-column': ['resources[0].fields._mobile'],
  'duplicate-table': ['resources[1].table'],
  'bad-port': ['api.listen'],
};

for (const [name, expected] of Object.entries(FIXTURE_ERRORS)) {
  test(`fixture ${name}.yaml: exactly ${expected.join(', ')}`, (t) => {
    const loaded = loadConfig(join(BROKEN, `${name}.yaml`), { mode: 'validate', env: NO_ENV });
    t.false(loaded.ok);
    t.deepEqual(paths(loaded.issues), expected);
    for (const e of errors(loaded.issues)) t.true((e.line ?? 0) > 0);
  });
}

test('the example is valid; its only issue is the unset PROVIDER_URL warning', (t) => {
  const loaded = loadConfig(EXAMPLE, { mode: 'validate', env: NO_ENV });
  t.true(loaded.ok);
  t.deepEqual(
    loaded.issues.map((i) => [i.severity, formatPath(i.path), i.message]),
    [['warning', 'providers[0].connector.url', 'environment variable PROVIDER_URL is not set']],
  );
});

test('run mode: an unset env reference is an error', (t) => {
  const loaded = loadConfig(EXAMPLE, { mode: 'run', env: NO_ENV });
  t.false(loaded.ok);
  t.deepEqual(paths(loaded.issues), ['providers[0].connector.url']);
});

test('unknown keys and ids out of pattern do not hide the reference checks', (t) => {
  const loaded = loadVariant('shape-ok', (c) => {
    c.resources[0].owner = 'x';
    c.resources[0].provider = 'nobody';
    c.subscriptions[0].id = 'Audit';
    c.subscriptions[0].delivery.timezone = 'Nowhere/City';
  });
  t.deepEqual(paths(loaded.issues), [
    'resources[0].provider',
    'resources[0].owner',
    'subscriptions[0].id',
    'subscriptions[0].delivery.timezone',
  ]);
});

test('a wrong type stops the semantic checks (they rely on the types) but is itself reported', (t) => {
  const loaded = loadVariant('shape-broken', (c) => {
    c.subscribers[0].clearance = 'high';
    c.resources[0].provider = 'nobody';
  });
  t.deepEqual(
    errors(loaded.issues).map((i) => [formatPath(i.path), i.message]),
    [['subscribers[0].clearance', 'must be an integer, not a string']],
  );
});

test('an unknown key names the keys that are allowed there', (t) => {
  const loaded = loadVariant('typo', (c) => {
    c.subscriptions[0].delivery.cadense = '0 0 * * *';
  });
  const [issue] = errors(loaded.issues);
  t.is(formatPath(issue!.path), 'subscriptions[0].delivery.cadense');
  t.regex(issue!.message, /^unknown key "cadense" \(expected one of: mode, cadence, timezone,/);
});

test('masking row keys stay strings in the path ("3", not [3]) and are located on their line', (t) => {
  const loaded = loadVariant('masking', (c) => {
    c.masking.important['3'] = 'blur';
    c.masking.important['5'] = 'clear';
  });
  const issues = errors(loaded.issues);
  t.deepEqual(
    issues.map((i) => [i.path, i.message]),
    [
      [['masking', 'important', '3'], '"blur" must be one of: clear, partial, generalize, encrypt, hash, null, deny'],
      [
        ['masking', 'important', '5'],
        'unknown key "5" (expected: Clearance thresholds "0".."4" and "default" → strategy)',
      ],
    ],
  );
  t.is(formatPath(issues[0]!.path), 'masking.important["3"]');
  const text = readFileSync(join(TMP, 'masking.yaml'), 'utf8').split('\n');
  for (const i of issues) t.regex(text[i.line! - 1]!, /^\s+"?[35]"?: /);
});

test('structural messages read as sentences, not as ajv keywords', (t) => {
  const loaded = loadVariant('messages', (c) => {
    c.subscribers[0].clearance = 7;
    c.subscriptions[0].fields = ['id', 'name', 'id'];
    c.subscriptions[0].purpose = '';
    c.api.listen = 'localhost';
    c.drainTimeout = '30 seconds';
  });
  t.deepEqual(
    errors(loaded.issues)
      .map((i) => `${formatPath(i.path)}: ${i.message}`)
      .sort(),
    [
      'api.listen: "localhost" must be host:port, e.g. 127.0.0.1:7300',
      'drainTimeout: "30 seconds" must be a duration such as "500ms", "30s", "5m", "12h" or "7d"',
      'subscribers[0].clearance: 7 is out of range: must be between 0 and 4',
      // the example's name is granted for purpose relief-audit only: an empty purpose is not it
      'subscriptions[0].fields[1]: field "name" is granted only for purposes relief-audit (this subscription: )',
      'subscriptions[0].fields[2]: "id" is listed twice (also at [0])',
      'subscriptions[0].purpose: must not be empty',
    ],
  );
  for (const i of loaded.issues) t.notRegex(i.message, /must (NOT|match pattern)|must be (array|object|integer)\b/);
});

test('a mask override may not loosen the matrix, and a "deny" override makes the field ungrantable', (t) => {
  const loaded = loadVariant('masks', (c) => {
    c.subscriptions[0].masks = { name: 'clear', id_card: 'deny' };
  });
  t.deepEqual(
    errors(loaded.issues)
      .map((i) => [formatPath(i.path), i.message])
      .sort(),
    [
      [
        'subscriptions[0].fields[2]',
        'field "id_card" (important) resolves to deny (by its mask override) for subscriber "audit-office" at clearance 2',
      ],
      [
        'subscriptions[0].masks.name',
        'mask override "clear" for "name" is looser than "hash" from the matrix; overrides may only be stricter',
      ],
    ],
  );
});

test('a value from the environment is named, not shown, in every message about it', (t) => {
  const secret = 'SECRETPW';
  const loaded = loadVariant(
    'secret',
    (c) => {
      c.api.listen = 'env:LISTEN';
      c.resources[0].provider = 'env:PROVIDER';
    },
    { LISTEN: `${secret}-host`, PROVIDER: `${secret}-provider`, PROVIDER_URL: `postgres://u:${secret}@h/db` },
  );
  t.deepEqual(
    errors(loaded.issues)
      .map((i) => `${formatPath(i.path)}: ${i.message}`)
      .sort(),
    [
      'api.listen: (value of env:LISTEN) must be host:port, e.g. 127.0.0.1:7300',
      'resources[0].provider: unknown provider (value of env:PROVIDER)',
    ],
  );
  t.false(JSON.stringify(loaded.issues).includes(secret));
});

test('an unset env reference in a checked field is a warning only: its value is not known offline', (t) => {
  const loaded = loadVariant('unset', (c) => {
    c.api.listen = 'env:LISTEN';
  });
  t.true(loaded.ok);
  t.deepEqual(
    loaded.issues.map((i) => [i.severity, formatPath(i.path)]),
    [
      ['warning', 'api.listen'],
      ['warning', 'providers[0].connector.url'],
    ],
  );
});

test('YAML alias errors are issues, not crashes: unknown anchor, alias inside its own anchor', (t) => {
  for (const [name, text, message] of [
    ['alias-unknown', 'providers: *nope\n', /^YAML: Unresolved alias .*: nope$/],
    ['alias-cycle', 'providers: &p [*p]\n', /^YAML: an alias refers to a node that contains it$/],
  ] as const) {
    const file = join(TMP, `${name}.yaml`);
    writeFileSync(file, text);
    const loaded = loadConfig(file, { mode: 'validate', env: NO_ENV });
    t.false(loaded.ok);
    t.is(loaded.issues.length, 1);
    t.regex(loaded.issues[0]!.message, message);
    t.is(loaded.issues[0]!.line, 1);
  }
});

test('an anchor reused in several places is fine (a shared value is not a cycle)', (t) => {
  const file = join(TMP, 'alias-shared.yaml');
  const text = readFileSync(EXAMPLE, 'utf8')
    .replace('    delivery:\n', '    delivery: &d\n')
    .concat(
      [
        '  - id: audit-relief-2',
        '    subscriber: audit-office',
        '    resource: relief-recipients',
        '    fields: [id]',
        '    purpose: relief-audit',
        '    businessSystem: audit-analytics',
        '    delivery: *d',
        '',
      ].join('\n'),
    );
  writeFileSync(file, text);
  const loaded = loadConfig(file, { mode: 'validate', env: NO_ENV });
  t.deepEqual(errors(loaded.issues), []);
  t.is((loaded.config.subscriptions[1]?.delivery as BatchDeliveryConfig).cadence, '*/10 * * * * *');
});

test('feed delivery: its own keys, exactly one transport, a Standard Webhooks secret', (t) => {
  const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  const ok = loadVariant('feed-ok', (c) => {
    c.subscriptions[0].delivery = { mode: 'feed', webhook: { url: 'https://audit.example/hooks', secret } };
  });
  t.deepEqual(errors(ok.issues), []);
  const wrong = loadVariant('feed-wrong', (c) => {
    c.subscriptions[0].delivery = {
      mode: 'feed',
      cadence: '* * * * *',
      nats: { url: 'nats://127.0.0.1:4222' },
      webhook: { url: 'ftp://x', secret: 'letmein', batchSize: 0 },
    };
  });
  t.deepEqual(
    errors(wrong.issues).map((i) => [formatPath(i.path), i.message]),
    [
      ['subscriptions[0].delivery', 'a feed has one transport: give nats or webhook, not both'],
      [
        'subscriptions[0].delivery.cadence',
        'unknown key "cadence" (expected one of: mode, nats, webhook, maxInFlight)',
      ],
      ['subscriptions[0].delivery.webhook.url', '"ftp://x" must be an http:// or https:// URL'],
      [
        'subscriptions[0].delivery.webhook.secret',
        'must be a Standard Webhooks secret: whsec_ followed by the base64 of 24 to 64 random bytes (e.g. whsec_$(openssl rand -base64 32))',
      ],
      ['subscriptions[0].delivery.webhook.batchSize', '0 is out of range: must be between 1 and 1000'],
    ],
    'structural problems are reported against the mode given (the batch form is not tried)',
  );
  const both = loadVariant('feed-both', (c) => {
    c.subscriptions[0].delivery = {
      mode: 'feed',
      nats: { url: 'nats://127.0.0.1:4222' },
      webhook: { url: 'https://audit.example/hooks', secret: 'letmein' },
    };
  });
  t.deepEqual(
    errors(both.issues).map((i) => formatPath(i.path)),
    ['subscriptions[0].delivery', 'subscriptions[0].delivery.webhook.secret'],
  );
  const none = loadVariant('feed-none', (c) => {
    c.subscriptions[0].delivery = { mode: 'feed' };
  });
  t.deepEqual(
    errors(none.issues).map((i) => i.message),
    ['a feed needs nats or webhook'],
  );
  const mode = loadVariant('feed-mode', (c) => {
    c.subscriptions[0].delivery = { mode: 'stream', nats: { url: 'nats://x' } };
  });
  t.deepEqual(
    errors(mode.issues).map((i) => formatPath(i.path)),
    ['subscriptions[0].delivery.mode'],
  );
});

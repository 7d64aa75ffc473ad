/**
 * `sluice validate` on broken configs, through the real CLI (ops/bin/sluice.js) in a child process: each problem class
 * of the config contract is refused with its JSON path, its line and a reason, all problems at once, exit 1.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BROKEN = 'test/validate/broken';

/** Variables the fixtures reference: unset unless a test sets them, whatever the developer's shell has. */
const FIXTURE_ENV = ['PROVIDER_URL', 'SLUICE_TEST_LISTEN', 'SLUICE_TEST_TZ'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Each run starts tsx (about 2 s of CPU): run at most one per CPU so that no run nears its timeout. */
const slots = { free: Math.max(1, availableParallelism()), waiting: [] as (() => void)[] };

async function sluice(args: string[], env: Record<string, string> = {}): Promise<Run> {
  if (slots.free > 0) slots.free--;
  else await new Promise<void>((r) => slots.waiting.push(r));
  try {
    return await spawnSluice(args, env);
  } finally {
    const next = slots.waiting.shift();
    if (next) next();
    else slots.free++;
  }
}

function spawnSluice(args: string[], env: Record<string, string>): Promise<Run> {
  const base = { ...process.env };
  for (const name of FIXTURE_ENV) delete base[name];
  for (const name of Object.keys(base)) if (name.startsWith('SLUICE_TEST_')) delete base[name];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['ops/bin/sluice.js', ...args],
      { cwd: ROOT, env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(err);
        else resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}

const validate = (file: string, extra: string[] = [], env: Record<string, string> = {}) =>
  sluice(['validate', '-c', file, ...extra], env);

interface IssueLine {
  file: string;
  line?: number;
  col?: number;
  severity: 'error' | 'warning';
  path: string;
  reason: string;
}

/** `<file>[:<line>:<col>]  <severity>  <path>: <reason>` */
const ISSUE_LINE = /^(.+?)(?::(\d+):(\d+))? {2}(error|warning) {2}(\S+): (.+)$/;

function issueLines(stdout: string): IssueLine[] {
  return stdout.split('\n').flatMap((l) => {
    const m = ISSUE_LINE.exec(l);
    if (!m) return [];
    return [
      {
        file: m[1]!,
        ...(m[2] ? { line: Number(m[2]), col: Number(m[3]) } : {}),
        severity: m[4] as 'error' | 'warning',
        path: m[5]!,
        reason: m[6]!,
      },
    ];
  });
}

interface Case {
  file: string;
  code: number;
  /** The formatted JSON path of the expected issue. */
  path: string;
  reason: RegExp;
  /** Line of the expected issue in the file. */
  line: number;
  severity?: 'error' | 'warning';
}

const CASES: Case[] = [
  {
    file: 'unknown-key',
    code: 1,
    path: 'subscribers[0].clearence',
    reason: /unknown key "clearence".*clearance/,
    line: 25,
  },
  {
    file: 'bad-id',
    code: 1,
    path: 'subscriptions[0].id',
    reason: /"Audit_Relief" is not a valid id.*lowercase/,
    line: 31,
  },
  {
    file: 'long-id',
    code: 1,
    path: 'subscriptions[0].id',
    reason: /is not a valid id.*at most 40 characters/,
    line: 31,
  },
  {
    file: 'duplicate-id',
    code: 1,
    path: 'subscribers[1].id',
    reason: /duplicate subscriber id "audit-office"/,
    line: 26,
  },
  {
    file: 'unknown-provider',
    code: 1,
    path: 'resources[0].provider',
    reason: /unknown provider "civil-affair"/,
    line: 13,
  },
  {
    file: 'unknown-resource',
    code: 1,
    path: 'subscriptions[0].resource',
    reason: /unknown resource "relief-recipient"/,
    line: 33,
  },
  {
    file: 'unknown-subscriber',
    code: 1,
    path: 'subscriptions[0].subscriber',
    reason: /unknown subscriber "audit-ofice"/,
    line: 32,
  },
  {
    file: 'unclassified-field',
    code: 1,
    path: 'subscriptions[0].fields[3]',
    reason: /"mobile_phone" is not classified in resource "relief-recipients"/,
    line: 34,
  },
  {
    file: 'share-none',
    code: 1,
    path: 'subscriptions[0].fields[5]',
    reason: /"diagnosis" .*not shareable \(share: none\)/,
    line: 34,
  },
  {
    file: 'deny',
    code: 1,
    path: 'subscriptions[0].fields[1]',
    reason: /"name" \(important\) resolves to deny for subscriber "audit-office" at clearance 2/,
    line: 34,
  },
  {
    file: 'bad-cron',
    code: 1,
    path: 'subscriptions[0].delivery.cadence',
    reason: /bad cron expression "61 \* \* \* \*" \("61" is not a valid minute \(0-59\)\)/,
    line: 38,
  },
  {
    file: 'bad-cron-fields',
    code: 1,
    path: 'subscriptions[0].delivery.cadence',
    reason: /bad cron expression .*expected 5 or 6 fields but got 4/,
    line: 38,
  },
  {
    file: 'bad-timezone',
    code: 1,
    path: 'subscriptions[0].delivery.timezone',
    reason: /unknown time zone "Asia\/Shangai"/,
    line: 41,
  },
  {
    file: 'bad-table',
    code: 1,
    path: 'resources[0].table',
    reason: /table "public\.relief_recipients;drop" is not a plain identifier/,
    line: 14,
  },
  {
    file: 'bad-column',
    code: 1,
    path: 'resources[0].fields.Mobile-No',
    reason: /column "Mobile-No" is not a plain identifier/,
    line: 20,
  },
  {
    file: 'underscore-column',
    code: 1,
    path: 'resources[0].fields._mobile',
    reason: /column "_mobile" starts with "_"/,
    line: 20,
  },
  { file: 'duplicate-key', code: 1, path: '(root)', reason: /^YAML: Map keys must be unique/, line: 16 },
  {
    file: 'unknown-alias',
    code: 1,
    path: '(root)',
    reason: /^YAML: Unresolved alias .*: batch-delivery/,
    line: 37,
  },
  // Unset env references in checked fields: only warnings offline, the value is not known.
  {
    file: 'secret-env',
    code: 0,
    path: 'api.listen',
    reason: /environment variable SLUICE_TEST_LISTEN is not set/,
    line: 5,
    severity: 'warning',
  },
];

for (const c of CASES) {
  test(`${c.file}.yaml: exit ${c.code}, ${c.path}: ${String(c.reason)}`, async (t) => {
    const file = `${BROKEN}/${c.file}.yaml`;
    const run = await validate(file);
    t.is(run.code, c.code, run.stdout + run.stderr);
    const lines = issueLines(run.stdout);
    const hit = lines.find(
      (l) => l.severity === (c.severity ?? 'error') && l.path === c.path && c.reason.test(l.reason),
    );
    t.truthy(hit, `no ${c.severity ?? 'error'} line for ${c.path} matching ${String(c.reason)} in:\n${run.stdout}`);
    t.is(hit?.file, file);
    t.is(hit?.line, c.line);
    const errors = lines.filter((l) => l.severity === 'error');
    if (c.code === 0) {
      t.is(errors.length, 0);
      t.regex(run.stdout, /: valid \(\d+ warnings?\)\n$/);
    } else {
      t.true(errors.length >= 1);
      for (const e of errors) t.true((e.line ?? 0) >= 1, `an error without a line: ${JSON.stringify(e)}`);
      t.regex(run.stdout, new RegExp(`: ${errors.length} errors?(, \\d+ warnings?)?\\n$`));
    }
  });
}

test('a YAML syntax error exits 1 with its line, and no stack trace', async (t) => {
  // Written here, not kept in broken/: `prettier --check .` would fail on a committed file that is not YAML.
  const dir = mkdtempSync(join(tmpdir(), 'sluice-validate-'));
  const file = join(dir, 'syntax-error.yaml');
  const text = readFileSync(join(ROOT, 'examples/relief.yaml'), 'utf8');
  const broken = text.replace('bus: { kind: postgres }', 'bus: { kind: postgres');
  t.not(broken, text);
  writeFileSync(file, broken);
  const run = await validate(file).finally(() => rmSync(dir, { recursive: true, force: true }));
  t.is(run.code, 1, run.stdout + run.stderr);
  t.is(run.stderr, '');
  const [issue, ...more] = issueLines(run.stdout);
  t.is(more.length, 0, run.stdout);
  t.like(issue, { file, severity: 'error', path: '(root)', line: 5 });
  t.regex(issue!.reason, /^YAML: Flow map .* end with a \}$/);
  t.regex(run.stdout, /: 1 error\n$/);
});

test('a single-problem file reports that one problem only', async (t) => {
  const run = await validate(`${BROKEN}/unknown-provider.yaml`);
  const errors = issueLines(run.stdout).filter((l) => l.severity === 'error');
  t.deepEqual(
    errors.map((e) => e.path),
    ['resources[0].provider'],
  );
});

const MULTI: [path: string, reason: RegExp][] = [
  ['resources[1].id', /"Housing_Subsidy" is not a valid id/],
  ['resources[1].provider', /unknown provider "housing-bureau"/],
  ['resources[1].table', /is not a plain identifier/],
  ['resources[1].fields._op', /starts with "_"/],
  ['subscribers[1].id', /duplicate subscriber id "audit-office"/],
  ['subscriptions[0].fields[2]', /"phone" is not classified/],
  ['subscriptions[0].fields[4]', /"diagnosis" .*share: none/],
  ['subscriptions[0].owner', /unknown key "owner"/],
  ['subscriptions[0].delivery.cadence', /"25" is not a valid hour \(0-23\)/],
  ['subscriptions[0].delivery.timezone', /unknown time zone "Mars\/Olympus"/],
  ['subscriptions[1].subscriber', /unknown subscriber "tax-bureau"/],
  ['subscriptions[1].resource', /unknown resource "housing"/],
];

test('multi.yaml: every problem is reported in one run, structural and cross-reference alike', async (t) => {
  const run = await validate(`${BROKEN}/multi.yaml`);
  t.is(run.code, 1);
  const errors = issueLines(run.stdout).filter((l) => l.severity === 'error');
  for (const [path, reason] of MULTI) {
    t.true(
      errors.some((e) => e.path === path && reason.test(e.reason)),
      `missing ${path}: ${String(reason)}\n${run.stdout}`,
    );
  }
  t.is(errors.length, MULTI.length, run.stdout);
  t.regex(run.stdout, new RegExp(`multi\\.yaml: ${MULTI.length} errors, 1 warning\\n$`));
  // Sorted by line, so a reader can walk the file top to bottom.
  const lineNos = errors.map((e) => e.line ?? 0);
  t.deepEqual(
    lineNos,
    [...lineNos].sort((a, b) => a - b),
  );
});

test('--json: parses, lists every issue with its path segments and line', async (t) => {
  const run = await validate(`${BROKEN}/multi.yaml`, ['--json']);
  t.is(run.code, 1);
  const out = JSON.parse(run.stdout) as {
    file: string;
    ok: boolean;
    issues: { severity: string; path: (string | number)[]; message: string; line?: number; col?: number }[];
  };
  t.is(out.ok, false);
  t.true(out.file.endsWith('test/validate/broken/multi.yaml'));
  const errors = out.issues.filter((i) => i.severity === 'error');
  t.is(errors.length, MULTI.length);
  for (const i of out.issues) {
    t.true(Number.isInteger(i.line) && i.line! >= 1, JSON.stringify(i));
    t.true(Number.isInteger(i.col) && i.col! >= 1, JSON.stringify(i));
  }
  const field = out.issues.find((i) => /"phone" is not classified/.test(i.message));
  t.deepEqual(field?.path, ['subscriptions', 0, 'fields', 2]);
  t.is(field?.line, 41);
  t.deepEqual(out.issues.find((i) => i.severity === 'warning')?.path, ['providers', 0, 'connector', 'url']);
});

test('--json on a valid config: ok, warnings only', async (t) => {
  const run = await validate('examples/relief.yaml', ['--json']);
  t.is(run.code, 0);
  const out = JSON.parse(run.stdout) as { ok: boolean; issues: { severity: string; message: string }[] };
  t.true(out.ok);
  t.deepEqual(
    out.issues.map((i) => [i.severity, i.message]),
    [['warning', 'environment variable PROVIDER_URL is not set']],
  );
});

test('the valid example exits 0; with PROVIDER_URL set there is nothing to say', async (t) => {
  const unset = await validate('examples/relief.yaml');
  t.is(unset.code, 0, unset.stdout);
  t.regex(unset.stdout, /warning {2}providers\[0\]\.connector\.url: environment variable PROVIDER_URL is not set/);
  t.regex(unset.stdout, /examples\/relief\.yaml: valid \(1 warning\)\n$/);
  const set = await validate('examples/relief.yaml', [], { PROVIDER_URL: 'postgres://u:pw@h/db' });
  t.is(set.code, 0);
  t.is(set.stdout, 'examples/relief.yaml: valid\n');
});

test('a valid config with unset env references exits 0 with warnings', async (t) => {
  const run = await validate('test/validate/ok/env-unset.yaml');
  t.is(run.code, 0, run.stdout);
  const lines = issueLines(run.stdout);
  t.deepEqual(
    lines.map((l) => [l.severity, l.path, l.line]),
    [
      ['warning', 'state.url', 4],
      ['warning', 'providers[0].connector.url', 10],
    ],
  );
  t.regex(run.stdout, /valid \(2 warnings\)\n$/);
});

test('a missing file exits 1 with "file not found"', async (t) => {
  const run = await validate('test/validate/broken/does-not-exist.yaml');
  t.is(run.code, 1);
  t.regex(run.stdout, /^test\/validate\/broken\/does-not-exist\.yaml {2}error {2}\(root\): file not found$/m);
});

test('usage errors exit 2', async (t) => {
  const unknown = await validate('examples/relief.yaml', ['--no-such-option']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown option '--no-such-option'/);
  t.is(unknown.stdout, '');
  const missing = await sluice(['validate', '-c']);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /argument missing/);
});

const SECRET = 'SECRETPW';

test('values from the environment never appear in the output, even where they are wrong', async (t) => {
  const env = {
    PROVIDER_URL: `postgres://u:${SECRET}@h/db`,
    SLUICE_TEST_LISTEN: `${SECRET}-listen`,
    SLUICE_TEST_TZ: `Europe/${SECRET}`,
  };
  const runs = await Promise.all(
    ['examples/relief.yaml', `${BROKEN}/multi.yaml`, `${BROKEN}/secret-env.yaml`].flatMap((f) => [
      validate(f, [], env),
      validate(f, ['--json'], env),
    ]),
  );
  for (const r of runs) {
    t.false(r.stdout.includes(SECRET), r.stdout);
    t.false(r.stderr.includes(SECRET), r.stderr);
  }
  // secret-env.yaml: the two wrong values are still refused, naming the variable instead of the value.
  const text = runs[4]!;
  t.is(text.code, 1, text.stdout);
  const errors = issueLines(text.stdout).filter((l) => l.severity === 'error');
  t.deepEqual(
    errors.map((e) => [e.path, e.reason]),
    [
      ['api.listen', '(value of env:SLUICE_TEST_LISTEN) must be host:port, e.g. 127.0.0.1:7300'],
      [
        'subscriptions[0].delivery.timezone',
        'unknown time zone (value of env:SLUICE_TEST_TZ) (use an IANA name such as Asia/Shanghai)',
      ],
    ],
  );
});

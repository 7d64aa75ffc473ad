import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, visit, type Alias, type Document } from 'yaml';
import type { Config } from '../../schemas/index.ts';
import { type ConfigIssue } from './issues.ts';
import { schemaCheck } from './schema-check.ts';
import { semanticIssues } from './semantic.ts';

export const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

export interface LoadedConfig {
  file: string;
  /** The config with `env:` references resolved and relative paths made absolute; valid only when `ok`. */
  config: Config;
  issues: ConfigIssue[];
  ok: boolean;
  /** Paths (formatted) whose value came from the environment: never logged. */
  secretPaths: Set<string>;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** `validate` (offline): an unset env reference is a warning. `run`: it is an error. */
  mode: 'validate' | 'run';
}

/**
 * Reads, parses and validates a config file, reporting every problem at once with its JSON path and line. Nothing
 * but the file is read (and the environment, for `env:NAME`).
 */
export function loadConfig(file: string, opts: LoadOptions): LoadedConfig {
  const abs = resolve(file);
  const env = opts.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const secretPaths = new Set<string>();
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    issues.push({
      severity: 'error',
      path: [],
      message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code})`,
    });
    return { file: abs, config: {} as Config, issues, ok: false, secretPaths };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  for (const e of doc.errors) {
    // With prettyErrors off, `linePos` is not filled in: compute it from the offset.
    const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
    issues.push({
      severity: 'error',
      path: [],
      message: `YAML: ${e.message.split('\n')[0]}`,
      ...(pos ? { line: pos.line, col: pos.col } : {}),
    });
  }
  if (doc.errors.length > 0) return { file: abs, config: {} as Config, issues, ok: false, secretPaths };

  // Aliases are resolved here: an unknown anchor, an alias bomb or an alias inside its own anchor is a YAML error too.
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
    if (isCyclic(raw)) throw new Error('an alias refers to a node that contains it');
  } catch (e) {
    const alias = firstAlias(doc);
    const pos = alias?.range ? lines.linePos(alias.range[0]) : undefined;
    issues.push({
      severity: 'error',
      path: [],
      message: `YAML: ${(e as Error).message}`,
      ...(pos ? { line: pos.line, col: pos.col } : {}),
    });
    return { file: abs, config: {} as Config, issues, ok: false, secretPaths };
  }
  const unset = new Set<string>();
  const resolved = resolveEnv(
    raw,
    [],
    env,
    (path, name) => {
      unset.add(path.join('.'));
      issues.push({
        severity: opts.mode === 'validate' ? 'warning' : 'error',
        path,
        message: `environment variable ${name} is not set`,
      });
    },
    secretPaths,
  );

  const structural = schemaCheck(resolved);
  const checks = [...structural.issues];
  // Every problem at once: reference and grant checks also run when the structural problems leave the types intact.
  if (structural.typed)
    checks.push(...semanticIssues(resolved as Config, { runtimeClassifications: opts.mode === 'run' }));
  // The value of an unset reference is unknown: its "not set" issue is all there is to say about it.
  issues.push(...checks.filter((i) => !unset.has(i.path.join('.'))));
  for (const i of issues) hideSecrets(i, raw, resolved, secretPaths);
  for (const i of issues) locate(doc, lines, i);
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));

  const config = structural.issues.length === 0 ? absolutize(resolved as Config, dirname(abs)) : ({} as Config);
  return { file: abs, config, issues, ok: !issues.some((i) => i.severity === 'error'), secretPaths };
}

/** The first alias that does not resolve, else the first alias: where an alias error most likely is. */
function firstAlias(doc: Document): Alias | undefined {
  let first: Alias | undefined;
  let unresolved: Alias | undefined;
  visit(doc, {
    Alias(_, node) {
      first ??= node;
      if (!unresolved && !node.resolve(doc)) unresolved = node;
    },
  });
  return unresolved ?? first;
}

function isCyclic(v: unknown, ancestors = new Set<unknown>()): boolean {
  if (!v || typeof v !== 'object') return false;
  if (ancestors.has(v)) return true;
  ancestors.add(v);
  const cyclic = Object.values(v).some((x) => isCyclic(x, ancestors));
  ancestors.delete(v);
  return cyclic;
}

/** Unset env references stay as their `env:NAME` text so structural checks still see a string. */
function resolveEnv(
  v: unknown,
  path: (string | number)[],
  env: NodeJS.ProcessEnv,
  missing: (path: (string | number)[], name: string) => void,
  secrets: Set<string>,
): unknown {
  if (typeof v === 'string') {
    const m = ENV_REF.exec(v);
    if (!m) return v;
    secrets.add(path.join('.'));
    const value = env[m[1]!];
    if (value === undefined) {
      missing(path, m[1]!);
      return v;
    }
    return value;
  }
  if (Array.isArray(v)) return v.map((x, i) => resolveEnv(x, [...path, i], env, missing, secrets));
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, resolveEnv(x, [...path, k], env, missing, secrets)]),
    );
  }
  return v;
}

/**
 * A message never shows a value that came from the environment: it names the variable instead. Always at the
 * issue's own path; elsewhere only for values long enough not to garble unrelated text.
 */
function hideSecrets(issue: ConfigIssue, raw: unknown, resolved: unknown, secretPaths: Set<string>): void {
  const own = issue.path.join('.');
  for (const key of secretPaths) {
    const segs = key === '' ? [] : key.split('.');
    const value = at(resolved, segs);
    const ref = at(raw, segs);
    if (typeof value !== 'string' || value === ref || value === '') continue;
    if (key !== own && value.length < 4) continue;
    const shown = `(value of ${String(ref)})`;
    issue.message = issue.message.replaceAll(JSON.stringify(value), shown).replaceAll(value, shown);
  }
}

function at(v: unknown, segs: string[]): unknown {
  for (const s of segs) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

function absolutize(cfg: Config, base: string): Config {
  return {
    ...cfg,
    dataDir: resolve(base, cfg.dataDir ?? './.sluice'),
    subscriptions: cfg.subscriptions.map((s) => ({
      ...s,
      delivery: s.delivery.mode === 'batch' ? { ...s.delivery, dir: resolve(base, s.delivery.dir) } : s.delivery,
    })),
  };
}

/** Adds line:column from the YAML node at the issue's path (or its nearest existing ancestor). */
function locate(doc: Document, lines: LineCounter, issue: ConfigIssue): void {
  if (issue.line) return;
  for (let n = issue.path.length; n >= 0; n--) {
    const node = doc.getIn(issue.path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lines.linePos(node.range[0]);
      issue.line = pos.line;
      issue.col = pos.col;
      return;
    }
  }
}

import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { configJsonSchema } from '../../schemas/index.ts';
import type { ConfigIssue } from './issues.ts';

const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true, discriminator: true });
addFormats.default(ajv, ['date-time']);
const validate = ajv.compile(configJsonSchema());

const ID_FIELDS = new Set(['id']);

/**
 * Problems that leave every value with the type the schema gives it (an extra key, a string or number out of its
 * allowed range): the cross-reference checks can still run, so they are reported in the same pass.
 */
const TYPE_PRESERVING = new Set([
  'additionalProperties',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'uniqueItems',
  'format',
  'exclusiveMinimum',
]);

/** Structural problems against schemas/config.schema.json, one readable issue per problem. */
export function schemaIssues(doc: unknown): ConfigIssue[] {
  return schemaCheck(doc).issues;
}

/**
 * {@link schemaIssues}, plus whether the document still has the shape of a `Config` (only {@link TYPE_PRESERVING}
 * problems), so that the semantic checks may run on it.
 */
export function schemaCheck(doc: unknown): { issues: ConfigIssue[]; typed: boolean } {
  if (validate(doc)) return { issues: [], typed: true };
  const errors = validate.errors ?? [];
  const typed = errors.every((e) => TYPE_PRESERVING.has(e.keyword));
  // An anyOf of constants reports one `const` error per branch: fold them into one "must be one of" issue.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const out: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if ((e.keyword === 'const' || e.keyword === 'type') && anyOfPaths.has(e.instancePath)) continue;
    const issue = toIssue(e, doc);
    const k = JSON.stringify([issue.path, issue.message]);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(issue);
    }
  }
  return { issues: out, typed };
}

/** Readable forms of the non-id patterns of the contract (an id has its own message). */
const PATTERN_HINTS: Record<string, string> = {
  '^[^:]+:[0-9]{1,5}$': 'must be host:port, e.g. 127.0.0.1:7300',
  '^[0-9]+(KB|MB|GB)$': 'must be a size such as "512KB", "256MB" or "1GB"',
  '^https?://': 'must be an http:// or https:// URL',
  '^[0-9]+(ms|s|m|h|d)$': 'must be a duration such as "500ms", "30s", "5m", "12h" or "7d"',
};

/** `a string`, `an integer`, … — never the value itself, which may come from the environment. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
};

/** Ajv's instance path as segments; a segment is a number only where the document has a list (`masking.core["3"]`). */
function pathOf(instancePath: string, root: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let node: unknown = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node) && /^\d+$/.test(seg)) {
      out.push(Number(seg));
      node = node[Number(seg)];
    } else {
      out.push(seg);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function toIssue(e: ErrorObject, root: unknown): ConfigIssue {
  const path = pathOf(e.instancePath, root);
  const last = path.at(-1);
  const parent = (e.parentSchema ?? {}) as {
    properties?: Record<string, unknown>;
    patternProperties?: Record<string, unknown>;
    description?: string;
    minimum?: number;
    maximum?: number;
  };
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const known = Object.keys(parent.properties ?? {});
      let hint = '';
      if (known.length > 0) hint = ` (expected one of: ${known.join(', ')})`;
      else if (parent.patternProperties && parent.description)
        hint = ` (expected: ${parent.description.split(';')[0]})`;
      return { severity: 'error', path: [...path, key], message: `unknown key "${key}"${hint}` };
    }
    case 'required':
      return { severity: 'error', path, message: `missing required key "${String(e.params.missingProperty)}"` };
    case 'type': {
      const want = String(e.params.type)
        .split(',')
        .map((t) => TYPE_NAMES[t] ?? t)
        .join(' or ');
      return { severity: 'error', path, message: `must be ${want}, not ${kindOf(e.data)}` };
    }
    case 'pattern': {
      if (typeof last === 'string' && ID_FIELDS.has(last)) {
        return {
          severity: 'error',
          path,
          message: `${JSON.stringify(e.data)} is not a valid id: use lowercase letters, digits and '-', start with a letter, at most 40 characters (^[a-z][a-z0-9-]{0,39}$)`,
        };
      }
      const pattern = String(e.params.pattern);
      const hint = PATTERN_HINTS[pattern] ?? `must match ${pattern}`;
      return { severity: 'error', path, message: `${JSON.stringify(e.data)} ${hint}` };
    }
    case 'minimum':
    case 'maximum': {
      const range =
        parent.minimum !== undefined && parent.maximum !== undefined
          ? `between ${parent.minimum} and ${parent.maximum}`
          : `${String(e.params.comparison)} ${String(e.params.limit)}`;
      return { severity: 'error', path, message: `${JSON.stringify(e.data)} is out of range: must be ${range}` };
    }
    case 'minLength':
      return {
        severity: 'error',
        path,
        message:
          e.params.limit === 1 ? 'must not be empty' : `must be at least ${String(e.params.limit)} characters long`,
      };
    case 'minItems':
      return {
        severity: 'error',
        path,
        message: `must list at least ${String(e.params.limit)} item${e.params.limit === 1 ? '' : 's'}`,
      };
    case 'uniqueItems': {
      const [i, j] = [Number(e.params.i), Number(e.params.j)];
      const later = Math.max(i, j);
      const item = Array.isArray(e.data) ? (e.data as unknown[])[later] : undefined;
      return {
        severity: 'error',
        path: [...path, later],
        message: `${JSON.stringify(item)} is listed twice (also at [${Math.min(i, j)}])`,
      };
    }
    case 'anyOf': {
      const options = (e.schema as { const?: unknown }[]).map((s) => s.const).filter((c) => c !== undefined);
      if (options.length > 0) {
        return { severity: 'error', path, message: `${JSON.stringify(e.data)} must be one of: ${options.join(', ')}` };
      }
      return { severity: 'error', path, message: 'does not match any allowed form' };
    }
    case 'const':
      return {
        severity: 'error',
        path,
        message: `${JSON.stringify(e.data)} must be ${JSON.stringify(e.params.allowedValue)}`,
      };
    case 'discriminator': {
      // `delivery.mode` picks the form: name the allowed modes (a missing one is reported by `required`)
      const tag = String(e.params.tag);
      const modes = (
        (e.schema as unknown as { oneOf?: { properties?: Record<string, { const?: unknown }> }[] }).oneOf ??
        (parent as { oneOf?: { properties?: Record<string, { const?: unknown }> }[] }).oneOf ??
        []
      )
        .map((b) => b.properties?.[tag]?.const)
        .filter((c) => c !== undefined);
      const value = (e.data as Record<string, unknown> | null)?.[tag];
      // (a missing tag: the same issue as `required` gives, so it is reported once)
      if (value === undefined) return { severity: 'error', path, message: `missing required key "${tag}"` };
      return {
        severity: 'error',
        path: [...path, tag],
        message: `${JSON.stringify(value)} must be one of: ${modes.join(', ')}`,
      };
    }
    case 'propertyNames':
      return { severity: 'error', path, message: `invalid key ${JSON.stringify(e.params.propertyName)}` };
    default:
      return { severity: 'error', path, message: e.message ?? e.keyword };
  }
}

import { validateDetailed } from 'node-cron';
import { decideGrant } from '../../engine/rules/grant.ts';
import {
  isPartialTag,
  publicKeyProblem,
  validatePartialOptions,
  validateGeneralizeOptions,
  type GeneralizeOptions,
} from '../../engine/masking/index.ts';
import type { Config, FeedDeliveryConfig, ResourceConfig, SubscriberConfig } from '../../schemas/index.ts';
import type { ConfigIssue } from './issues.ts';
import { maskingMatrix, maskingTags } from './masking-matrix.ts';
import { parseInstant } from '../../engine/rules/decision-time.ts';
import { filterFieldRefs, parseFilter } from '../../engine/rules/filter/index.ts';

const PLAIN_IDENT = /^[a-z_][a-z0-9_]*$/;

const arr = <T>(x: T[] | undefined): T[] => (Array.isArray(x) ? x : []);

export interface SemanticOptions {
  /**
   * `sluice run`: runtime classifications (`sluice classify`, in the state DB) are not known yet when the file is
   * read, so a subscription field the file leaves unclassified is a warning here and is checked again at start.
   */
  runtimeClassifications?: boolean;
}

/**
 * Cross-reference and meaning checks of a structurally valid config (DESIGN.md, Operating rules: `sluice validate`).
 * Every problem is reported, none stops the others.
 */
export function semanticIssues(cfg: Config, opts: SemanticOptions = {}): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const err = (path: (string | number)[], message: string) => issues.push({ severity: 'error', path, message });
  const warn = (path: (string | number)[], message: string) => issues.push({ severity: 'warning', path, message });

  const index = <T extends { id: string }>(list: T[], kind: string, section: string) => {
    const byId = new Map<string, T>();
    list.forEach((item, i) => {
      if (byId.has(item.id)) err([section, i, 'id'], `duplicate ${kind} id "${item.id}"`);
      else byId.set(item.id, item);
    });
    return byId;
  };
  const providers = index(arr(cfg.providers), 'provider', 'providers');
  arr(cfg.subscribers).forEach((x, i) => {
    const problem = x.publicKey === undefined ? undefined : publicKeyProblem(x.publicKey);
    if (problem) err(['subscribers', i, 'publicKey'], problem);
  });
  const resources = index(arr(cfg.resources), 'resource', 'resources');
  const subscribers = index(arr(cfg.subscribers), 'subscriber', 'subscribers');
  index(arr(cfg.subscriptions), 'subscription', 'subscriptions');

  const listen = cfg.api?.listen;
  if (listen && Number(listen.slice(listen.lastIndexOf(':') + 1)) > 65535) {
    err(['api', 'listen'], `port of "${listen}" is above 65535`);
  }

  const tables = new Map<string, string>();
  arr(cfg.resources).forEach((r, i) => {
    if (!providers.has(r.provider)) err(['resources', i, 'provider'], `unknown provider "${r.provider}"`);
    const table = `${r.provider}/${r.table.includes('.') ? r.table : `public.${r.table}`}`;
    const other = tables.get(table);
    if (other)
      err(
        ['resources', i, 'table'],
        `table "${r.table}" is already published as resource "${other}" by the same provider`,
      );
    else tables.set(table, r.id);
    const parts = r.table.split('.');
    if (parts.length > 2 || !parts.every((p) => PLAIN_IDENT.test(p))) {
      err(
        ['resources', i, 'table'],
        `table "${r.table}" is not a plain identifier (schema.table, lowercase letters, digits, _)`,
      );
    }
    arr(r.key).forEach((k, j) => checkColumn(k, ['resources', i, 'key', j], err));
    for (const [name, f] of Object.entries(r.fields ?? {})) {
      checkColumn(name, ['resources', i, 'fields', name], err);
      if (f.conditions) conditionIssues(f, ['resources', i, 'fields', name], err);
      for (const problem of validateGeneralizeOptions(f.generalize as GeneralizeOptions | undefined)) {
        err(['resources', i, 'fields', name, 'generalize'], problem);
      }
      if (f.share !== 'none' && f.level !== 'general' && f.tag === undefined) {
        warn(
          ['resources', i, 'fields', name, 'tag'],
          `${f.level} field "${name}" has no sensitivity tag: a partial mask cannot apply and falls back to hash`,
        );
      }
    }
  });

  const matrix = maskingMatrix(cfg.masking);
  const tags = maskingTags(cfg.masking);
  for (const problem of validatePartialOptions(cfg.masking?.partial)) err(['masking', 'partial'], problem);
  arr(cfg.subscriptions).forEach((s, i) => {
    const resource = resources.get(s.resource);
    const subscriber = subscribers.get(s.subscriber);
    if (!subscriber) err(['subscriptions', i, 'subscriber'], `unknown subscriber "${s.subscriber}"`);
    if (!resource) err(['subscriptions', i, 'resource'], `unknown resource "${s.resource}"`);
    if (resource && subscriber) {
      const unclassified = opts.runtimeClassifications
        ? (p: (string | number)[], m: string) =>
            warn(p, `${m}; checked again at start against runtime classifications (sluice classify)`)
        : (p: (string | number)[], m: string) =>
            err(p, `${m}; a provider may classify it (sluice classify ${s.resource}.<column>)`);
      grantIssues(resource, subscriber, s, i, matrix, tags, err, warn, unclassified);
    }
    const d = s.delivery;
    if (d.mode === 'feed') {
      feedIssues(d, i, err);
      return;
    }
    const cron = validateDetailed(d.cadence);
    if (!cron.valid) {
      const why = cron.errors.map(cronProblem).join('; ');
      err(['subscriptions', i, 'delivery', 'cadence'], `bad cron expression "${d.cadence}" (${why})`);
    }
    if (d.timezone !== undefined && !isTimeZone(d.timezone)) {
      err(
        ['subscriptions', i, 'delivery', 'timezone'],
        `unknown time zone "${d.timezone}" (use an IANA name such as Asia/Shanghai)`,
      );
    }
  });
  return issues;
}

function grantIssues(
  resource: ResourceConfig,
  subscriber: SubscriberConfig,
  s: Config['subscriptions'][number],
  i: number,
  matrix: ReturnType<typeof maskingMatrix>,
  tags: ReturnType<typeof maskingTags>,
  err: (p: (string | number)[], m: string) => void,
  warn: (p: (string | number)[], m: string) => void,
  unclassified: (p: (string | number)[], m: string) => void = err,
) {
  const grant = decideGrant(resource, subscriber, s, matrix, new Date().toISOString(), { tags });
  for (const p of grant.problems) {
    const path =
      p.reason === 'override-looser' ? ['subscriptions', i, 'masks', p.field] : ['subscriptions', i, 'fields', p.index];
    if (p.reason === 'duplicate') continue; // the schema's uniqueItems says so already
    if (p.reason === 'unclassified') unclassified(path, p.message);
    // These depend on when a cycle runs (and how often it delivered): true today, perhaps not at the next cycle.
    else if (p.reason === 'not-yet-valid' || p.reason === 'expired' || p.reason === 'max-deliveries')
      warn(path, `${p.message} — now; the grant is decided again at every cycle`);
    else err(path, p.message);
  }
  for (const name of Object.keys(s.masks ?? {})) {
    if (!s.fields.includes(name))
      err(
        ['subscriptions', i, 'masks', name],
        `mask override for "${name}", which is not in this subscription's fields`,
      );
  }
  if (s.filter !== undefined) filterIssues(resource, s, i, grant.fields, err);
  for (const f of grant.fields) {
    const at = ['subscriptions', i, 'fields', s.fields.indexOf(f.name)];
    if (f.strategy === 'encrypt' && s.delivery.mode === 'feed') {
      err(
        at,
        `"${f.name}" resolves to encrypt, which a feed cannot carry (the wrapped data key travels in batch manifests): mask it as hash in masks, or deliver it in a batch subscription`,
      );
    } else if (f.strategy === 'encrypt' && subscriber.publicKey === undefined) {
      err(
        at,
        `"${f.name}" resolves to encrypt but subscriber "${subscriber.id}" has no publicKey to wrap its data key for (sluice keygen makes one)`,
      );
    }
    if (f.strategy === 'generalize') {
      const field = resource.fields[f.name]!;
      if (!field.generalize && f.tag !== 'cn_id_card') {
        warn(
          at,
          `"${f.name}" resolves to generalize: dates become years (masking.generalize.date), ID numbers region + birth year; a numeric field needs resources[].fields.${f.name}.generalize.buckets (checked against the column type at start)`,
        );
      }
    }
    if (f.strategy === 'partial' && !(f.tag && isPartialTag(f.tag))) {
      warn(
        ['subscriptions', i, 'fields', s.fields.indexOf(f.name)],
        `"${f.name}" resolves to partial but its tag ${f.tag ? `"${f.tag}"` : '(none)'} has no partial format: values are hashed`,
      );
    }
  }
}

/**
 * A subscription's filter, offline: syntax (pointing at the offending token), field names, and the rule that a filter
 * may use only fields the subscriber receives in clear (else the filter would reveal what the mask hides), unless
 * the operator lists the field in `filterFields`. Types are checked online (they come from the database).
 */
function filterIssues(
  resource: ResourceConfig,
  s: Config['subscriptions'][number],
  i: number,
  granted: readonly { name: string; strategy: string }[],
  err: (p: (string | number)[], m: string) => void,
) {
  const path = ['subscriptions', i, 'filter'];
  const parsed = parseFilter(s.filter!);
  if (!parsed.ok) {
    err(path, `column ${parsed.error.column}: ${parsed.error.message}`);
    return;
  }
  const inBus = (name: string) =>
    resource.key.includes(name) || (Object.hasOwn(resource.fields, name) && resource.fields[name]!.share !== 'none');
  const allowed = new Set(s.filterFields ?? []);
  (s.filterFields ?? []).forEach((name, j) => {
    if (!inBus(name)) {
      err(
        ['subscriptions', i, 'filterFields', j],
        `"${name}" is not a key or shareable classified field of "${resource.id}"`,
      );
    }
  });
  const clear = new Set(granted.filter((f) => f.strategy === 'clear').map((f) => f.name));
  for (const ref of new Map(filterFieldRefs(parsed.ast).map((r) => [r.name, r])).values()) {
    const col = [...s.filter!.slice(0, ref.offset)].length + 1;
    if (!inBus(ref.name)) {
      err(
        path,
        `column ${col}: unknown field "${ref.name}" (fields of "${resource.id}": ${[...new Set([...resource.key, ...Object.keys(resource.fields)])].join(', ')})`,
      );
    } else if (!clear.has(ref.name) && !allowed.has(ref.name)) {
      const g = granted.find((f) => f.name === ref.name);
      err(
        path,
        `column ${col}: the filter uses "${ref.name}", which this subscriber ${g ? `receives as ${g.strategy}` : 'is not granted'}; a filter may use only fields delivered in clear, unless the operator lists it in filterFields`,
      );
    }
  }
}

function conditionIssues(
  f: ResourceConfig['fields'][string],
  path: (string | number)[],
  err: (p: (string | number)[], m: string) => void,
) {
  const c = f.conditions!;
  if (f.share !== 'conditional') {
    err([...path, 'conditions'], `conditions apply only to share: conditional fields (this one is ${f.share})`);
  }
  const from = c.validFrom === undefined ? undefined : parseInstant(c.validFrom);
  const until = c.validUntil === undefined ? undefined : parseInstant(c.validUntil);
  if (c.validFrom !== undefined && from === undefined) {
    err(
      [...path, 'conditions', 'validFrom'],
      `"${c.validFrom}" is not an RFC 3339 instant (e.g. 2026-01-01T00:00:00+08:00)`,
    );
  }
  if (c.validUntil !== undefined && until === undefined) {
    err(
      [...path, 'conditions', 'validUntil'],
      `"${c.validUntil}" is not an RFC 3339 instant (e.g. 2026-12-31T23:59:59Z)`,
    );
  }
  if (from !== undefined && until !== undefined && from >= until) {
    err(
      [...path, 'conditions', 'validUntil'],
      `validUntil ${c.validUntil} is not after validFrom ${c.validFrom}: never granted`,
    );
  }
}

function checkColumn(name: string, path: (string | number)[], err: (p: (string | number)[], m: string) => void) {
  if (name.startsWith('_'))
    err(path, `column "${name}" starts with "_", which is reserved for Sluice's own columns (_op, _seq, _commit_ts)`);
  else if (!PLAIN_IDENT.test(name))
    err(path, `column "${name}" is not a plain identifier (lowercase letters, digits, _)`);
}

const CRON_RANGES: Record<string, string> = {
  second: 'second (0-59)',
  minute: 'minute (0-59)',
  hour: 'hour (0-23)',
  dayOfMonth: 'day of month (1-31)',
  month: 'month (1-12 or jan-dec)',
  dayOfWeek: 'day of week (0-7 or sun-sat)',
};

/** node-cron says "61 is a invalid expression for minute": say which field and what it accepts instead. */
function cronProblem(e: { field: string; value?: string; message: string }): string {
  const range = CRON_RANGES[e.field];
  if (range && e.value !== undefined && / is a invalid expression for /.test(e.message)) {
    return `"${e.value}" is not a valid ${range}`;
  }
  return e.field === 'expression' ? e.message : `${e.field}: ${e.message}`;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A feed's transport: exactly one of nats or webhook; a webhook secret in the Standard Webhooks format. */
function feedIssues(d: FeedDeliveryConfig, i: number, err: (p: (string | number)[], m: string) => void) {
  const at = ['subscriptions', i, 'delivery'];
  if ((d.nats === undefined) === (d.webhook === undefined)) {
    err(at, d.nats ? 'a feed has one transport: give nats or webhook, not both' : 'a feed needs nats or webhook');
  }
  const secret = d.webhook?.secret;
  if (secret !== undefined && !secret.startsWith('env:')) {
    const bytes = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    if (!/^(whsec_)?[A-Za-z0-9+/]+={0,2}$/.test(secret) || bytes.length < 24 || bytes.length > 64) {
      err(
        [...at, 'webhook', 'secret'],
        'must be a Standard Webhooks secret: whsec_ followed by the base64 of 24 to 64 random bytes (e.g. whsec_$(openssl rand -base64 32))',
      );
    }
  }
}

import type { FieldConfig, ResourceConfig, SubscriberConfig, SubscriptionConfig } from '../../schemas/index.ts';
import { isAtLeastAsStrict, resolveStrategy, type MaskingMatrix, type Strategy } from '../masking/index.ts';

/** A granted field of a subscription and how it is masked. */
export interface GrantedField {
  name: string;
  level: FieldConfig['level'];
  tag?: string;
  strategy: Exclude<Strategy, 'deny'>;
}

export type GrantProblemReason = 'unclassified' | 'share-none' | 'deny' | 'override-looser';

export interface GrantProblem {
  /** Index of the field in the subscription's `fields` (or the `masks` key for an override). */
  field: string;
  index: number;
  reason: GrantProblemReason;
  message: string;
}

export interface Grant {
  fields: GrantedField[];
  problems: GrantProblem[];
}

/**
 * Decides which of a subscription's fields are granted and how each is masked (DESIGN.md, Masking). A field is
 * granted when it is classified in the resource, its share type is `unconditional` or `conditional` (no conditions
 * listed yet: the rule-engine issue adds them), and the matrix — tightened by the subscription's own `masks` — does
 * not resolve to `deny` for the subscriber's clearance. Pure: validation and the runtime use the same function.
 */
export function decideGrant(
  resource: ResourceConfig,
  subscriber: SubscriberConfig,
  subscription: SubscriptionConfig,
  matrix: MaskingMatrix,
): Grant {
  const fields: GrantedField[] = [];
  const problems: GrantProblem[] = [];
  const fieldsConfig = resource.fields;
  subscription.fields.forEach((name, index) => {
    const problem = (reason: GrantProblemReason, message: string) =>
      problems.push({ field: name, index, reason, message });
    const f = Object.hasOwn(fieldsConfig, name) ? fieldsConfig[name] : undefined;
    if (!f) {
      problem(
        'unclassified',
        `field "${name}" is not classified in resource "${resource.id}" (unlisted columns are never shared)`,
      );
      return;
    }
    if (f.share === 'none') {
      problem('share-none', `field "${name}" of resource "${resource.id}" is not shareable (share: none)`);
      return;
    }
    const base = resolveStrategy(matrix, f.level, subscriber.clearance);
    const override = subscription.masks?.[name];
    if (override && !isAtLeastAsStrict(override, base)) {
      problem(
        'override-looser',
        `mask override "${override}" for "${name}" is looser than "${base}" from the matrix; overrides may only be stricter`,
      );
      return;
    }
    const strategy = override ?? base;
    if (strategy === 'deny') {
      problem(
        'deny',
        `field "${name}" (${f.level}) resolves to deny for subscriber "${subscriber.id}" at clearance ${subscriber.clearance}`,
      );
      return;
    }
    fields.push({ name, level: f.level, ...(f.tag ? { tag: f.tag } : {}), strategy });
  });
  return { fields, problems };
}

import type { ResourceConfig, SubscriberConfig, SubscriptionConfig } from '../../schemas/index.ts';
import type { MaskingMatrix, MaskingRow } from '../masking/index.ts';
import { decide, type DenialReason, type GrantedField } from './decision.ts';

export type { GrantedField } from './decision.ts';

/** Why a subscription field is not granted: a {@link DenialReason} of the authorization decision. */
export type GrantProblemReason = DenialReason;

/** A subscription field that is not granted, and why. */
export interface GrantProblem {
  /** The field's name (for `override-looser`, also the `masks` key of the override). */
  field: string;
  /** Index of the field in the subscription's `fields`. */
  index: number;
  reason: GrantProblemReason;
  message: string;
}

/** The granted fields of a subscription, in its order, and the problems of the others. */
export interface Grant {
  fields: GrantedField[];
  problems: GrantProblem[];
}

/** What a grant depends on besides the config: per-tag rows and the deliveries made so far. */
export interface GrantContext {
  /** Per-tag masking rows (`masking.tags`); each only tightens the matrix. */
  tags?: Record<string, MaskingRow>;
  /** Deliveries of each field to this subscription so far, for `maxDeliveries` (absent: none yet). */
  usage?: ReadonlyMap<string, number>;
}

/**
 * Decides which of a subscription's fields are granted and how each is masked: the authorization decision
 * ({@link decide}, decision.ts) applied to the config's resource, subscriber and subscription at the instant `at`.
 * Pure apart from the default of `at`; validation and the runtime use the same function.
 *
 * @param at - RFC 3339 instant the grant is decided for (a cycle's tick); defaults to now, which makes time
 *   conditions (`validFrom`, `validUntil`) depend on when it is called
 */
export function decideGrant(
  resource: ResourceConfig,
  subscriber: SubscriberConfig,
  subscription: SubscriptionConfig,
  matrix: MaskingMatrix,
  at: string = new Date().toISOString(),
  context: GrantContext = {},
): Grant {
  const d = decide(
    {
      subscription: subscription.id,
      subscriber: {
        id: subscriber.id,
        clearance: subscriber.clearance,
        ...(subscriber.organisation !== undefined ? { organisation: subscriber.organisation } : {}),
        ...(subscriber.adminLevel !== undefined ? { adminLevel: subscriber.adminLevel } : {}),
      },
      resource: resource.id,
      fields: subscription.fields,
      ...(subscription.masks ? { masks: subscription.masks } : {}),
      purpose: subscription.purpose,
      businessSystem: subscription.businessSystem,
      at,
    },
    resource.fields,
    { matrix, ...(context.tags ? { tags: context.tags } : {}) },
    context.usage,
  );
  return { fields: d.granted, problems: d.denied };
}

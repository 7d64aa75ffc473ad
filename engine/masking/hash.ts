/**
 * The `hash` strategy's primitive: HMAC-SHA256 under a per-subscription key, so equal values join inside one
 * subscription and not across subscriptions (DESIGN.md "Masking").
 */

import { createHmac } from 'node:crypto';

/** HMAC-SHA256 of the UTF-8 encoding of `value` under `key`, as 64 lowercase hex characters. */
export function hmacHex(key: Uint8Array, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

import type { Interface } from 'ethers';

/**
 * A failed contract call or transaction in plain words: the contract's custom error with its arguments (e.g.
 * `NotGrowing(10, 10)`) when the revert data decodes against `iface`, else ethers' short message. ethers decodes
 * custom errors of `staticCall`s itself, not those a transaction hits while its gas is estimated.
 */
export function revertReason(e: unknown, iface: Interface): string {
  const err = e as { data?: string; info?: { error?: { data?: string } }; shortMessage?: string; message?: string };
  const data = err.data ?? err.info?.error?.data;
  if (typeof data === 'string' && data.startsWith('0x') && data.length >= 10) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return `${parsed.name}(${parsed.args.map((a: unknown) => String(a)).join(', ')})`;
    } catch {
      // not one of this contract's errors
    }
  }
  return err.shortMessage ?? err.message ?? String(e);
}

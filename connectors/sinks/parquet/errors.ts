import { isSluiceError, SluiceError } from '../../../engine/errors.ts';

/** Errno codes of a full disk or an exhausted quota. */
const FULL = new Set(['ENOSPC', 'EDQUOT']);

/**
 * The directory sink's failures as the engine sees them: a full disk (or quota) on the output directory is a
 * retriable DELIVERY_FAILED naming the directory — the cycle's intent stays open, nothing is lost, and the next tick
 * finishes it once there is space; other file-system errors name the directory too. SluiceErrors pass as they are.
 */
export function sinkError(e: unknown, dir: string, subscription: string): Error {
  if (isSluiceError(e)) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && FULL.has(code)) {
    return new SluiceError(
      'DELIVERY_FAILED',
      `no space left on the output directory ${dir} (${code}) for subscription "${subscription}": nothing was ` +
        'delivered; the next tick finishes this batch once there is space',
      { retriable: true, cause: e, details: { dir, subscription, code } },
    );
  }
  return new SluiceError(
    'DELIVERY_FAILED',
    `writing to ${dir} for subscription "${subscription}" failed: ${(e as Error).message}`,
    { retriable: code !== undefined, cause: e, details: { dir, subscription, ...(code ? { code } : {}) } },
  );
}

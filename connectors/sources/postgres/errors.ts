import { SluiceError } from '../../../engine/errors.ts';

const RETRIABLE_CLASSES = ['08', '53', '57', '40']; // connection, resources, operator intervention, rollback

/** Maps a pg / network error to a SluiceError with a plain-words message (SQLSTATE classes, never message text). */
export function mapPgError(e: unknown, where: string): SluiceError {
  if (e instanceof SluiceError) return e;
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'ECONNRESET') {
    return new SluiceError('UNAVAILABLE', `${where}: database unreachable (${code})`, { retriable: true, cause: e });
  }
  if (code === '42501') {
    return new SluiceError(
      'SOURCE_FAILED',
      `${where}: permission denied — ${err.message}. See README "Provider database privileges".`,
      {
        cause: e,
        details: { sqlstate: code },
      },
    );
  }
  if (code === '28P01' || code === '28000') {
    return new SluiceError('UNAVAILABLE', `${where}: authentication failed`, { cause: e, details: { sqlstate: code } });
  }
  return new SluiceError('SOURCE_FAILED', `${where}: ${err.message ?? String(e)}`, {
    retriable: RETRIABLE_CLASSES.includes(code.slice(0, 2)),
    cause: e,
    ...(code ? { details: { sqlstate: code } } : {}),
  });
}

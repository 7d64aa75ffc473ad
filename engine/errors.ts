/**
 * The one error type of Sluice (DESIGN.md, Conventions): a string `code`, whether a retry may help, structured
 * `details` and an ES2022 `cause`. Adapters map native errors into it in one errors.ts each; expected outcomes are
 * return values, not throws; nothing matches on message text.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'NOT_FOUND'
  /** The request contradicts the current state (e.g. running a paused subscription's cycle). */
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'SOURCE_FAILED'
  | 'SLOT_INVALID'
  | 'STATE_CORRUPT'
  | 'DELIVERY_FAILED'
  | 'ABORTED'
  | 'INTERNAL';

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retriable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.details = opts.details ?? {};
  }
}

export function isSluiceError(e: unknown, code?: ErrorCode): e is SluiceError {
  return e instanceof SluiceError && (code === undefined || e.code === code);
}

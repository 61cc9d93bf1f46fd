import { ERROR_CODES, type ErrorCode, type ErrorKind } from './error-codes.js';

/** Plain-data details attached to an error (must survive structured clone / JSON). */
export type ErrorDetails = Record<string, unknown>;

/**
 * The error type of TwinSnap. Engine code throws it for anything a caller must tell apart.
 * Messages are lowercase, specific and actionable; the original error is kept as `cause`.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
  }

  /** The kind of this error's code. */
  get kind(): ErrorKind {
    return ERROR_CODES[this.code].kind;
  }

  /** Whether retrying the same operation may succeed. */
  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
}

/** True when `e` is an AppError (optionally with the given code). */
export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}

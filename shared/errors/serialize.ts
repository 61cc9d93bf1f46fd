import { AppError } from './app-error.js';
import { isErrorCode, type ErrorCode } from './error-codes.js';

/** The wire form of an error: plain data, safe for JSON and structured clone. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  cause?: SerializedError;
  stack?: string;
}

const MAX_CAUSE_DEPTH = 8;

/** Turns anything thrown into a SerializedError; non-AppErrors become INTERNAL. */
export function toSerializedError(e: unknown, opts: { includeStack?: boolean } = {}, depth = 0): SerializedError {
  const out: SerializedError = e instanceof AppError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
  if (e instanceof AppError && e.details !== undefined) out.details = jsonSafe(e.details) as Record<string, unknown>;
  if (opts.includeStack && e instanceof Error && e.stack) out.stack = e.stack;
  const cause = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
  if (cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = toSerializedError(cause, opts, depth + 1);
  return out;
}

/** Rebuilds an AppError from its wire form; unknown codes become INTERNAL. */
export function fromSerializedError(s: unknown, depth = 0): AppError {
  if (typeof s !== 'object' || s === null) return new AppError('INTERNAL', 'malformed error from peer');
  const o = s as Partial<SerializedError>;
  const code: ErrorCode = isErrorCode(o.code) ? o.code : 'INTERNAL';
  const message = typeof o.message === 'string' ? o.message : 'unknown error';
  const cause = o.cause !== undefined && depth < MAX_CAUSE_DEPTH ? fromSerializedError(o.cause, depth + 1) : undefined;
  const details = typeof o.details === 'object' && o.details !== null ? o.details : undefined;
  const err = new AppError(code, message, { cause, details });
  if (typeof o.stack === 'string') err.stack = o.stack;
  return err;
}

function jsonSafe(v: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
  } catch {
    return { unserializable: true };
  }
}

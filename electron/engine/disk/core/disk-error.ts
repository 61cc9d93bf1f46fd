import { AppError } from '../../../../shared/errors/app-error.js';
import type { ErrorCode } from '../../../../shared/errors/error-codes.js';

/** Throws DISK_CORRUPT naming the file and the structure that is wrong. */
export function corrupt(file: string, structure: string, problem: string, details: Record<string, unknown> = {}): never {
  throw new AppError('DISK_CORRUPT', `corrupt disk image '${file}': ${structure}: ${problem}`, {
    details: { file, structure, ...details },
  });
}

/** Builds an AppError about a disk file with the file and structure in its details. */
export function diskError(code: ErrorCode, file: string, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError(code, message, { details: { file, ...details } });
}

/** Checks that `value` is a safe non-negative integer no larger than `max`, else DISK_CORRUPT. */
export function checkRange(file: string, structure: string, field: string, value: number | bigint, max: number): number {
  const n = typeof value === 'bigint' ? (value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value)) : value;
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    corrupt(file, structure, `${field} ${String(value)} is out of range (max ${max})`, { field, value: String(value) });
  }
  return n;
}

/** Largest virtual disk size accepted (64 TiB, the VHDX maximum, times 4 for headroom). */
export const MAX_VIRTUAL_SIZE = 256 * 2 ** 40;

import { AppError } from '../../../shared/errors/app-error.js';

/** Builds the FS_CORRUPT error used for every inconsistent on-disk field. */
export function fsCorrupt(message: string, details?: Record<string, unknown>): AppError {
  return new AppError('FS_CORRUPT', message, details ? { details } : {});
}

/** Throws FS_CORRUPT with `message` unless `cond` holds. */
export function ensure(cond: unknown, message: string, details?: Record<string, unknown>): asserts cond {
  if (!cond) throw fsCorrupt(message, details);
}

/** Reads an unsigned 64-bit little-endian field and rejects values beyond 2^53. */
export function u64(buf: Buffer, off: number, what: string): number {
  ensure(off >= 0 && off + 8 <= buf.length, `${what}: field outside its structure`);
  const v = buf.readBigUInt64LE(off);
  ensure(v <= BigInt(Number.MAX_SAFE_INTEGER), `${what}: value too large`, { value: v.toString() });
  return Number(v);
}

/** Reads an unsigned 48-bit little-endian field (NTFS file references, ext4 block numbers). */
export function u48(buf: Buffer, off: number): number {
  return buf.readUIntLE(off, 6);
}

/** Converts an NTFS/Windows FILETIME (100 ns ticks since 1601) to epoch milliseconds. */
export function filetimeToMs(buf: Buffer, off: number): number | undefined {
  if (off + 8 > buf.length) return undefined;
  const v = buf.readBigUInt64LE(off);
  if (v === 0n) return undefined;
  const ms = Number(v / 10000n) - 11644473600000;
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? ms : undefined;
}

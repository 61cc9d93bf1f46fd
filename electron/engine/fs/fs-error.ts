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
  if (!(off >= 0 && off + 8 <= buf.length)) throw fsCorrupt(`${what}: field outside its structure`);
  const hi = buf.readUInt32LE(off + 4);
  // 2^53 - 1 is hi 0x1fffff with any lo; plain number arithmetic (no BigInt) on the hot path
  if (hi > 0x1fffff) throw fsCorrupt(`${what}: value too large`, { value: buf.readBigUInt64LE(off).toString() });
  return hi * 0x100000000 + buf.readUInt32LE(off);
}

/** Reads an unsigned 48-bit little-endian field (NTFS file references, ext4 block numbers). */
export function u48(buf: Buffer, off: number): number {
  return buf.readUIntLE(off, 6);
}

/** Converts an NTFS/Windows FILETIME (100 ns ticks since 1601) to epoch milliseconds. */
export function filetimeToMs(buf: Buffer, off: number): number | undefined {
  if (off < 0 || off + 8 > buf.length) return undefined;
  const lo = buf.readUInt32LE(off);
  const hi = buf.readUInt32LE(off + 4);
  if (hi === 0 && lo === 0) return undefined;
  // exact floor((hi * 2^32 + lo) / 10000) without BigInt: split hi = q * 10000 + r
  const q = Math.floor(hi / 10000);
  const r = hi - q * 10000;
  const ms = q * 0x100000000 + Math.floor((r * 0x100000000 + lo) / 10000) - 11644473600000;
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? ms : undefined;
}

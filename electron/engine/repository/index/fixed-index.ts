import { createHash } from 'node:crypto';
import { AppError } from '../../../../shared/errors/app-error.js';

/**
 * Fixed index file (`disks/<name>.fidx`): the ordered chunk digests of one disk.
 *   0   'TSFIDX01'   magic (8 bytes)
 *   8   u32 LE       chunk size
 *   12  u32 LE       chunk count
 *   16  u64 LE       disk size in bytes
 *   24  8 bytes      reserved (0)
 *   32  count × 32   raw SHA-256 digests; 32 zero bytes = a zero/unallocated chunk (not stored)
 *   end 32 bytes     SHA-256 of everything before it
 * Chunk i covers [i·chunkSize, min((i+1)·chunkSize, size)).
 */
const MAGIC = Buffer.from('TSFIDX01', 'ascii');
const HEADER = 32;
const ZERO_DIGEST = Buffer.alloc(32);

/** A decoded fixed index. `digests[i]` is null for a zero chunk. */
export interface FixedIndex {
  chunkSize: number;
  size: number;
  digests: (string | null)[];
}

/** Encodes an index. */
export function encodeFixedIndex(idx: FixedIndex): Buffer {
  const n = idx.digests.length;
  const buf = Buffer.alloc(HEADER + n * 32 + 32);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(idx.chunkSize, 8);
  buf.writeUInt32LE(n, 12);
  buf.writeBigUInt64LE(BigInt(idx.size), 16);
  idx.digests.forEach((d, i) => {
    if (d) buf.write(d, HEADER + i * 32, 'hex');
  });
  createHash('sha256').update(buf.subarray(0, HEADER + n * 32)).digest().copy(buf, HEADER + n * 32);
  return buf;
}

/** Decodes and checks an index (MANIFEST_CORRUPT naming `what` on any inconsistency). */
export function decodeFixedIndex(buf: Buffer, what: string): FixedIndex {
  const bad = (why: string) => new AppError('MANIFEST_CORRUPT', `index ${what} is corrupt: ${why}`, { details: { index: what } });
  if (buf.length < HEADER + 32 || !buf.subarray(0, 8).equals(MAGIC)) throw bad('bad header');
  const chunkSize = buf.readUInt32LE(8);
  const n = buf.readUInt32LE(12);
  const size = Number(buf.readBigUInt64LE(16));
  if (buf.length !== HEADER + n * 32 + 32) throw bad('wrong length');
  const sum = createHash('sha256').update(buf.subarray(0, HEADER + n * 32)).digest();
  if (!sum.equals(buf.subarray(HEADER + n * 32))) throw bad('checksum mismatch');
  if (chunkSize <= 0 || n !== Math.ceil(size / chunkSize)) throw bad('chunk count does not match the disk size');
  const digests: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const d = buf.subarray(HEADER + i * 32, HEADER + i * 32 + 32);
    digests[i] = d.equals(ZERO_DIGEST) ? null : d.toString('hex');
  }
  return { chunkSize, size, digests };
}

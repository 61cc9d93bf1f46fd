import { createHash } from 'node:crypto';
import { AppError } from '../../../../shared/errors/app-error.js';
import { ChunkMap } from './chunk-map.js';

/**
 * Fixed index file (`disks/<name>.fidx`): which chunk of one disk holds which data. Written as
 * version 2 (sparse: only data chunks are listed, so an empty 64 TiB disk has a 64-byte index);
 * version 1 (dense: one digest per chunk) is still read.
 *
 * Version 2:
 *   0   'TSFIDX02'   magic (8 bytes)
 *   8   u32 LE       chunk size
 *   12  u32 LE       chunk count (data and zero)
 *   16  u64 LE       disk size in bytes
 *   24  u32 LE       entries (data chunks)
 *   28  4 bytes      reserved (0)
 *   32  entries × 36 u32 LE chunk number ‖ raw SHA-256 digest; chunk numbers strictly increasing
 *   end 32 bytes     SHA-256 of everything before it
 * Version 1 ('TSFIDX01'): same header up to 24, 8 reserved bytes, then `count` × 32 raw digests
 * (32 zero bytes = a zero chunk), then the SHA-256.
 * Chunk i covers [i·chunkSize, min((i+1)·chunkSize, size)); chunks not listed read as zeros.
 */
const MAGIC_V1 = Buffer.from('TSFIDX01', 'ascii');
const MAGIC_V2 = Buffer.from('TSFIDX02', 'ascii');
const HEADER = 32;
const ENTRY = 36;
const ZERO_DIGEST = Buffer.alloc(32);

/** A decoded fixed index: the disk's data chunks and their digests. */
export type FixedIndex = ChunkMap;

/** Encodes an index (version 2: data chunks only). */
export function encodeFixedIndex(idx: ChunkMap): Buffer {
  let count = 0;
  for (const _ of idx.dataChunks()) count++; // two passes: no array of entries (a big disk has millions)
  const buf = Buffer.alloc(HEADER + count * ENTRY + 32);
  MAGIC_V2.copy(buf, 0);
  buf.writeUInt32LE(idx.chunkSize, 8);
  buf.writeUInt32LE(idx.chunks, 12);
  buf.writeBigUInt64LE(BigInt(idx.size), 16);
  buf.writeUInt32LE(count, 24);
  let k = 0;
  for (const c of idx.dataChunks()) {
    buf.writeUInt32LE(c.chunk, HEADER + k * ENTRY);
    c.digest.copy(buf, HEADER + k * ENTRY + 4);
    k++;
  }
  createHash('sha256')
    .update(buf.subarray(0, buf.length - 32))
    .digest()
    .copy(buf, buf.length - 32);
  return buf;
}

/** Decodes and checks an index of either version (MANIFEST_CORRUPT naming `what` on any inconsistency). */
export function decodeFixedIndex(buf: Buffer, what: string): FixedIndex {
  const bad = (why: string) => new AppError('MANIFEST_CORRUPT', `index ${what} is corrupt: ${why}`, { details: { index: what } });
  const v1 = buf.subarray(0, 8).equals(MAGIC_V1);
  if (buf.length < HEADER + 32 || (!v1 && !buf.subarray(0, 8).equals(MAGIC_V2))) throw bad('bad header');
  const chunkSize = buf.readUInt32LE(8);
  const n = buf.readUInt32LE(12);
  const size = Number(buf.readBigUInt64LE(16));
  const entries = v1 ? n : buf.readUInt32LE(24);
  const entry = v1 ? 32 : ENTRY;
  if (buf.length !== HEADER + entries * entry + 32) throw bad('wrong length');
  const sum = createHash('sha256')
    .update(buf.subarray(0, buf.length - 32))
    .digest();
  if (!sum.equals(buf.subarray(buf.length - 32))) throw bad('checksum mismatch');
  if (chunkSize <= 0 || !Number.isSafeInteger(size) || n !== Math.ceil(size / chunkSize)) throw bad('chunk count does not match the disk size');
  const map = new ChunkMap(chunkSize, size);
  for (let k = 0; k < entries; k++) {
    const at = HEADER + k * entry;
    const chunk = v1 ? k : buf.readUInt32LE(at);
    const digest = buf.subarray(v1 ? at : at + 4, at + entry);
    if (digest.equals(ZERO_DIGEST)) {
      if (v1) continue;
      throw bad(`entry ${k} has no digest`);
    }
    try {
      map.append(chunk, digest);
    } catch {
      throw bad(`entry ${k} names chunk ${chunk} out of order`);
    }
  }
  return map;
}

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../shared/errors/app-error.js';
import { ChunkMap } from './chunk-map.js';
import { decodeFixedIndex, encodeFixedIndex } from './fixed-index.js';

const MiB = 1024 * 1024;
const d = (c: string) => c.repeat(64);

/** A version-1 (dense) index as snapshots written before the sparse format hold them. */
function denseV1(chunkSize: number, size: number, digests: (string | null)[]): Buffer {
  const body = Buffer.alloc(32 + digests.length * 32);
  body.write('TSFIDX01', 0, 'ascii');
  body.writeUInt32LE(chunkSize, 8);
  body.writeUInt32LE(digests.length, 12);
  body.writeBigUInt64LE(BigInt(size), 16);
  digests.forEach((x, i) => x && body.write(x, 32 + i * 32, 'hex'));
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

describe('fixed index', () => {
  it('stores only data chunks: an empty 64 TiB disk has a 64-byte index', () => {
    const empty = new ChunkMap(MiB, 64 * 1024 ** 4);
    const buf = encodeFixedIndex(empty);
    expect(buf.length).toBe(64);
    const back = decodeFixedIndex(buf, 'x');
    expect([back.size, back.chunks, back.entries]).toEqual([64 * 1024 ** 4, 64 * MiB, 0]);
  });

  it('round-trips data chunks, lookups and extents-style iteration', () => {
    const m = new ChunkMap(MiB, 5 * MiB + 7);
    m.append(1, d('a'));
    const later = m.append(3);
    m.append(5, d('c'));
    m.fill(later, d('b'));
    const back = decodeFixedIndex(encodeFixedIndex(m), 'x');
    expect(back.toArray()).toEqual([null, d('a'), null, d('b'), null, d('c')]);
    expect([back.digestAt(3), back.digestAt(4)]).toEqual([d('b'), undefined]);
    expect([...back.dataChunks(2, 5)].map((c) => c.chunk)).toEqual([3]);
  });

  it('still reads the dense version 1', () => {
    const digests = [d('1'), null, null, d('2')];
    expect(decodeFixedIndex(denseV1(MiB, 4 * MiB, digests), 'old').toArray()).toEqual(digests);
  });

  it('rejects damage and out-of-order entries with MANIFEST_CORRUPT', () => {
    const m = new ChunkMap(MiB, 4 * MiB);
    m.append(0, d('a'));
    m.append(2, d('b'));
    const buf = encodeFixedIndex(m);
    const flipped = Buffer.from(buf);
    flipped[40]! ^= 1;
    const swapped = Buffer.from(buf.subarray(0, buf.length - 32));
    swapped.writeUInt32LE(3, 32); // first entry now after the second
    const resealed = Buffer.concat([swapped, createHash('sha256').update(swapped).digest()]);
    for (const bad of [flipped, resealed, buf.subarray(0, buf.length - 1)]) {
      expect(() => decodeFixedIndex(bad, 'x')).toThrow(AppError);
    }
  });
});

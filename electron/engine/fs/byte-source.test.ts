import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BufferSource, ChunkedDiskSource, isChunkedDisk, partsLength, readLeased, readParts, SliceSource, type ChunkedDisk } from './byte-source.js';
import { CachedSource } from './cached-source.js';
import { LruCache } from '../core/lru-cache.js';
import { NtfsStream } from './ntfs/ntfs-stream.js';

/** A chunked disk over a buffer that counts chunk loads (like the repository's snapshot disk). */
function chunkedDisk(bytes: Buffer, chunkSize: number): ChunkedDisk & { loads: number } {
  const d = {
    loads: 0,
    size: bytes.length,
    chunkSize,
    read: async (o: number, l: number) => Buffer.from(bytes.subarray(o, Math.min(bytes.length, o + l))),
    chunk: async (i: number) => {
      d.loads++;
      return bytes.subarray(i * chunkSize, Math.min(bytes.length, (i + 1) * chunkSize));
    },
  };
  return d;
}

describe('zero-copy reads (readParts)', () => {
  const bytes = randomBytes(5 * 65536 + 1234);

  it('a chunked disk returns views of its chunks that concatenate to exactly what read returns', async () => {
    const disk = chunkedDisk(bytes, 65536);
    expect(isChunkedDisk(disk)).toBe(true);
    expect(isChunkedDisk(new BufferSource(bytes))).toBe(false);
    const src = new CachedSource(new ChunkedDiskSource(disk), { bypassBytes: 1000 });
    for (const [o, l] of [
      [0, 65536],
      [100, 200_000],
      [65535, 2],
      [5 * 65536, 5000],
      [bytes.length - 10, 100],
      [bytes.length, 10],
    ]) {
      const parts = await readParts(src, o, l);
      expect(Buffer.concat(parts).equals(await src.read(o, l))).toBe(true);
      expect(Buffer.concat(parts).equals(bytes.subarray(o, Math.min(bytes.length, o + l)))).toBe(true);
    }
    // a bulk read shares memory with the chunks (no copy)
    const [first] = await readParts(src, 65536 + 10, 2000);
    expect(first.buffer).toBe(bytes.buffer);
  });

  it('an ntfs stream with sparse runs and a valid-data length reads the same through readParts and read', async () => {
    const cs = 4096;
    const vol = new SliceSource(new ChunkedDiskSource(chunkedDisk(bytes, 65536)), 4096, bytes.length - 4096);
    // vcn 0-9 at lcn 3, 10-14 sparse, 15-29 at lcn 40, then beyond the runlist
    const runs = [
      { vcn: 0, lcn: 3, length: 10 },
      { vcn: 10, lcn: -1, length: 5 },
      { vcn: 15, lcn: 40, length: 15 },
    ];
    const size = 33 * cs - 77;
    const stream = new NtfsStream(vol, cs, { runs, dataSize: size, initSize: 25 * cs + 100, compUnit: 0, compressed: false }, new LruCache(1 << 20), 't');
    for (const [o, l] of [
      [0, size],
      [5000, 50_000],
      [9 * cs + 1, 7 * cs],
      [25 * cs, 8192],
      [30 * cs, 1 << 20],
    ]) {
      const whole = await stream.read(o, l);
      expect(Buffer.concat(await stream.readParts(o, l)).equals(whole)).toBe(true);
    }
    const all = await stream.read(0, size);
    expect(all.subarray(0, 10 * cs).equals(bytes.subarray(4096 + 3 * cs, 4096 + 13 * cs))).toBe(true);
    expect(all.subarray(10 * cs, 15 * cs).every((b) => b === 0)).toBe(true);
    expect(all.subarray(25 * cs + 100).every((b) => b === 0)).toBe(true);
  });
});

/** A chunked disk with leases over a buffer: counts leases held, fails on chunk `bad`. */
function leasingDisk(bytes: Buffer, chunkSize: number, bad = -1): ChunkedDisk & { held: number; leased: number } {
  const d = Object.assign(chunkedDisk(bytes, chunkSize), {
    held: 0,
    leased: 0,
    chunkLease: async (i: number) => {
      await new Promise((r) => setTimeout(r, (i * 7) % 5));
      if (i === bad) throw new Error(`chunk ${i} is corrupt`);
      d.held++;
      d.leased++;
      let done = false;
      return {
        data: Buffer.from(bytes.subarray(i * chunkSize, Math.min(bytes.length, (i + 1) * chunkSize))),
        release: () => {
          if (!done) d.held--;
          done = true;
        },
      };
    },
  });
  return d;
}

describe('leased reads (readLeased)', () => {
  const bytes = randomBytes(9 * 65536 + 777);

  it('return the same bytes as read through slices, caches and ntfs streams, and release every lease', async () => {
    const disk = leasingDisk(bytes, 65536);
    const src = new CachedSource(new ChunkedDiskSource(disk), { bypassBytes: 1000 });
    for (const [o, l] of [
      [0, 65536],
      [100, 300_000],
      [65535, 2],
      [8 * 65536, 70_000],
      [bytes.length - 10, 100],
      [bytes.length, 10],
    ]) {
      const lease = await readLeased(src, o, l);
      expect(Buffer.concat(lease.parts).equals(bytes.subarray(o, Math.min(bytes.length, o + l)))).toBe(true);
      lease.release();
    }
    // a bulk plain read (≥ 2 MiB) is copied out of leases; a smaller one goes through the chunk cache
    const big = randomBytes(5 * 1048576 + 3);
    const bigDisk = leasingDisk(big, 262144);
    const bigSrc = new ChunkedDiskSource(bigDisk);
    expect((await bigSrc.read(3000, 3 * 1048576)).equals(big.subarray(3000, 3000 + 3 * 1048576))).toBe(true);
    expect(bigDisk.leased).toBe(13);
    expect((await bigSrc.read(3000, 1048576)).equals(big.subarray(3000, 3000 + 1048576))).toBe(true);
    expect(bigDisk.leased).toBe(13);
    expect(bigDisk.held).toBe(0);
    const cs = 4096;
    const vol = new SliceSource(new ChunkedDiskSource(disk), 4096, bytes.length - 4096);
    const runs = [
      { vcn: 0, lcn: 3, length: 20 },
      { vcn: 20, lcn: -1, length: 5 },
      { vcn: 25, lcn: 60, length: 40 },
    ];
    const size = 70 * cs - 5;
    const stream = new NtfsStream(vol, cs, { runs, dataSize: size, initSize: 60 * cs + 9, compUnit: 0, compressed: false }, new LruCache(1 << 20), 't');
    for (const [o, l] of [
      [0, size],
      [5000, 150_000],
      [19 * cs + 1, 7 * cs],
      [59 * cs, 8192],
    ]) {
      const lease = await stream.readLeased(o, l);
      expect(partsLength(lease.parts)).toBe(Math.min(l, size - o));
      expect(Buffer.concat(lease.parts).equals(Buffer.concat(await stream.readParts(o, l)))).toBe(true);
      lease.release();
      lease.release();
    }
    expect(disk.held).toBe(0);
  });

  it('a failing chunk rejects the read and gives back the chunks already leased', async () => {
    const disk = leasingDisk(bytes, 65536, 4);
    const src = new ChunkedDiskSource(disk);
    await expect(readLeased(src, 65536, 5 * 65536)).rejects.toThrow('chunk 4 is corrupt');
    const big = leasingDisk(randomBytes(3 * 1048576), 262144, 4);
    await expect(new ChunkedDiskSource(big).read(0, 3 * 1048576)).rejects.toThrow('chunk 4 is corrupt');
    expect(big.leased).toBeGreaterThan(0);
    expect(big.held).toBe(0);
    const vol = new SliceSource(src, 0, bytes.length);
    const stream = new NtfsStream(
      vol,
      4096,
      {
        runs: [
          { vcn: 0, lcn: 10, length: 30 },
          { vcn: 30, lcn: 50, length: 30 },
        ],
        dataSize: 60 * 4096,
        initSize: 60 * 4096,
        compUnit: 0,
        compressed: false,
      },
      new LruCache(1 << 20),
      's',
    );
    await expect(stream.readLeased(0, 60 * 4096)).rejects.toThrow('chunk 4 is corrupt');
    expect(disk.leased).toBeGreaterThan(0);
    expect(disk.held).toBe(0);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkedDiskSource, partsLength } from '../../electron/engine/fs/byte-source.js';
import type { VirtualDisk } from '../../electron/engine/disk/virtual-disk.js';
import { isAppError } from '../../shared/errors/app-error.js';
import { RepoLayout } from '../../electron/engine/repository/layout.js';
import { initRepository, type Repository } from '../../electron/engine/repository/repository.js';
import { allSlotsFree } from '../helpers/lease-slots.js';

const MiB = 1024 * 1024;
const CHUNKS = 40;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let repo: Repository;
let image: Buffer;
let snapId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ts-lease-'));
  repo = await initRepository(join(dir, 'repo'), { workers: 2 });
  // 40 chunks: random data, one zero chunk (index 7), a short last chunk
  image = Buffer.concat([randomBytes(7 * MiB), Buffer.alloc(MiB), randomBytes((CHUNKS - 9) * MiB), randomBytes(300_001)]);
  const disk: VirtualDisk = {
    size: image.length,
    format: 'raw',
    chain: [{ path: 'memory', format: 'raw' }],
    read: async (o, l) => Buffer.from(image.subarray(o, Math.min(image.length, o + l))),
    extents: async (o = 0, l = image.length - o) => [{ offset: o, length: Math.min(l, image.length - o), kind: 'data' }],
    close: async () => {},
  };
  snapId = (await repo.createSnapshot({ guest: 'g', consistency: 'crash', disks: [{ name: 'disk', disk, sourceFormat: 'raw' }] })).id;
}, 60_000);

afterAll(async () => {
  await repo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('chunk leases of a snapshot disk', () => {
  it('return the bytes of read() and of the source, share concurrent loads of a chunk, and give every slot back', async () => {
    const disk = await repo.openSnapshotDisk(snapId, 'disk');
    try {
      // a sequential reader gets the next 3 chunks loaded ahead into slots
      const l0 = await disk.chunkLease(0);
      const l1 = await disk.chunkLease(1);
      expect(disk.leaseStats).toMatchObject({ outstanding: 2, slotsInUse: 5 });
      l0.release();
      l1.release();
      const l2 = await disk.chunkLease(2); // claims the read-ahead of chunk 2
      expect(l2.data.equals(image.subarray(2 * MiB, 3 * MiB))).toBe(true);
      disk.dropReadAhead();
      expect(disk.leaseStats.outstanding).toBe(1);
      l2.release();
      // two leases of one chunk at once: one load, one page-aligned slot
      const [a, b] = await Promise.all([disk.chunkLease(20), disk.chunkLease(20)]);
      expect(a.data.buffer).toBe(b.data.buffer);
      expect(a.data.byteOffset).toBe(b.data.byteOffset);
      expect(a.data.byteOffset % 4096).toBe(0);
      expect(disk.leaseStats.outstanding).toBe(2);
      a.release();
      expect(b.data.equals(image.subarray(20 * MiB, 21 * MiB))).toBe(true);
      b.release();
      expect(disk.leaseStats.outstanding).toBe(0);
      // every chunk, leased before the plain read caches it
      for (let i = 0; i < CHUNKS; i++) {
        const l = await disk.chunkLease(i);
        const want = image.subarray(i * MiB, Math.min(image.length, (i + 1) * MiB));
        expect(l.data.equals(want)).toBe(true);
        expect(l.data.equals(await disk.read(i * MiB, MiB))).toBe(true);
        l.release();
        l.release(); // a second release is ignored
      }
      disk.dropReadAhead();
      await allSlotsFree(disk);
    } finally {
      await disk.close();
    }
  });

  it('more leases at once than the pool has slots load into their own buffers instead of waiting', async () => {
    const disk = await repo.openSnapshotDisk(snapId, 'disk');
    try {
      const all = await Promise.all(Array.from({ length: 2 * CHUNKS }, (_, k) => disk.chunkLease(k % CHUNKS)));
      const s = disk.leaseStats;
      expect(s.outstanding).toBe(2 * (CHUNKS - 1)); // the zero chunk is a shared buffer, not a lease
      expect(s.slotsInUse).toBeLessThanOrEqual(16);
      expect(s.poolFree! + s.slotsInUse).toBe(s.poolSlots);
      all.forEach((l, k) => {
        const i = k % CHUNKS;
        expect(l.data.equals(image.subarray(i * MiB, Math.min(image.length, (i + 1) * MiB)))).toBe(true);
      });
      for (const l of all) l.release();
      expect(disk.leaseStats.outstanding).toBe(0);
      disk.dropReadAhead();
      await allSlotsFree(disk);
    } finally {
      await disk.close();
    }
  });

  it('a leased read over a corrupt or missing chunk fails naming the chunk, and nothing stays leased', async () => {
    const layout = new RepoLayout(join(dir, 'repo'));
    const digest = (i: number) => sha(image.subarray(i * MiB, (i + 1) * MiB));
    const corrupt = layout.chunk(digest(12));
    const missing = layout.chunk(digest(30));
    const keepCorrupt = readFileSync(corrupt);
    const keepMissing = readFileSync(missing);
    const disk = await repo.openSnapshotDisk(snapId, 'disk');
    const src = new ChunkedDiskSource(disk);
    try {
      const bad = Buffer.from(keepCorrupt);
      bad[bad.length >> 1] ^= 0x5a;
      writeFileSync(corrupt, bad);
      unlinkSync(missing);
      // a sequential reader (with read-ahead running into the bad chunk) up to the bad chunk
      for (let i = 8; i < 12; i++) (await disk.chunkLease(i)).release();
      const e1 = await disk.chunkLease(12).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAppError(e1) && e1.code).toBe('CHUNK_CORRUPT');
      expect((e1 as Error).message).toContain(digest(12));
      expect((e1 as Error).message).toContain(snapId);
      // a window over good chunks and the bad one: rejected, the good chunks' leases given back
      const e2 = await src.readLeased(10 * MiB + 5, 4 * MiB).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAppError(e2) && e2.code).toBe('CHUNK_CORRUPT');
      const e3 = await src.readLeased(29 * MiB, 2 * MiB).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAppError(e3) && e3.code).toBe('CHUNK_MISSING');
      expect((e3 as Error).message).toContain(digest(30));
      expect(disk.leaseStats.outstanding).toBe(0);
      disk.dropReadAhead();
      await allSlotsFree(disk);
      // the disk still serves the good chunks; a window over a zero chunk reads zeros
      const ok = await src.readLeased(6 * MiB + 100, MiB + 50);
      expect(partsLength(ok.parts)).toBe(MiB + 50);
      expect(Buffer.concat(ok.parts).equals(image.subarray(6 * MiB + 100, 7 * MiB + 150))).toBe(true);
      ok.release();
      // the plain read reports the same damage
      await expect(disk.read(12 * MiB, 10)).rejects.toMatchObject({ code: 'CHUNK_CORRUPT' });
    } finally {
      writeFileSync(corrupt, keepCorrupt);
      writeFileSync(missing, keepMissing);
      await disk.close();
    }
  });

  it('refuses leases once closed and closes its own worker pool', async () => {
    const disk = await repo.openSnapshotDisk(snapId, 'disk');
    (await disk.chunkLease(0)).release();
    expect(disk.leaseStats.poolSlots).toBeGreaterThan(0);
    await disk.close();
    expect(disk.leaseStats.poolSlots).toBeUndefined();
    await expect(disk.chunkLease(1)).rejects.toThrow(/closed/);
  });
});

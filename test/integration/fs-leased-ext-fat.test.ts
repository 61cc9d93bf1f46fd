/**
 * ext and FAT/exFAT file data through leased chunk slots. An ext4 volume (extents, a sparse file
 * with holes, a file ending in a hole), an ext2 volume (block maps) and a FAT32 volume (a
 * fragmented cluster chain) are made with mkfs + mtools and backed up into a repository. The
 * leased read, the restore written from leases and the plain (copying) read must all match the
 * independent oracle (debugfs `dump`, mtools `mcopy`), and every slot must come back to the pool.
 * exFAT shares the FAT stream reader; its valid-data-length tail is checked on an in-memory run.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferSource, partsLength } from '../../electron/engine/fs/byte-source.js';
import { ClusterStream } from '../../electron/engine/fs/fat/fat-table.js';
import { restoreFiles } from '../../electron/engine/fs/restore-files.js';
import { SnapshotBrowser } from '../../electron/engine/fs/snapshot-browser.js';
import type { Repository } from '../../electron/engine/repository/repository.js';
import { REPO_KINDS, initTestRepository } from '../helpers/test-repository.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';
import { allSlotsFree } from '../helpers/lease-slots.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let repo: Repository;
const snaps: Record<string, string> = {};
const imgs: Record<string, string> = {};

/** A sparse file: data, a hole, data, a hole to the end (and an odd size). */
function writeSparse(path: string): void {
  writeFileSync(path, randomBytes(MiB + 123));
  execFileSync('dd', ['if=/dev/urandom', `of=${path}`, 'bs=4096', 'count=400', 'seek=1024', 'conv=notrunc'], { stdio: 'ignore' });
  execFileSync('truncate', ['-s', String(9 * MiB + 777), path]);
}

async function backUp(name: string, img: string): Promise<void> {
  const disk = await RawFileDisk.open(img);
  snaps[name] = (await repo.createSnapshot({ guest: name, consistency: 'crash', disks: [{ name: 'disk0', disk, sourceFormat: 'raw' }] })).id;
  await disk.close();
  imgs[name] = img;
}

// every test runs on a plain and on an encrypted repository
describe.each(REPO_KINDS)('%s repository', (kind) => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ts-lease-extfat-'));
    const src = join(dir, 'src');
    mkdirSync(src);
    writeSparse(join(src, 'holes.bin'));
    writeFileSync(join(src, 'plain.bin'), randomBytes(5 * MiB + 4095));
    repo = await initTestRepository(join(dir, 'repo'), kind, { workers: 2 });
    for (const [name, mkfs] of [
      ['ext4', 'mkfs.ext4'],
      ['ext2', 'mkfs.ext2'],
    ] as const) {
      const img = join(dir, `${name}.img`);
      execFileSync(mkfs, ['-q', '-F', '-b', '4096', '-d', src, img, '48M'], { stdio: 'ignore' });
      await backUp(name, img);
    }
    // FAT32 with a fragmented file: a gap left by a deleted file is filled first
    const fat = join(dir, 'fat.img');
    execFileSync('mkfs.vfat', ['-F', '32', '-C', fat, String(64 * 1024)], { stdio: 'ignore' });
    writeFileSync(join(dir, 'a.bin'), randomBytes(300_000));
    writeFileSync(join(dir, 'b.bin'), randomBytes(2 * MiB));
    writeFileSync(join(dir, 'frag.bin'), randomBytes(7 * MiB + 1001));
    for (const f of ['a.bin', 'b.bin']) execFileSync('mcopy', ['-i', fat, join(dir, f), `::${f}`]);
    execFileSync('mdel', ['-i', fat, '::a.bin']);
    execFileSync('mcopy', ['-i', fat, join(dir, 'frag.bin'), '::frag.bin']);
    await backUp('fat', fat);
  }, 120_000);

  afterAll(async () => {
    await repo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The file as the independent tool reads it from the image. */
  function oracle(fs: string, name: string): Buffer {
    const out = join(dir, `oracle-${fs}-${name}`);
    if (fs === 'fat') execFileSync('mcopy', ['-o', '-i', imgs[fs], `::${name}`, out]);
    else execFileSync('debugfs', ['-R', `dump /${name} ${out}`, imgs[fs]], { stdio: 'ignore' });
    return readFileSync(out);
  }

  const CASES: [string, string[]][] = [
    ['ext4', ['holes.bin', 'plain.bin']],
    ['ext2', ['holes.bin', 'plain.bin']],
    ['fat', ['frag.bin', 'b.bin']],
  ];

  describe('ext and FAT file data through leased chunk slots', () => {
    it.each(CASES)('%s: leased reads and restores match the oracle and the plain read; every slot comes back', async (fs, names) => {
      const disk = await repo.openSnapshotDisk(snaps[fs], 'disk0', { cacheChunks: 4 });
      const browser = new SnapshotBrowser([{ name: 'disk0', disk }], { blockCacheBytes: 4 * MiB });
      const plainDisk = { size: disk.size, chunkSize: disk.chunkSize, read: (o: number, l: number) => disk.read(o, l), chunk: (i: number) => disk.chunk(i) };
      const plainBrowser = new SnapshotBrowser([{ name: 'disk0', disk: plainDisk }], { blockCacheBytes: 4 * MiB });
      try {
        const to = join(dir, `out-${fs}`);
        const res = await restoreFiles(
          browser,
          names.map((n) => `disk0/p0/${n}`),
          to,
          { chunkBytes: 1536 * 1024 + 512 },
        );
        expect(res.skipped).toEqual([]);
        expect(res.restored).toBe(names.length);
        for (const name of names) {
          const want = oracle(fs, name);
          if (name === 'holes.bin') {
            expect(want.length).toBe(9 * MiB + 777);
            expect(want.subarray(2 * MiB, 4 * MiB).every((b) => b === 0)).toBe(true);
          }
          const { content: c } = await browser.open(`disk0/p0/${name}`);
          expect(typeof c.readLeased).toBe('function');
          const restored = readFileSync(join(to, name));
          expect(sha(restored)).toBe(sha(want));
          // direct leased reads at odd windows (crossing runs, holes and chunk boundaries)
          for (const [o, l] of [
            [0, c.size],
            [MiB - 5, 3 * MiB + 11],
            [c.size - 4097, 9000],
          ]) {
            const lease = await c.readLeased!(o, l);
            const n = Math.max(0, Math.min(l, c.size - o));
            expect(partsLength(lease.parts)).toBe(n);
            expect(Buffer.concat(lease.parts).equals(want.subarray(o, o + n))).toBe(true);
            lease.release();
          }
          // readParts and the plain copying read: the same bytes
          expect(Buffer.concat(await c.readParts!(123, c.size)).equals(want.subarray(123))).toBe(true);
          const { content: p } = await plainBrowser.open(`disk0/p0/${name}`);
          expect(sha(await p.read(0, p.size))).toBe(sha(want));
        }
        expect(disk.leaseStats.poolSlots).toBeGreaterThan(0); // the leased path was taken
        expect(disk.leaseStats.outstanding).toBe(0);
        disk.dropReadAhead();
        await allSlotsFree(disk);
      } finally {
        await disk.close();
      }
    });

    it('exFAT-style valid data length: the tail reads as zeros on every path, and a short chain fails before any lease', async () => {
      const vol = randomBytes(64 * 1024);
      // heap at 4096, 1 KiB clusters; runs 5..7 then 2..3 (file bytes 0..5119), valid 3000 of 5000
      const runs = [
        { cluster: 5, count: 3 },
        { cluster: 2, count: 2 },
      ];
      const s = new ClusterStream(new BufferSource(vol), 4096, 1024, runs, 5000, 3000);
      const want = Buffer.concat([vol.subarray(4096 + 3 * 1024, 4096 + 6 * 1024), vol.subarray(4096, 4096 + 2 * 1024)]).subarray(0, 5000);
      want.fill(0, 3000);
      for (const [o, l] of [
        [0, 5000],
        [1000, 2500],
        [2999, 10],
        [3500, 9999],
      ]) {
        const n = Math.min(l, 5000 - o);
        expect((await s.read(o, l)).equals(want.subarray(o, o + n))).toBe(true);
        expect(Buffer.concat(await s.readParts(o, l)).equals(want.subarray(o, o + n))).toBe(true);
        const lease = await s.readLeased(o, l);
        expect(Buffer.concat(lease.parts).equals(want.subarray(o, o + n))).toBe(true);
        lease.release();
      }
      const short = new ClusterStream(new BufferSource(vol), 4096, 1024, [{ cluster: 5, count: 1 }], 5000, 5000);
      await expect(short.readLeased(0, 5000)).rejects.toMatchObject({ code: 'FS_CORRUPT' });
      await expect(short.read(0, 5000)).rejects.toMatchObject({ code: 'FS_CORRUPT' });
    });
  });
});

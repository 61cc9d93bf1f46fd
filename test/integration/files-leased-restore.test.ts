/**
 * File restore from a repository snapshot through leased chunk slots (loaded and verified on the
 * worker threads, written straight to the target file). An NTFS volume made by mkntfs + ntfscp
 * is backed up; restored files must match The Sleuth Kit's `icat` on the image and the plain
 * (copying) read, every lease must be released, and a damaged chunk in the middle of a file
 * must fail that file with CHUNK_CORRUPT naming the chunk while the other files still restore.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreFiles } from '../../electron/engine/fs/restore-files.js';
import { SnapshotBrowser } from '../../electron/engine/fs/snapshot-browser.js';
import type { Repository } from '../../electron/engine/repository/repository.js';
import { REPO_KINDS, initTestRepository } from '../helpers/test-repository.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';
import { allSlotsFree } from '../helpers/lease-slots.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FILES: Record<string, number> = { 'big.bin': 21 * MiB + 4321, 'mid.bin': 3 * MiB + 17, 'small.bin': 700_000 };

let dir: string;
let img: string;
let repo: Repository;
let snapId: string;
const content: Record<string, Buffer> = {};

/** `icat` of a file of the image (The Sleuth Kit reads NTFS on its own). */
function icat(name: string): Buffer {
  const line = execFileSync('fls', [img])
    .toString()
    .split('\n')
    .find((l) => l.endsWith(`\t${name}`))!;
  const inode = /\s(\d+-\d+-\d+):/.exec(line)![1];
  return execFileSync('icat', [img, inode], { maxBuffer: 64 * MiB });
}

// every test runs on a plain and on an encrypted repository
describe.each(REPO_KINDS)('%s repository', (kind) => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ts-files-lease-'));
    img = join(dir, 'ntfs.img');
    execFileSync('truncate', ['-s', '64M', img]);
    execFileSync('mkntfs', ['-q', '-F', '-Q', '-c', '4096', img], { stdio: 'ignore' });
    for (const [name, size] of Object.entries(FILES)) {
      content[name] = randomBytes(size);
      writeFileSync(join(dir, name), content[name]);
      execFileSync('ntfscp', [img, join(dir, name), name], { stdio: 'ignore' });
    }
    repo = await initTestRepository(join(dir, 'repo'), kind, { workers: 2 });
    const disk = await RawFileDisk.open(img);
    snapId = (await repo.createSnapshot({ guest: 'g', consistency: 'crash', disks: [{ name: 'disk0', disk, sourceFormat: 'raw' }] })).id;
    await disk.close();
  }, 60_000);

  afterAll(async () => {
    await repo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('restoring files through leased chunk slots', () => {
    it('writes the bytes icat and the plain read see, and releases every slot', async () => {
      const disk = await repo.openSnapshotDisk(snapId, 'disk0', { cacheChunks: 4 });
      const browser = new SnapshotBrowser([{ name: 'disk0', disk }], { blockCacheBytes: 4 * MiB });
      const plainDisk = { size: disk.size, chunkSize: disk.chunkSize, read: (o: number, l: number) => disk.read(o, l), chunk: (i: number) => disk.chunk(i) };
      const plainBrowser = new SnapshotBrowser([{ name: 'disk0', disk: plainDisk }], { blockCacheBytes: 4 * MiB });
      try {
        // browsing (metadata reads through the chunk cache) starts no worker pool
        expect((await browser.list('disk0/p0')).entries.map((e) => e.name)).toEqual(expect.arrayContaining(Object.keys(FILES)));
        expect(disk.leaseStats.poolSlots).toBeUndefined();
        const to = join(dir, 'out1');
        const res = await restoreFiles(
          browser,
          Object.keys(FILES).map((n) => `disk0/p0/${n}`),
          to,
        );
        expect(res.skipped).toEqual([]);
        expect(res.restored).toBe(3);
        for (const name of Object.keys(FILES)) {
          const got = readFileSync(join(to, name));
          expect(got.length).toBe(FILES[name]);
          expect(sha(got)).toBe(sha(icat(name)));
          expect(sha(got)).toBe(sha(content[name]));
          const { content: c } = await browser.open(`disk0/p0/${name}`);
          expect(sha(await c.read(0, c.size))).toBe(sha(got));
          // the plain path: the same disk without leases (chunk cache, loaded on this thread)
          const { content: p } = await plainBrowser.open(`disk0/p0/${name}`);
          expect(sha(await p.read(0, p.size))).toBe(sha(got));
        }
        const toPlain = join(dir, 'out-plain');
        await restoreFiles(plainBrowser, ['disk0/p0/big.bin'], toPlain);
        expect(readFileSync(join(toPlain, 'big.bin')).equals(readFileSync(join(to, 'big.bin')))).toBe(true);
        // a small restore window: many leases per chunk, windows sharing boundary chunks
        const to2 = join(dir, 'out2');
        await restoreFiles(browser, ['disk0/p0/big.bin'], to2, { chunkBytes: 1536 * 1024 + 512 });
        expect(sha(readFileSync(join(to2, 'big.bin')))).toBe(sha(content['big.bin']));
        expect(disk.leaseStats.outstanding).toBe(0);
        disk.dropReadAhead();
        await allSlotsFree(disk);
      } finally {
        await disk.close();
      }
    });

    it('a damaged chunk in the middle of a file fails that file naming the chunk; nothing stays leased', async () => {
      const whole = readFileSync(img);
      // the disk chunk holding the big file's byte at 10 MiB (found by its random content)
      const at = whole.indexOf(content['big.bin'].subarray(10 * MiB, 10 * MiB + 64));
      expect(at).toBeGreaterThan(0);
      const i = Math.floor(at / MiB);
      const plain = whole.subarray(i * MiB, (i + 1) * MiB);
      const digest = repo.layout.keys?.chunkName(plain) ?? sha(plain);
      const file = repo.layout.chunk(digest);
      const keep = readFileSync(file);
      const bad = Buffer.from(keep);
      bad[bad.length - 100] ^= 0x5a;
      writeFileSync(file, bad);
      const disk = await repo.openSnapshotDisk(snapId, 'disk0', { cacheChunks: 4 });
      const browser = new SnapshotBrowser([{ name: 'disk0', disk }], { blockCacheBytes: 4 * MiB });
      try {
        const to = join(dir, 'out3');
        const res = await restoreFiles(browser, ['disk0/p0/big.bin', 'disk0/p0/mid.bin'], to);
        expect(res.restored).toBe(1);
        expect(res.failed).toHaveLength(1);
        expect(res.failed[0].path).toBe('disk0/p0/big.bin');
        expect(res.failed[0].reason).toContain(`chunk ${digest} is corrupt`);
        expect(sha(readFileSync(join(to, 'mid.bin')))).toBe(sha(content['mid.bin']));
        // the damaged file is not left half-written under its name (it was written to a temporary file, removed)
        expect(readdirSync(to)).toEqual(['mid.bin']);
        expect(disk.leaseStats.outstanding).toBe(0);
        disk.dropReadAhead();
        await allSlotsFree(disk);
        // the plain read fails the same way
        const { content: c } = await browser.open('disk0/p0/big.bin');
        await expect(c.read(9 * MiB, 2 * MiB)).rejects.toMatchObject({ code: 'CHUNK_CORRUPT' });
        expect(statSync(join(to, 'mid.bin')).size).toBe(FILES['mid.bin']);
      } finally {
        writeFileSync(file, keep);
        await disk.close();
      }
    });
  });
});

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Repository } from '../../electron/engine/repository/repository.js';
import { REPO_KINDS, initTestRepository, openTestRepository } from '../helpers/test-repository.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';
import { nameGuestId } from '../../shared/domain/guest-id.js';

const MiB = 1024 * 1024;
let dir: string;
let repo: Repository;
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** A 9.5 MiB image: random, zeros, repeated content, random tail (not chunk aligned). */
function makeImage(path: string): void {
  const a = randomBytes(3 * MiB);
  const img = Buffer.concat([a, Buffer.alloc(3 * MiB), a.subarray(0, MiB), Buffer.from('x'.repeat(MiB)), randomBytes(MiB + MiB / 2)]);
  writeFileSync(path, img);
}

async function backup(img: string, guest = 'web', zeroRanges: { offset: number; length: number }[] = []) {
  const disk = await RawFileDisk.open(img, zeroRanges);
  try {
    return await repo.createSnapshot({
      guest,
      consistency: 'cold',
      configFiles: [{ name: 'web.vmx', data: 'scsi0:0.fileName = "disk.vmdk"\n' }],
      disks: [{ name: 'disk0', disk, sourceFormat: 'raw', fileName: 'disk0.img' }],
    });
  } finally {
    await disk.close();
  }
}

// every test runs on a plain and on an encrypted repository
describe.each(REPO_KINDS)('%s repository', (kind) => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ts-repo-'));
    repo = await initTestRepository(join(dir, 'repo'), kind, { workers: 2 });
  });
  afterAll(async () => {
    await repo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('repository', () => {
    it('backs up, lists, and exports a disk byte-identical to the source (sha256 + qemu-img compare)', async () => {
      const img = join(dir, 'a.img');
      makeImage(img);
      const s = await backup(img);
      expect(s).toMatchObject({ guest: 'web', consistency: 'cold', disks: [{ name: 'disk0', size: 9.5 * MiB }] });
      expect((await repo.listSnapshots()).map((x) => x.id)).toEqual([s.id]);
      const out = join(dir, 'a.out.img');
      await repo.exportDisk(s.id, 'disk0', { format: 'raw', to: out });
      expect(sha(out)).toBe(sha(img));
      execFileSync('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', img, out]);
    });

    it('stores zero chunks and repeated chunks once', async () => {
      const chunks = () => readdirSync(join(dir, 'repo', 'chunks'), { recursive: true }).filter((f) => /[0-9a-f]{64}$/.test(String(f))).length;
      const before = chunks();
      const img = join(dir, 'a.img');
      const s2 = await backup(img, 'web');
      expect(chunks()).toBe(before);
      expect(s2.newBytes).toBe(0);
      const m = await repo.readManifest(s2.id);
      expect(m.disks[0]).toMatchObject({ chunks: 10, zeroChunks: 3 });
    });

    it('skips ranges the disk reports as unallocated without reading them', async () => {
      const img = join(dir, 'b.img');
      writeFileSync(img, randomBytes(4 * MiB));
      const s = await backup(img, 'sparse', [{ offset: MiB, length: 2 * MiB }]);
      const m = await repo.readManifest(s.id);
      expect(m.disks[0]).toMatchObject({ zeroChunks: 2, dataBytes: 2 * MiB });
      const out = join(dir, 'b.out');
      await repo.exportDisk(s.id, 'disk0', { format: 'raw', to: out });
      const got = readFileSync(out);
      expect(got.subarray(MiB, 3 * MiB).equals(Buffer.alloc(2 * MiB))).toBe(true);
      expect(got.subarray(0, MiB).equals(readFileSync(img).subarray(0, MiB))).toBe(true);
    });

    it.each(['qcow2', 'vmdk', 'vhdx'] as const)('exports %s that qemu-img reads back as the same content', async (format) => {
      const [s] = await repo.listSnapshots({ guestIds: [nameGuestId('web')] });
      const out = join(dir, `a.${format}`);
      await repo.exportDisk(s!.id, 'disk0', { format, to: out });
      expect(JSON.parse(execFileSync('qemu-img', ['info', '--output=json', out], { encoding: 'utf8' })).format).toBe(format);
      execFileSync('qemu-img', ['compare', '-F', 'raw', out, join(dir, 'a.img')]);
    });

    it('serves random reads through openSnapshotDisk', async () => {
      const [s] = await repo.listSnapshots({ guestIds: [nameGuestId('web')] });
      const disk = await repo.openSnapshotDisk(s!.id, 'disk0', { cacheChunks: 2 });
      const src = readFileSync(join(dir, 'a.img'));
      for (const [o, l] of [
        [0, 10],
        [MiB - 5, 10],
        [2 * MiB + 100, 3 * MiB],
        [9.5 * MiB - 3, 100],
      ] as const) {
        expect((await disk.read(o, l)).equals(src.subarray(o, Math.min(o + l, src.length)))).toBe(true);
      }
      expect((await disk.extents()).map((e) => e.kind)).toEqual(['data', 'zero', 'data']);
      await disk.close();
    });

    it('restores the VM folder with config files and disks under their file names', async () => {
      const [s] = await repo.listSnapshots({ guestIds: [nameGuestId('web')] });
      const to = join(dir, 'restored');
      const r = await repo.restoreSnapshot(s!.id, { to });
      expect(r.files.sort()).toEqual(['disk0.img', 'web.vmx']);
      expect(sha(join(to, 'disk0.img'))).toBe(sha(join(dir, 'a.img')));
      expect(readFileSync(join(to, 'web.vmx'), 'utf8')).toContain('scsi0:0');
      await expect(repo.restoreSnapshot(s!.id, { to })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    });

    it('forgets by retention, then GC frees exactly the unreferenced chunks and verify --full passes', async () => {
      const img = join(dir, 'c.img');
      writeFileSync(img, randomBytes(2 * MiB));
      await backup(img, 'db');
      const fd = openSync(img, 'r+');
      writeSync(fd, randomBytes(MiB), 0, MiB, 0);
      closeSync(fd);
      await backup(img, 'db');
      const plan = await repo.previewRetention({ guestId: nameGuestId('db'), guest: 'db' }, { keepLast: 1 });
      expect(plan.decisions.map((d) => d.keep)).toEqual([true, false]);
      expect(plan.freedBytes).toBeGreaterThan(MiB);
      // the forgotten snapshot alone owns exactly the one chunk the second backup replaced
      expect((plan.decisions[1] as { freedBytes?: number }).freedBytes).toBe(plan.freedBytes);
      const applied = await repo.applyRetention({ guestId: nameGuestId('db'), guest: 'db' }, { keepLast: 1 });
      expect(applied.forgetCount).toBe(1);
      const gc = await repo.gc({ graceMs: 0 });
      // grace is clamped to 2 s, so fresh chunks survive this immediate GC
      expect(gc.removedChunks).toBe(0);
      const repo2 = await openTestRepository(join(dir, 'repo'), { clock: { now: () => Date.now() + 3600_000, monotonic: () => 0, sleep: async () => {} } });
      const gc2 = await repo2.gc({ graceMs: 60_000 });
      expect(gc2.removedChunks).toBe(1);
      expect(gc2.freedBytes).toBe(plan.freedBytes);
      await repo2.close();
      const v = await repo.verify({ full: true });
      expect(v).toMatchObject({ ok: true, damaged: [] });
      const last = (await repo.listSnapshots({ guestIds: [nameGuestId('db')] }))[0]!;
      const out = join(dir, 'c.out');
      await repo.exportDisk(last.id, 'disk0', { format: 'raw', to: out });
      expect(sha(out)).toBe(sha(img));
    });

    it('refuses to open a folder without a repository', async () => {
      await expect(openTestRepository(join(dir, 'nope'))).rejects.toMatchObject({ code: 'REPO_NOT_FOUND' });
      expect(existsSync(join(dir, 'nope'))).toBe(false);
    });
  });

  describe('createSnapshot progress', () => {
    it('reports per-disk progress ending at each disk size, and snapshot totals', async () => {
      const f1 = join(dir, 'p1.img');
      const f2 = join(dir, 'p2.img');
      writeFileSync(f1, randomBytes(3 * MiB));
      writeFileSync(f2, Buffer.alloc(2 * MiB));
      const d1 = await RawFileDisk.open(f1);
      const d2 = await RawFileDisk.open(f2);
      const seen: { disk: string; bytesDone: number; bytesTotal: number; allDone: number; allTotal: number }[] = [];
      await repo.createSnapshot(
        {
          guest: 'p',
          consistency: 'crash',
          disks: [
            { name: 'a', disk: d1 },
            { name: 'b', disk: d2 },
          ],
        },
        { onProgress: (p) => seen.push(p) },
      );
      await d1.close();
      await d2.close();
      const lastOf = (n: string) => seen.filter((s) => s.disk === n).at(-1)!;
      expect(lastOf('a')).toMatchObject({ bytesDone: 3 * MiB, bytesTotal: 3 * MiB, allDone: 3 * MiB, allTotal: 5 * MiB });
      expect(lastOf('b')).toMatchObject({ bytesDone: 2 * MiB, bytesTotal: 2 * MiB, allDone: 5 * MiB, allTotal: 5 * MiB });
      expect(seen.every((s) => s.bytesDone <= s.bytesTotal)).toBe(true);
    });
  });

  describe('images through the disk layer', () => {
    it('archives vmdk + vhdx images and restores them in their own formats (qemu-img compare)', async () => {
      const { openDisk } = await import('../../electron/engine/disk/open-disk.js');
      const raw = join(dir, 'fmt.img');
      writeFileSync(raw, Buffer.concat([randomBytes(2 * MiB), Buffer.alloc(3 * MiB), randomBytes(MiB)]));
      const disks = [];
      for (const fmt of ['vmdk', 'vhdx'] as const) {
        const f = join(dir, `fmt.${fmt}`);
        execFileSync('qemu-img', ['convert', '-O', fmt, raw, f]);
        const disk = await openDisk(f);
        disks.push({ name: fmt, disk, sourceFormat: disk.format, fileName: `fmt.${fmt}` });
      }
      const s = await repo.createSnapshot({ guest: 'fmt', consistency: 'cold', disks });
      for (const d of disks) await d.disk.close();
      const to = join(dir, 'fmt-restored');
      await repo.restoreSnapshot(s.id, { to });
      for (const fmt of ['vmdk', 'vhdx']) {
        expect(JSON.parse(execFileSync('qemu-img', ['info', '--output=json', join(to, `fmt.${fmt}`)], { encoding: 'utf8' })).format).toBe(fmt);
        execFileSync('qemu-img', ['compare', '-F', 'raw', join(to, `fmt.${fmt}`), raw]);
      }
    });
  });
});

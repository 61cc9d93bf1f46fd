import { createHash, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors/app-error.js';
import { openDisk } from '../../electron/engine/disk/open-disk.js';
import type { VirtualDisk } from '../../electron/engine/disk/virtual-disk.js';
import { diskFixtures, patternBytes, type DiskFixture } from '../fixtures/disk/disk-fixtures.js';
import { makeDifferencing, makeDirtyLog } from '../fixtures/disk/vhdx-craft.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

async function readAll(disk: VirtualDisk): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let at = 0; at < disk.size; at += 8 * MiB) parts.push(await disk.read(at, 8 * MiB));
  return Buffer.concat(parts);
}

function firstDiff(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return Math.min(a.length, b.length);
}

const sha = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

let fx: Record<string, DiskFixture>;
let dir: string;
beforeAll(async () => {
  fx = await diskFixtures();
  dir = await mkdtemp(join(tmpdir(), 'twinsnap-disk-craft-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vhdx with a dirty log', () => {
  it('replays the log in memory, ignores a corrupt entry and never writes the file', async () => {
    const f = fx['vhdx-dynamic-1m'];
    const dirty = join(dir, 'dirty.vhdx');
    await copyFile(f.path, dirty);
    const { edits } = await makeDirtyLog(dirty, { pageGuest: 5 * MiB + 8192, zeroGuest: 6 * MiB + 12288, zeroBlock: 33 });
    const expected = await readFile(f.oracle);
    for (const e of edits) e.bytes.copy(expected, e.guest);
    const before = await sha(dirty);
    const disk = await openDisk(dirty);
    const got = await readAll(disk);
    await disk.close();
    expect(firstDiff(got, expected)).toBe(-1);
    expect(await sha(dirty)).toBe(before);
    // qemu replays the log when it opens the file read-write (check -r all); its result must agree.
    const replayed = join(dir, 'dirty-qemu.vhdx');
    await copyFile(dirty, replayed);
    await run('qemu-img', ['check', '-r', 'all', '-f', 'vhdx', replayed]).catch(() => undefined);
    await run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', replayed, join(dir, 'replayed.raw')]);
    expect(firstDiff(await readFile(join(dir, 'replayed.raw')), expected)).toBe(-1);
  });
});

describe('differencing vhdx', () => {
  const build = async (name: string, linkage?: string) => {
    const d = join(dir, name);
    await mkdir(d, { recursive: true });
    await copyFile(fx['vhdx-dynamic-1m'].path, join(d, 'parent.vhdx'));
    const childRaw = join(d, 'child.raw');
    const fh = await open(childRaw, 'w');
    await fh.truncate(128 * MiB);
    for (const [block, seed] of [
      [1, 31],
      [5, 32],
      [6, 33],
      [40, 34],
    ])
      await fh.write(patternBytes(MiB, seed), 0, MiB, block * MiB);
    await fh.close();
    const child = join(d, 'child.avhdx');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic,block_size=1M', childRaw, child]);
    await makeDifferencing(child, join(d, 'parent.vhdx'), {
      partial: [
        {
          block: 5,
          sectors: [
            [0, 8],
            [100, 300],
            [2047, 2048],
          ],
        },
      ],
      zero: [6],
      linkage,
      relativePath: '.\\parent.vhdx',
      absolutePath: 'C:\\Hyper-V\\Virtual Hard Disks\\parent.vhdx',
    });
    const expected = await readFile(fx['vhdx-dynamic-1m'].oracle);
    const childBytes = await readFile(childRaw);
    childBytes.copy(expected, 1 * MiB, 1 * MiB, 2 * MiB);
    childBytes.copy(expected, 40 * MiB, 40 * MiB, 41 * MiB);
    expected.fill(0, 6 * MiB, 7 * MiB);
    for (const [from, to] of [
      [0, 8],
      [100, 300],
      [2047, 2048],
    ])
      childBytes.copy(expected, 5 * MiB + from * 512, 5 * MiB + from * 512, 5 * MiB + to * 512);
    return { child, parent: join(d, 'parent.vhdx'), expected };
  };

  it('reads present, partially present (sector bitmap), zero and absent blocks over its parent', async () => {
    const { child, expected } = await build('diff');
    const disk = await openDisk(child);
    try {
      expect({ format: disk.format, subformat: disk.subformat, chain: disk.chain.map((c) => c.path.split('/').pop()) }).toEqual({
        format: 'vhdx',
        subformat: 'differencing',
        chain: ['child.avhdx', 'parent.vhdx'],
      });
      expect(firstDiff(await readAll(disk), expected)).toBe(-1);
      expect(await disk.extents(6 * MiB, MiB)).toEqual([{ offset: 6 * MiB, length: MiB, kind: 'zero' }]);
      // Absent in the child, ZERO in the qemu-made parent.
      expect(await disk.extents(70 * MiB, MiB)).toEqual([{ offset: 70 * MiB, length: MiB, kind: 'zero' }]);
    } finally {
      await disk.close();
    }
  });

  it('refuses a parent whose DataWriteGuid does not match parent_linkage', async () => {
    const { child } = await build('mismatch', randomUUID().toUpperCase());
    const err = await openDisk(child).catch((e: unknown) => e);
    expect(isAppError(err, 'DISK_PARENT_MISMATCH')).toBe(true);
  });

  it('names the missing parent', async () => {
    const { child, parent } = await build('missing');
    await rm(parent);
    const err = await openDisk(child).catch((e: unknown) => e);
    expect(isAppError(err, 'DISK_PARENT_MISSING')).toBe(true);
    expect((err as Error).message).toContain('parent.vhdx');
  });
});

describe('differencing vhd', () => {
  it('reads sectors from the child where its bitmap says so and from the parent elsewhere', async () => {
    const d = join(dir, 'vhd-diff');
    await mkdir(d, { recursive: true });
    await copyFile(fx['vhd-dynamic'].path, join(d, 'parent.vhd'));
    const childRaw = join(d, 'child.raw');
    const fh = await open(childRaw, 'w');
    await fh.truncate(128 * MiB);
    await fh.write(patternBytes(2 * MiB, 51), 0, 2 * MiB, 0);
    await fh.write(patternBytes(2 * MiB, 52), 0, 2 * MiB, 40 * MiB);
    await fh.close();
    const child = join(d, 'child.vhd');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', childRaw, child]);
    const { makeVhdDifferencing } = await import('../fixtures/disk/vhd-craft.js');
    await makeVhdDifferencing(child, join(d, 'parent.vhd'), 'parent.vhd', [
      {
        block: 0,
        sectors: [
          [0, 1],
          [9, 1000],
        ],
      },
    ]);
    const expected = await readFile(fx['vhd-dynamic'].oracle);
    const childBytes = await readFile(childRaw);
    for (const [from, to] of [
      [0, 1],
      [9, 1000],
    ])
      childBytes.copy(expected, from * 512, from * 512, to * 512);
    childBytes.copy(expected, 40 * MiB, 40 * MiB, 42 * MiB); // block 20 keeps qemu's full bitmap
    const disk = await openDisk(child);
    try {
      expect({ subformat: disk.subformat, chain: disk.chain.length }).toEqual({ subformat: 'differencing', chain: 2 });
      expect(firstDiff(await readAll(disk), expected)).toBe(-1);
    } finally {
      await disk.close();
    }
  });
});

describe('qcow2 with a cluster beyond 2 GiB of file offset', () => {
  it('reads it where qemu-img does (offsets with bit 31 set are not sign-extended)', async () => {
    const img = join(dir, 'far.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', img, '64M']);
    await run('qemu-io', ['-c', 'write -P 0x5a 0 64k', img]);
    // move guest cluster 0 to file offset 3 GiB (a sparse file): rewrite its L2 entry, copy the data
    const far = 3 * 1024 * MiB;
    const fh = await open(img, 'r+');
    try {
      const hdr = Buffer.alloc(48);
      await fh.read(hdr, 0, 48, 0);
      const l1 = Buffer.alloc(8);
      await fh.read(l1, 0, 8, Number(hdr.readBigUInt64BE(40)));
      const l2Off = Number(l1.readBigUInt64BE(0) & 0x00fffffffffffe00n);
      const entry = Buffer.alloc(8);
      await fh.read(entry, 0, 8, l2Off);
      const data = Buffer.alloc(65536);
      await fh.read(data, 0, 65536, Number(entry.readBigUInt64BE(0) & 0x00fffffffffffe00n));
      await fh.write(data, 0, 65536, far);
      entry.writeBigUInt64BE((1n << 63n) | BigInt(far));
      await fh.write(entry, 0, 8, l2Off);
    } finally {
      await fh.close();
    }
    await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', img, join(dir, 'far.raw')]);
    const disk = await openDisk(img);
    try {
      const ours = await readAll(disk);
      const theirs = await readFile(join(dir, 'far.raw'));
      expect(theirs[0]).toBe(0x5a);
      expect(firstDiff(ours, theirs)).toBe(-1);
    } finally {
      await disk.close();
    }
  });
});

import { open } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectFormat, openDisk } from '../../electron/engine/disk/open-disk.js';
import { diskInfo } from '../../electron/engine/disk/disk-info.js';
import type { VirtualDisk } from '../../electron/engine/disk/virtual-disk.js';
import { diskFixtures, type DiskFixture } from '../fixtures/disk/disk-fixtures.js';

const CHUNK = 4 * 1024 * 1024;

/** Compares the whole disk with the oracle raw file chunk by chunk; returns the first differing offset or -1. */
export async function firstDifference(disk: VirtualDisk, oraclePath: string): Promise<number> {
  const fh = await open(oraclePath, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size !== disk.size) return Math.min(size, disk.size);
    const expected = Buffer.alloc(CHUNK);
    for (let at = 0; at < size; at += CHUNK) {
      const n = Math.min(CHUNK, size - at);
      await fh.read(expected, 0, n, at);
      const got = await disk.read(at, n);
      if (!got.equals(expected.subarray(0, n))) {
        for (let i = 0; i < n; i++) if (got[i] !== expected[i]) return at + i;
      }
    }
    return -1;
  } finally {
    await fh.close();
  }
}

let fx: Record<string, DiskFixture>;
beforeAll(async () => {
  fx = await diskFixtures();
});

const NAMES = [
  'vmdk-monolithicSparse',
  'vmdk-monolithicFlat',
  'vmdk-twoGbMaxExtentSparse',
  'vmdk-twoGbMaxExtentFlat',
  'vmdk-streamOptimized',
  'vmdk-stream-footer',
  'vmdk-delta-chain',
  'vhdx-dynamic-1m',
  'vhdx-dynamic-32m',
  'vhdx-fixed',
  'vhd-fixed',
  'vhd-dynamic',
  'qcow2-v2',
  'qcow2-compressed-backing',
  'qcow2-extended-l2-backing',
];

describe('reading qemu-made images', () => {
  it.each(NAMES)('%s reads byte for byte like qemu-img convert -O raw', async (name) => {
    const f = fx[name];
    const disk = await openDisk(f.path);
    try {
      expect({ format: disk.format, subformat: disk.subformat, chain: disk.chain.length }).toEqual({ format: f.format, subformat: f.subformat, chain: f.chainLength });
      expect(await firstDifference(disk, f.oracle)).toBe(-1);
    } finally {
      await disk.close();
    }
  });

  it.each(NAMES)('%s reports zero/unallocated extents only where qemu reads zeros', async (name) => {
    const f = fx[name];
    const disk = await openDisk(f.path);
    const fh = await open(f.oracle, 'r');
    try {
      const extents = await disk.extents();
      expect(extents.reduce((s, e) => s + e.length, 0)).toBe(disk.size);
      let at = 0;
      for (const e of extents) {
        expect(e.offset).toBe(at);
        at += e.length;
        if (e.kind === 'data') continue;
        const buf = Buffer.alloc(e.length);
        await fh.read(buf, 0, e.length, e.offset);
        expect(buf.equals(Buffer.alloc(e.length)), `${e.kind} extent at ${e.offset} holds data`).toBe(true);
      }
      // Sparse formats must not claim everything is data.
      if (!['vmdk-monolithicFlat', 'vmdk-twoGbMaxExtentFlat', 'vhd-fixed'].includes(name)) {
        expect(extents.filter((e) => e.kind === 'data').reduce((s, e) => s + e.length, 0)).toBeLessThan(disk.size);
      }
    } finally {
      await fh.close();
      await disk.close();
    }
  });

  it('detects formats by content, not by extension', async () => {
    expect(await detectFormat(fx['vhd-fixed'].path)).toBe('vhd');
    expect(await detectFormat(fx['vmdk-monolithicFlat'].path)).toBe('vmdk');
    expect(await detectFormat(fx['qcow2-v2'].path)).toBe('qcow2');
    expect(await detectFormat(fx['vhdx-fixed'].path)).toBe('vhdx');
    expect(await detectFormat(fx['vmdk-monolithicFlat'].oracle)).toBe('raw');
  });

  it('diskInfo lists the whole delta chain with allocated bytes', async () => {
    const info = await diskInfo(fx['vmdk-delta-chain'].path);
    expect(info.chain.map((c) => c.path.split('/').pop())).toEqual(['grandchild.vmdk', 'child.vmdk', 'base.vmdk']);
    expect(info.virtualSize).toBe(128 * 1024 * 1024);
    expect(info.allocatedBytes).toBeGreaterThan(0);
    expect(info.allocatedBytes).toBeLessThan(info.virtualSize);
  });

  it('partial reads at unaligned offsets match the oracle', async () => {
    const f = fx['vmdk-delta-chain'];
    const disk = await openDisk(f.path);
    const fh = await open(f.oracle, 'r');
    try {
      for (const [off, len] of [
        [1024 * 1024 - 7, 70_001],
        [5 * 1024 * 1024 - 100, 300_000],
        [128 * 1024 * 1024 - 10, 100],
        [0, 1],
      ]) {
        const got = await disk.read(off, len);
        const exp = Buffer.alloc(got.length);
        await fh.read(exp, 0, exp.length, off);
        expect(got.equals(exp)).toBe(true);
        expect(got.length).toBe(Math.min(len, disk.size - off));
      }
    } finally {
      await fh.close();
      await disk.close();
    }
  });
});

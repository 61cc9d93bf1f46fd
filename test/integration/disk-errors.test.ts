import { copyFile, mkdir, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors/app-error.js';
import type { ErrorCode } from '../../shared/errors/error-codes.js';
import { openDisk } from '../../electron/engine/disk/open-disk.js';
import { candidatePaths, LocalPathResolver } from '../../electron/engine/disk/path-resolver.js';
import { diskFixtures, type DiskFixture } from '../fixtures/disk/disk-fixtures.js';

let fx: Record<string, DiskFixture>;
let dir: string;
beforeAll(async () => {
  fx = await diskFixtures();
  dir = await mkdtemp(join(tmpdir(), 'twinsnap-disk-errors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens and reads the whole disk; resolves to the AppError it fails with. */
async function failure(path: string): Promise<AppError> {
  try {
    const d = await openDisk(path);
    try {
      for (let at = 0; at < d.size; at += 8 * 1024 * 1024) await d.read(at, 8 * 1024 * 1024);
    } finally {
      await d.close();
    }
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error(`${path} opened and read without an error`);
}

async function patch(src: string, name: string, edits: [number, Buffer][]): Promise<string> {
  const p = join(dir, name);
  await copyFile(src, p);
  const fh = await open(p, 'r+');
  for (const [off, b] of edits) await fh.write(b, 0, b.length, off);
  await fh.close();
  return p;
}

const u32le = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64le = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};
const u64be = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};

function expectError(e: AppError, code: ErrorCode, ...mentions: string[]): void {
  expect(e.code, e.message).toBe(code);
  for (const m of mentions) expect(e.message).toContain(m);
}

const descriptor = (cid: string, parentCid: string, parent: string | undefined, extent: string) =>
  [
    '# Disk DescriptorFile',
    'version=1',
    `CID=${cid}`,
    `parentCID=${parentCid}`,
    'createType="monolithicFlat"',
    ...(parent ? [`parentFileNameHint="${parent}"`] : []),
    `RW 2048 FLAT "${extent}" 0`,
    '',
  ].join('\r\n');

describe('bad input gives typed errors naming the file and structure', () => {
  it('a truncated sparse vmdk fails with DISK_CORRUPT naming the grain table', async () => {
    const p = join(dir, 'truncated.vmdk');
    await copyFile(fx['vmdk-monolithicSparse'].path, p);
    await truncate(p, 2 * 1024 * 1024);
    expectError(await failure(p), 'DISK_CORRUPT', p, 'grain');
  });

  it('a file cut inside its header fails with DISK_CORRUPT', async () => {
    for (const name of ['vhdx-dynamic-1m', 'qcow2-v2', 'vmdk-streamOptimized']) {
      const p = join(dir, `cut-${name}`);
      await copyFile(fx[name].path, p);
      await truncate(p, 200);
      expectError(await failure(p), 'DISK_CORRUPT', p);
    }
  });

  it('a container extension without a known signature is DISK_FORMAT_UNKNOWN', async () => {
    const p = join(dir, 'garbage.vhdx');
    await writeFile(p, Buffer.alloc(70_000, 0x41));
    expectError(await failure(p), 'DISK_FORMAT_UNKNOWN', p);
  });

  it('vhdx headers with bad checksums are DISK_CORRUPT', async () => {
    const p = await patch(fx['vhdx-dynamic-1m'].path, 'badheaders.vhdx', [
      [64 * 1024 + 100, Buffer.from([1, 2, 3])],
      [128 * 1024 + 100, Buffer.from([1, 2, 3])],
    ]);
    expectError(await failure(p), 'DISK_CORRUPT', 'headers');
  });

  it('an absurd qcow2 size is DISK_CORRUPT', async () => {
    const p = await patch(fx['qcow2-v2'].path, 'huge.qcow2', [[24, u64be(1n << 62n)]]);
    expectError(await failure(p), 'DISK_CORRUPT', 'size');
  });

  it('an absurd vmdk capacity is rejected before any allocation', async () => {
    const p = await patch(fx['vmdk-monolithicSparse'].path, 'capacity.vmdk', [[12, u64le(1n << 45n)]]);
    expectError(await failure(p), 'DISK_CORRUPT', 'grain directory');
  });

  it('a grain table entry pointing past the end of the file is DISK_CORRUPT', async () => {
    const src = fx['vmdk-monolithicSparse'].path;
    const head = await readFile(src);
    const gdSector = Number(head.readBigUInt64LE(56));
    const gt0 = head.readUInt32LE(gdSector * 512);
    const p = await patch(src, 'gte.vmdk', [[gt0 * 512, u32le(0x7fffff00)]]);
    expectError(await failure(p), 'DISK_CORRUPT', 'grain table', 'past the end');
  });

  it('a vhdx BAT entry pointing past the end is DISK_CORRUPT', async () => {
    const src = fx['vhdx-dynamic-1m'].path;
    // Find the BAT through the region table (entry with the BAT GUID).
    const rt = (await readFile(src)).subarray(192 * 1024, 192 * 1024 + 65536);
    const bat = Number(rt.readBigUInt64LE(16 + 16));
    const p = await patch(src, 'bat.vhdx', [[bat, u64le((1n << 40n) | 6n)]]);
    expectError(await failure(p), 'DISK_CORRUPT', 'block allocation table');
  });

  it('cyclic parents are DISK_CHAIN_CYCLE', async () => {
    const d = join(dir, 'cycle');
    await mkdir(d);
    await writeFile(join(d, 'data.raw'), Buffer.alloc(1024 * 1024));
    await writeFile(join(d, 'a.vmdk'), descriptor('11111111', '22222222', 'b.vmdk', 'data.raw'));
    await writeFile(join(d, 'b.vmdk'), descriptor('22222222', '11111111', 'a.vmdk', 'data.raw'));
    expectError(await failure(join(d, 'a.vmdk')), 'DISK_CHAIN_CYCLE', 'a.vmdk');
    await writeFile(join(d, 'self.vmdk'), descriptor('33333333', '33333333', 'self.vmdk', 'data.raw'));
    expectError(await failure(join(d, 'self.vmdk')), 'DISK_CHAIN_CYCLE');
  });

  it('a missing parent is DISK_PARENT_MISSING naming it; a CID mismatch is DISK_PARENT_MISMATCH', async () => {
    const d = join(dir, 'parents');
    await mkdir(d);
    await writeFile(join(d, 'data.raw'), Buffer.alloc(1024 * 1024));
    await writeFile(join(d, 'orphan.vmdk'), descriptor('11111111', '22222222', 'C:\\VMs\\Win10\\gone.vmdk', 'data.raw'));
    expectError(await failure(join(d, 'orphan.vmdk')), 'DISK_PARENT_MISSING', 'gone.vmdk', 'orphan.vmdk');
    await writeFile(join(d, 'base.vmdk'), descriptor('99999999', 'ffffffff', undefined, 'data.raw'));
    await writeFile(join(d, 'child.vmdk'), descriptor('11111111', '22222222', 'base.vmdk', 'data.raw'));
    expectError(await failure(join(d, 'child.vmdk')), 'DISK_PARENT_MISMATCH', '22222222', '99999999');
  });

  it('unsupported extent types are DISK_UNSUPPORTED, not a crash', async () => {
    const p = join(dir, 'sesparse.vmdk');
    await writeFile(p, descriptor('11111111', 'ffffffff', undefined, 'x.raw').replace('FLAT', 'SESPARSE'));
    expectError(await failure(p), 'DISK_UNSUPPORTED', 'SESPARSE');
  });
});

describe('resolving parents and extents', () => {
  it('finds a parent named by an absolute Windows path in the child folder', async () => {
    const d = join(dir, 'winpath');
    await mkdir(d);
    await writeFile(join(d, 'data.raw'), Buffer.alloc(1024 * 1024, 7));
    await writeFile(join(d, 'Win10.vmdk'), descriptor('99999999', 'ffffffff', undefined, 'data.raw'));
    await writeFile(join(d, 'Win10-000001.vmdk'), descriptor('11111111', '99999999', 'C:\\Users\\me\\Documents\\Virtual Machines\\Win10\\Win10.vmdk', 'data.raw'));
    const disk = await openDisk(join(d, 'Win10-000001.vmdk'));
    expect(disk.chain.map((c) => c.path)).toEqual([join(d, 'Win10-000001.vmdk'), join(d, 'Win10.vmdk')]);
    await disk.close();
  });

  it('tries relative paths with backslashes, then the bare name', () => {
    expect(candidatePaths('..\\base\\disk.vmdk', '/vms/child/c.vmdk')).toEqual(['/vms/base/disk.vmdk', '/vms/child/disk.vmdk']);
    expect(candidatePaths('\\\\?\\D:\\VMs\\p.vhdx', '/x/c.avhdx')).toEqual(process.platform === 'win32' ? ['D:\\VMs\\p.vhdx', '/x/p.vhdx'] : ['/x/p.vhdx']);
    expect(candidatePaths('disk.vmdk', '/a/b.vmdk')).toEqual(['/a/disk.vmdk']);
  });

  it('reports every tried path when nothing matches', async () => {
    const e = await new LocalPathResolver().resolve('C:\\nowhere\\p.vmdk', join(dir, 'c.vmdk')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('DISK_PARENT_MISSING');
    expect((e as AppError).details?.tried).toEqual([join(dir, 'p.vmdk')]);
  });
});

describe('descriptor extents', () => {
  it('reads RW, RDONLY (with a sector offset) and ZERO extents end to end', async () => {
    const d = join(dir, 'extents');
    await mkdir(d);
    const a = Buffer.alloc(1024 * 1024, 0xaa);
    const b = Buffer.concat([Buffer.alloc(2048, 0x11), Buffer.alloc(1024 * 1024, 0xbb)]);
    await writeFile(join(d, 'a.raw'), a);
    await writeFile(join(d, 'b.raw'), b);
    const text = ['# Disk DescriptorFile', 'CID=12345678', 'parentCID=ffffffff', 'createType="custom"', 'RW 2048 FLAT "a.raw" 0', 'RDONLY 2048 FLAT "b.raw" 4', 'RW 2048 ZERO', ''].join('\n');
    await writeFile(join(d, 'multi.vmdk'), text);
    const disk = await openDisk(join(d, 'multi.vmdk'));
    try {
      expect(disk.size).toBe(3 * 1024 * 1024);
      const all = await disk.read(0, disk.size);
      expect(all.equals(Buffer.concat([a, b.subarray(2048, 2048 + 1024 * 1024), Buffer.alloc(1024 * 1024)]))).toBe(true);
      expect((await disk.extents()).map((e) => e.kind)).toEqual(['data', 'zero']);
      const straddle = await disk.read(1024 * 1024 - 3, 6);
      expect([...straddle]).toEqual([0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb]);
    } finally {
      await disk.close();
    }
  });
});

describe('redundant grain directory', () => {
  it('falls back to the redundant GD when a primary GD entry points outside the file', async () => {
    const src = fx['vmdk-monolithicSparse'];
    const head = await readFile(src.path);
    const gdSector = Number(head.readBigUInt64LE(56));
    const p = await patch(src.path, 'rgd.vmdk', [[gdSector * 512, u32le(0x7fffff00)]]);
    const disk = await openDisk(p);
    try {
      const oracle = await readFile(src.oracle);
      expect((await disk.read(0, 32 * 1024 * 1024)).equals(oracle.subarray(0, 32 * 1024 * 1024))).toBe(true);
    } finally {
      await disk.close();
    }
  });
});

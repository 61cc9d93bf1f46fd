import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors/app-error.js';
import { main } from '../../electron/cli/index.js';
import { MemoryDisk } from '../../electron/engine/disk/memory-disk.js';
import { openDisk } from '../../electron/engine/disk/open-disk.js';
import { writeDisk, type WriteFormat } from '../../electron/engine/disk/write-disk.js';
import { bigSplitFixture, diskFixtures, patternBytes, type DiskFixture } from '../fixtures/disk/disk-fixtures.js';

const run = promisify(execFile);
const qemuName: Record<WriteFormat, string> = { raw: 'raw', vmdk: 'vmdk', 'vmdk-stream': 'vmdk', vhdx: 'vhdx', qcow2: 'qcow2' };

async function qemu(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('qemu-img', args);
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
}

let fx: Record<string, DiskFixture>;
let scratch: string;
beforeAll(async () => {
  fx = await diskFixtures();
  scratch = await mkdtemp(join(tmpdir(), 'twinsnap-disk-write-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const FORMATS: WriteFormat[] = ['raw', 'vmdk', 'vmdk-stream', 'vhdx', 'qcow2'];
const SOURCES = ['vmdk-delta-chain', 'qcow2-compressed-backing', 'vhdx-dynamic-1m'];
const CASES = SOURCES.flatMap((s) => FORMATS.map((f) => [s, f] as const));

describe('writing images', () => {
  it.each(CASES)('%s written as %s passes qemu-img check and compare', async (source, format) => {
    const src = await openDisk(fx[source].path);
    const dst = join(scratch, `${source}.${format}`);
    try {
      await writeDisk(src, dst, format);
    } finally {
      await src.close();
    }
    if (format !== 'raw') {
      const check = await qemu(['check', '-f', qemuName[format], dst]);
      expect(check.out).toContain('No errors were found');
      expect(check.code).toBe(0);
    }
    const cmp = await qemu(['compare', '-f', qemuName[format], '-F', 'raw', dst, fx[source].oracle]);
    expect(cmp.out.trim()).toBe('Images are identical.');
    // And our own reader agrees on the subformat we claim to write.
    const back = await openDisk(dst);
    expect(back.format).toBe(qemuName[format]);
    if (format === 'vmdk-stream') expect(back.subformat).toBe('streamOptimized');
    await back.close();
  });

  it('leaves zero ranges unallocated in sparse outputs', async () => {
    const disk = new MemoryDisk(64 * 1024 * 1024);
    disk.write(3 * 1024 * 1024, patternBytes(256 * 1024, 7));
    disk.write(40 * 1024 * 1024, Buffer.alloc(1024 * 1024)); // data extent full of zeros
    const rawRef = join(scratch, 'mem.raw');
    await writeDisk(disk, rawRef, 'raw');
    for (const format of ['qcow2', 'vmdk', 'vhdx'] as const) {
      const dst = join(scratch, `mem.${format}`);
      await writeDisk(disk, dst, format);
      const back = await openDisk(dst);
      const data = (await back.extents()).filter((e) => e.kind === 'data').reduce((s, e) => s + e.length, 0);
      await back.close();
      expect(data, format).toBeLessThanOrEqual(32 * 1024 * 1024);
      expect(data, format).toBeGreaterThanOrEqual(256 * 1024);
      const cmp = await qemu(['compare', '-f', qemuName[format], '-F', 'raw', dst, rawRef]);
      expect(cmp.out.trim()).toBe('Images are identical.');
    }
  });

  it('reports progress and stops with CANCELLED without leaving a file', async () => {
    const src = await openDisk(fx['vhdx-fixed'].path);
    const dst = join(scratch, 'cancelled.vmdk');
    const ac = new AbortController();
    const seen: number[] = [];
    const err = await writeDisk(src, dst, 'vmdk', {
      signal: ac.signal,
      onProgress: (done, total) => {
        seen.push(done);
        expect(total).toBe(src.size);
        if (done >= 16 * 1024 * 1024) ac.abort();
      },
    }).catch((e: unknown) => e);
    await src.close();
    expect(isAppError(err, 'CANCELLED')).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    expect(existsSync(dst) || existsSync(`${dst}.part`)).toBe(false);
  });
});

describe('twinsnap disk convert', () => {
  it.each(Object.keys({ 'vmdk-twoGbMaxExtentFlat': 1, 'vmdk-stream-footer': 1, 'vhd-dynamic': 1, 'vhdx-fixed': 1, 'qcow2-v2': 1 }))(
    'converts %s to raw identical to qemu-img convert',
    async (name) => {
      const dst = join(scratch, `cli-${name}.raw`);
      const out: string[] = [];
      const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void out.push(s), stdoutBytes: async () => {}, isTTY: false };
      expect(await main(['disk', 'convert', fx[name].path, dst, '--format', 'raw'], io)).toBe(0);
      const cmp = await qemu(['compare', '-f', 'raw', '-F', 'raw', dst, fx[name].oracle]);
      expect(cmp.out.trim()).toBe('Images are identical.');
    },
  );

  it('shows progress on a terminal', async () => {
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => void err.push(s), stdoutBytes: async () => {}, isTTY: true };
    expect(await main(['disk', 'convert', fx['vhdx-dynamic-32m'].path, join(scratch, 'tty.qcow2'), '--format', 'qcow2'], io)).toBe(0);
    expect(err.join('')).toMatch(/converting: 100%/);
  });

  it('prints disk info as JSON and rejects an unknown format with a usage error', async () => {
    const out: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void out.push(s), stdoutBytes: async () => {}, isTTY: false };
    expect(await main(['disk', 'info', fx['qcow2-compressed-backing'].path, '--json'], io)).toBe(0);
    const info = JSON.parse(out.join('')) as { format: string; chain: unknown[]; virtualSize: number };
    expect(info).toMatchObject({ format: 'qcow2', virtualSize: 128 * 1024 * 1024 });
    expect(info.chain).toHaveLength(2);
    expect(await main(['disk', 'convert', fx['qcow2-v2'].path, join(scratch, 'x'), '--format', 'vdi'], io)).toBe(2);
  });
});

describe('split extents beyond 4 GiB', () => {
  it('reads a twoGbMaxExtentSparse disk of 5 GiB with data near the end', async () => {
    const big = await bigSplitFixture();
    const disk = await openDisk(big.vmdk);
    try {
      expect(disk.size).toBe(5 * 1024 ** 3);
      expect(disk.subformat).toBe('twoGbMaxExtentSparse');
      for (const [off, data] of big.written) expect((await disk.read(off, data.length)).equals(data)).toBe(true);
      const dataBytes = (await disk.extents()).filter((e) => e.kind === 'data').reduce((s, e) => s + e.length, 0);
      expect(dataBytes).toBeLessThan(8 * 1024 * 1024);
      const dst = join(scratch, 'big.raw');
      await writeDisk(disk, dst, 'raw');
      const cmp = await qemu(['compare', '-f', 'raw', '-F', 'vmdk', dst, big.vmdk]);
      expect(cmp.out.trim()).toBe('Images are identical.');
    } finally {
      await disk.close();
    }
  });
});

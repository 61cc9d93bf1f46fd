import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGuest, guestCacheRoot, REPO_ROOT } from './guest/build-guest.js';
import { makeDataDisk, type DiskFormat } from './guest/data-disk.js';
import { run } from './guest/exec.js';
import { inspectDataDisk } from './guest/read-back.js';

describe('test guest builder', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'twinsnap-guest-test-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('builds a kernel and an initramfs holding init, busybox, sqlite3 and the modules in order', async () => {
    const [a, b] = await Promise.all([ensureGuest(), ensureGuest()]);
    expect(a).toEqual(b);
    const kernel = await readFile(a.kernel);
    expect(kernel.toString('latin1', 0x202, 0x206)).toBe('HdrS'); // x86 Linux boot protocol header
    const list = (await run('cpio', ['-t', '--quiet', '-F', a.initrd])).stdout.split('\n');
    for (const f of ['init', 'bin/busybox', 'bin/workload', 'usr/bin/sqlite3', 'etc/acpi/PWRF/00000080', 'lib/modules/virtio_blk.ko']) {
      expect(list).toContain(f);
    }
    const order = (await run('sh', ['-c', 'cpio -i --quiet --to-stdout etc/modules.order < "$1"', 'x', a.initrd])).stdout.trim().split('\n');
    const pos = (m: string): number => order.indexOf(m);
    expect(pos('virtio_ring')).toBeGreaterThanOrEqual(0);
    expect(pos('virtio_ring')).toBeLessThan(pos('virtio'));
    expect(pos('virtio')).toBeLessThan(pos('virtio_pci'));
    expect(pos('virtio_pci')).toBeLessThan(pos('virtio_blk'));
    expect(pos('evdev')).toBeGreaterThanOrEqual(0);
    expect(pos('button')).toBeGreaterThanOrEqual(0);
  });

  it('is safe when two processes build into the same empty cache at once', async () => {
    const cache = path.join(tmp, 'cache');
    const debDir = path.join(guestCacheRoot(), 'debs');
    const deb = (await readdir(debDir).catch(() => [] as string[])).find((f) => f.endsWith('.deb'));
    const env = { ...process.env, TWINSNAP_GUEST_CACHE: cache, ...(deb ? { TWINSNAP_GUEST_KERNEL_DEB: path.join(debDir, deb) } : {}) };
    const cli = path.join(REPO_ROOT, 'test/harness/guest/build-guest.ts');
    const runs = await Promise.all([0, 1].map(() => run(process.execPath, ['--import', 'tsx', cli], { env, cwd: REPO_ROOT, timeoutMs: 300_000 })));
    const [x, y] = runs.map((r) => JSON.parse(r.stdout) as { initrd: string; kernel: string });
    expect(x).toEqual(y);
    const entries = (await readdir(cache)).filter((e) => e !== 'debs');
    expect(entries).toEqual([path.basename(path.dirname(x!.initrd))]); // temp folders cleaned up
    expect((await readFile(x!.initrd)).length).toBeGreaterThan(1_000_000);
  }, 300_000);

  it.each<DiskFormat>(['vmdk-flat', 'vmdk-sparse', 'vmdk-split', 'vhdx'])('makes an empty ext4 data disk as %s', async (format) => {
    const ext = format === 'vhdx' ? 'vhdx' : 'vmdk';
    const disk = path.join(tmp, `disk ${format}.${ext}`);
    await makeDataDisk(disk, { format, sizeMiB: 32 });
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', disk])).stdout) as {
      format: string;
      'virtual-size': number;
      'format-specific'?: { data?: { 'create-type'?: string } };
    };
    expect(info.format).toBe(ext);
    expect(info['virtual-size']).toBe(32 * 1024 * 1024);
    if (format !== 'vhdx') {
      const types: Partial<Record<DiskFormat, string>> = {
        'vmdk-flat': 'monolithicFlat',
        'vmdk-sparse': 'monolithicSparse',
        'vmdk-split': 'twoGbMaxExtentSparse',
      };
      const want = types[format];
      expect(info['format-specific']?.data?.['create-type']).toBe(want);
    }
    const contents = await inspectDataDisk(disk);
    expect(contents.fsckCode).toBe(0);
    expect(contents.dbPresent).toBe(false);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/index.js';
import { openDisk } from '../../electron/engine/disk/open-disk.js';
import { initRepository } from '../../electron/engine/repository/repository.js';
import { chainFolders } from '../../electron/engine/workflow/backup-run.js';
import { RepositorySnapshotSink } from '../../electron/engine/workflow/repository-snapshot-sink.js';
import { AppError } from '../../shared/errors/app-error.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// Crafted images (made with qemu-img and hand-written VMDK descriptors) that point at host files.
// Before the confinement all of them opened, and the host file's bytes read as the disk's data.

const tmp = makeTempDir('twinsnap-chain-');
const vm = join(tmp.path, 'vm');
const other = join(tmp.path, 'other');
const MiB = 1024 * 1024;
const HOST_FILE = '/etc/passwd';

function qcow2(path: string, backing: string, backingFormat = 'raw', size = '1M'): string {
  // -u: do not open the backing file (it may be a device or a pipe)
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', backing, '-F', backingFormat, path, size]);
  return path;
}

const descriptor = (extent: string, sectors = 2048) =>
  ['# Disk DescriptorFile', 'version=1', 'CID=12345678', 'parentCID=ffffffff', 'createType="monolithicFlat"', `RW ${sectors} FLAT "${extent}" 0`, ''].join('\n');

async function refusal(path: string, allowedDirs?: string[]): Promise<AppError> {
  try {
    const d = await openDisk(path, { allowedDirs });
    const head = await d.read(0, 64);
    await d.close();
    throw new Error(`${path} opened; it reads ${JSON.stringify(head.toString('latin1'))}`);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--data-dir', join(tmp.path, 'data'), ...args], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdoutBytes: async () => {}, isTTY: false });
  return { code, out, err };
}

beforeAll(() => {
  mkdirSync(join(vm, 'sub'), { recursive: true });
  mkdirSync(other, { recursive: true });
  writeFileSync(join(other, 'base.raw'), Buffer.alloc(MiB, 0x5a));
  writeFileSync(join(vm, 'sub', 'base.raw'), Buffer.alloc(MiB, 0x33));
});
afterAll(() => tmp.cleanup());

describe('a disk chain cannot reach host files', () => {
  it('refuses a qcow2 whose backing file is an absolute path outside its folder, naming the file', async () => {
    const e = await refusal(qcow2(join(vm, 'abs.qcow2'), HOST_FILE));
    expect(e.code).toBe('DISK_CHAIN_UNSAFE');
    expect(e.message).toContain(HOST_FILE);
    expect(e.message).toContain('abs.qcow2');
  });

  it('refuses a vmdk extent that climbs out of the folder with ../', async () => {
    const p = join(vm, 'climb.vmdk');
    writeFileSync(p, descriptor('../../../../../../../../etc/hostname', 1));
    const e = await refusal(p);
    expect(e.code).toBe('DISK_CHAIN_UNSAFE');
    expect(e.message).toContain('/etc/hostname');
  });

  it('refuses devices, named pipes and symlinks pointing outside, even inside the folder', async () => {
    const dev = await refusal(qcow2(join(vm, 'dev.qcow2'), '/dev/urandom'));
    expect([dev.code, dev.message]).toEqual(['DISK_CHAIN_UNSAFE', expect.stringContaining('character device')]);
    execFileSync('mkfifo', [join(vm, 'pipe.raw')]);
    const fifo = await refusal(qcow2(join(vm, 'fifo.qcow2'), 'pipe.raw'));
    expect([fifo.code, fifo.message]).toEqual(['DISK_CHAIN_UNSAFE', expect.stringContaining('named pipe')]);
    symlinkSync(HOST_FILE, join(vm, 'link.raw'));
    const link = await refusal(qcow2(join(vm, 'link.qcow2'), 'link.raw'));
    expect([link.code, link.message]).toEqual(['DISK_CHAIN_UNSAFE', expect.stringContaining(HOST_FILE)]);
    symlinkSync(join(other, 'base.raw'), join(vm, 'outside-link.raw'));
    writeFileSync(join(vm, 'outside-link.vmdk'), descriptor('outside-link.raw'));
    expect((await refusal(join(vm, 'outside-link.vmdk'))).code).toBe('DISK_CHAIN_UNSAFE');
  });

  it('still opens chains inside the folder tree, and outside it only in folders the caller allows', async () => {
    const inside = await openDisk(qcow2(join(vm, 'inside.qcow2'), 'sub/base.raw'));
    expect((await inside.read(0, 4)).toString('hex')).toBe('33333333');
    await inside.close();
    const twinChild = qcow2(join(vm, 'twin.qcow2'), join(other, 'base.raw'));
    expect((await refusal(twinChild)).code).toBe('DISK_CHAIN_UNSAFE');
    const allowed = await openDisk(twinChild, { allowedDirs: [other] });
    expect((await allowed.read(0, 4)).toString('hex')).toBe('5a5a5a5a');
    expect(allowed.chain.map((c) => c.path)).toEqual([twinChild, join(other, 'base.raw')]);
    await allowed.close();
  });
});

describe('twinsnap disk info / import-disk with crafted chains', { timeout: 60_000 }, () => {
  it('disk info lists every file of the chain, extents included', async () => {
    writeFileSync(join(vm, 'flat-flat.vmdk'), Buffer.alloc(MiB, 1));
    writeFileSync(join(vm, 'flat.vmdk'), descriptor('flat-flat.vmdk'));
    const child = qcow2(join(vm, 'over-flat.qcow2'), 'flat.vmdk', 'vmdk');
    const r = await cli('--json', 'disk', 'info', child);
    expect(r.code, r.err).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.chain.map((c: { path: string; extents?: string[] }) => [c.path, c.extents ?? []])).toEqual([
      [child, []],
      [join(vm, 'flat.vmdk'), [join(vm, 'flat-flat.vmdk')]],
    ]);
    const text = await cli('disk', 'info', child);
    expect(text.out).toContain(`extent ${join(vm, 'flat-flat.vmdk')}`);
  });

  it('import-disk refuses a backing file outside (exit 1, file named, nothing stored) unless --allow-chain-dir names its folder', async () => {
    const repo = join(tmp.path, 'repo');
    expect((await cli('--repo', repo, 'init')).code).toBe(0);
    const bad = await cli('--repo', repo, 'import-disk', '--guest', 'g', join(vm, 'abs.qcow2'));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(HOST_FILE);
    expect(JSON.parse((await cli('--repo', repo, '--json', 'snapshots')).out)).toEqual([]);
    const child = join(vm, 'twin.qcow2');
    expect((await cli('--repo', repo, 'import-disk', '--guest', 'g', child)).code).toBe(1);
    const ok = await cli('--repo', repo, '--json', 'import-disk', '--guest', 'g', '--allow-chain-dir', other, child);
    expect(ok.code, ok.err).toBe(0);
    const out = join(tmp.path, 'out.raw');
    const exp = await cli('--repo', repo, 'export-disk', JSON.parse(ok.out).id, 'twin', '--to', out);
    expect(exp.code, exp.err).toBe(0);
    expect(readFileSync(out).equals(Buffer.alloc(MiB, 0x5a))).toBe(true);
  });
});

describe('backups of a VM allow exactly its own folders', () => {
  it("chainFolders: the VM's folder, its disks' folders and the frozen disks' folders", () => {
    const vmware = {
      id: '/vms/a/a.vmx',
      name: 'a',
      state: 'running' as const,
      memoryMiB: 1,
      toolsRunning: true,
      encrypted: false,
      nics: [],
      configPath: '/vms/a/a.vmx',
      disks: [
        { slot: 'scsi0:0', path: '/vms/a/a-000001.vmdk' },
        { slot: 'scsi0:1', path: '/data/big/b.vmdk' },
      ],
    };
    expect(chainFolders(vmware, [{ slot: 'scsi0:0', path: '/vms/a/a.vmdk' }]).sort()).toEqual(['/data/big', '/vms/a']);
    const hyperv = { ...vmware, configPath: '/hv/Virtual Machines', disks: [{ slot: 'scsi0', path: '/hv/Virtual Hard Disks/x.avhdx' }] };
    expect(chainFolders(hyperv, []).sort()).toEqual(['/hv/Virtual Hard Disks', '/hv/Virtual Machines']);
  });

  it('the repository sink refuses a twin disk reaching outside chainDirs, and archives it when its folder is listed', { timeout: 60_000 }, async () => {
    const repo = await initRepository(join(tmp.path, 'sink-repo'));
    const sink = new RepositorySnapshotSink(
      async () => repo,
      () => Date.now(),
    );
    const input = (chainDirs: string[]) => ({
      jobId: `j${chainDirs.length}`,
      guest: 'twin',
      time: Date.now(),
      consistency: 'clean-twin' as const,
      metrics: { steps: {} },
      log: [],
      configFiles: [],
      disks: [{ name: 'disk0', path: join(vm, 'twin.qcow2') }],
      chainDirs,
    });
    const refused = await sink.createSnapshot(input([vm]), {}).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'DISK_CHAIN_UNSAFE' });
    const stored = await sink.createSnapshot(input([vm, other]), {});
    expect(stored.logicalBytes).toBe(MiB);
    await repo.close();
  });
});

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readVmdkParentInfo, writeSparseChild } from './vmdk-child.js';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('sparse child vmdk (oracle: qemu-img / qemu-io)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsnap-vmdk-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const subformat of ['monolithicFlat', 'monolithicSparse', 'twoGbMaxExtentSparse']) {
    it(`reads through to a ${subformat} parent and keeps the parent untouched when written`, async () => {
      const parent = join(dir, `${subformat} parent.vmdk`);
      sh('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', `subformat=${subformat}`, parent, '100M']);
      sh('qemu-io', ['-f', 'vmdk', '-c', 'write -P 0xab 1M 2M', '-c', 'write -P 0x5c 99M 64k', parent]);
      const info = await readVmdkParentInfo(parent);
      expect(info.capacitySectors).toBe((100 * 1024 * 1024) / 512);
      expect(info.cid).toMatch(/^[0-9a-f]{8}$/);
      const parentFiles = subformat === 'monolithicFlat' ? [parent, parent.replace('.vmdk', '-flat.vmdk')] : [parent];
      const before = parentFiles.map(sha);

      const child = join(dir, `${subformat}-child.vmdk`);
      await writeSparseChild({ path: child, parentHint: parent, parent: info });
      const qinfo = JSON.parse(sh('qemu-img', ['info', '--output=json', child]));
      expect(qinfo['backing-filename']).toBe(parent);
      expect(qinfo['virtual-size']).toBe(100 * 1024 * 1024);
      expect(qinfo['format-specific'].data['parent-cid']).toBe(parseInt(info.cid, 16));
      sh('qemu-img', ['check', '-f', 'vmdk', child]);
      sh('qemu-img', ['compare', '-f', 'vmdk', '-F', 'vmdk', child, parent]);
      // a child a few MiB at most, whatever the parent's size: nothing was copied
      expect(readFileSync(child).length).toBeLessThan(1024 * 1024);

      sh('qemu-io', ['-f', 'vmdk', '-c', 'write -P 0x11 2M 128k', child]);
      const read = sh('qemu-io', ['-f', 'vmdk', '-c', 'read -P 0x11 2M 128k', '-c', 'read -P 0xab 1M 1M', '-c', 'read -P 0x5c 99M 64k', child]);
      expect(read).not.toMatch(/Pattern verification failed/);
      expect(parentFiles.map(sha)).toEqual(before);
    });
  }

  it('refuses a parent path a descriptor cannot quote', async () => {
    const parent = join(dir, 'p2.vmdk');
    sh('qemu-img', ['create', '-q', '-f', 'vmdk', parent, '1M']);
    const info = await readVmdkParentInfo(parent);
    await expect(writeSparseChild({ path: join(dir, 'c2.vmdk'), parentHint: `${dir}/a"b.vmdk`, parent: info })).rejects.toMatchObject({ code: 'PATH_UNSAFE' });
  });

  it('rejects files that are not vmdk', async () => {
    const p = join(dir, 'junk.vmdk');
    writeFileSync(p, 'hello world');
    await expect(readVmdkParentInfo(p)).rejects.toMatchObject({ code: 'DISK_FORMAT_UNKNOWN' });
    await expect(readVmdkParentInfo(join(dir, 'missing.vmdk'))).rejects.toMatchObject({ code: 'DISK_PARENT_MISSING' });
  });
});

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../electron/engine/engine.js';
import { ensureFsFixtures, type FsFixtures } from '../fixtures/fs/fs-fixtures.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { REPO_KINDS, TEST_PASSWORD, initTestRepository, passwordArgs } from '../helpers/test-repository.js';
import { tskHash, tskList } from './fs-oracle-helpers.js';

let fx: FsFixtures;
const tmp = makeTempDir('twinsnap-fs-cli-');
let vmdk = '';
let vhdx = '';

beforeAll(() => {
  fx = ensureFsFixtures();
  // the images go through the disk readers too: GPT disk as VMDK, NTFS disk as dynamic VHDX
  vmdk = join(tmp.path, 'gpt.vmdk');
  vhdx = join(tmp.path, 'ntfs.vhdx');
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', fx.gpt, vmdk]);
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', fx.ntfs, vhdx]);
}, 600_000);

afterAll(() => tmp.cleanup());

// every test runs on a plain and on an encrypted repository (the CLI gets the password from --password-file)
describe.each(REPO_KINDS)('%s repository', (kind) => {
  const dataDir = join(tmp.path, kind, 'data');
  const repo = join(tmp.path, kind, 'repo');
  let snap = '';
  let pw: string[] = [];
  const cli = (...args: string[]) => runCliInProcess(dataDir, ['--repo', repo, ...pw, ...args]);

  beforeAll(async () => {
    await initTestRepository(repo, kind).then((r) => r.close());
    pw = passwordArgs(kind, join(tmp.path, kind));
    const r = await cli('--json', 'import-disk', '--guest', 'fsguest', vmdk, vhdx);
    expect(r.code, r.err).toBe(0);
    snap = JSON.parse(r.out).id;
  }, 600_000);

  describe('twinsnap ls / cat / find / restore-files over a repository snapshot (imported from VMDK and VHDX)', { timeout: 180_000 }, () => {
    it('ls lists disks, partitions with their filesystem, and folders', async () => {
      const disks = JSON.parse((await cli('--json', 'ls', snap)).out);
      expect(disks.entries.map((e: { name: string }) => e.name).sort()).toEqual(['gpt', 'ntfs']);
      const parts = JSON.parse((await cli('--json', 'ls', snap, 'gpt')).out);
      expect(parts.entries.map((e: { name: string; fsType: string; supported: boolean }) => `${e.name}:${e.fsType}:${e.supported}`)).toEqual([
        'p1:ntfs:true',
        'p2:fat32:true',
        'p3:ext4:true',
        'p4:exfat:true',
        'p5:xfs:false',
      ]);
      expect(parts.warnings.join()).toMatch(/not supported yet/);
      const docs = JSON.parse((await cli('--json', 'ls', snap, 'gpt/p3/docs')).out);
      const names = docs.entries.map((e: { name: string }) => e.name).sort();
      expect(names).toEqual(['A file with a long name.txt', 'sub dir', 'Ünïcödé ✓ 日本語.txt'].sort());
      const f = docs.entries.find((e: { name: string }) => e.name === 'A file with a long name.txt');
      expect(f).toMatchObject({ type: 'file', size: 1000, path: 'gpt/p3/docs/A file with a long name.txt' });
      expect(Date.parse(f.mtime)).toBeGreaterThan(0);
    });

    it('ls -R walks a whole partition; entries match fls', async () => {
      const r = JSON.parse((await cli('--json', 'ls', snap, 'gpt/p2', '-R')).out);
      const ours = r.entries.map((e: { path: string }) => e.path.slice('gpt/p2'.length)).sort();
      const tsk = tskList(fx.gpt, 51200)
        .map((e) => e.path)
        .sort();
      expect(ours).toEqual(tsk);
    });

    it('cat writes the raw bytes, also of an NTFS alternate data stream and a compressed file', async () => {
      expect((await cli('cat', snap, 'gpt/p4/hello.txt')).bytes.toString()).toBe('hello world\n');
      expect((await cli('cat', snap, 'ntfs/p0/ads.txt:secret')).bytes.toString()).toBe('hidden stream data\n');
      const comp = (await cli('cat', snap, 'ntfs/p0/comp/compressible.txt')).bytes;
      const inode = tskList(fx.ntfs, 0).find((e) => e.path === '/comp/compressible.txt')!.inode;
      expect(createHash('sha256').update(comp).digest('hex')).toBe(tskHash(fx.ntfs, 0, inode));
      const miss = await cli('cat', snap, 'gpt/p4/nope.txt');
      expect(miss.code).not.toBe(0);
      expect(miss.err).toMatch(/does not exist/);
    });

    it('find matches names case-insensitively across every disk', async () => {
      const r = JSON.parse((await cli('--json', 'find', snap, 'hello.TXT')).out);
      expect(r.map((e: { path: string }) => e.path).sort()).toEqual(['gpt/p1/hello.txt', 'gpt/p2/hello.txt', 'gpt/p3/hello.txt', 'gpt/p4/hello.txt', 'ntfs/p0/hello.txt']);
      const deep = JSON.parse((await cli('--json', 'find', snap, 'ntfs/p0/deep/**/bottom.txt')).out);
      expect(deep).toHaveLength(1);
    });

    it('restore-files restores folders recursively with mtimes, hostile names stay inside --to', async () => {
      const to = join(tmp.path, kind, 'restore', 'here');
      const r = await cli('--json', 'restore-files', snap, 'gpt/p3/hostile', 'gpt/p3/docs', 'gpt/p3/fast-link', '--to', to);
      expect(r.code, r.err).toBe(0);
      const res = JSON.parse(r.out);
      expect(res.skipped).toEqual([{ path: 'gpt/p3/fast-link', reason: expect.stringMatching(/symbolic link to hello.txt/) }]);
      expect(readdirSync(join(tmp.path, kind, 'restore'))).toEqual(['here']);
      const hostile = readdirSync(join(to, 'hostile')).sort();
      const expected = ['%20', '%2E%2E%2E', 'CON_', 'com1_', 'nul_.txt', 'a%5Cb', 'x%3Ay', 'ctl%01%1F', 'trail%2E%20', 'star%2A%3F', 'pipe%7C%3C%3E%22'];
      expect(hostile.filter((n) => !/^(Same|same)/.test(n))).toEqual(expected.sort());
      expect(hostile).toHaveLength(13);
      expect(hostile.filter((n) => /^(Same|same)(~2)?$/.test(n))).toHaveLength(2);
      expect(readFileSync(join(to, 'hostile', 'x%3Ay'), 'utf8')).toBe("hostile 'x:y'");
      const rnd = readFileSync(join(to, 'docs', 'sub dir', 'random.bin'));
      expect(rnd.length).toBe(300_000);
      const listing = JSON.parse((await cli('--json', 'ls', snap, 'gpt/p3/docs/sub dir')).out);
      expect(statSync(join(to, 'docs', 'sub dir', 'random.bin')).mtime.toISOString()).toBe(listing.entries[0].mtime);
      expect(res.restored).toBe(13 + 3);
    });

    it('the files.* contract methods work through the engine service (files.read pages, errors are typed)', async () => {
      const engine = await createEngine({ dataDir, repository: repo, repositoryPassword: async () => TEST_PASSWORD });
      try {
        const first = await engine.service.call('files.read', { snapshotId: snap, path: 'ntfs/p0/comp/compressible.txt', offset: 0, length: 1000 });
        expect(first).toMatchObject({ eof: false });
        expect(Buffer.from(first.base64, 'base64').toString()).toMatch(/^line 0: the quick brown fox/);
        const last = await engine.service.call('files.read', { snapshotId: snap, path: 'ntfs/p0/comp/compressible.txt', offset: first.size - 10 });
        expect(last.eof).toBe(true);
        expect(Buffer.from(last.base64, 'base64')).toHaveLength(10);
        const l = await engine.service.call('files.list', { snapshotId: snap, path: 'ntfs/p0/links' });
        expect(l.entries).toHaveLength(41);
        await expect(engine.service.call('files.list', { snapshotId: snap, path: 'nodisk' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(engine.service.call('files.list', { snapshotId: snap, path: 'gpt/p5/x' })).rejects.toMatchObject({ code: 'FS_UNSUPPORTED' });
      } finally {
        await engine.close();
      }
    });
  });
});

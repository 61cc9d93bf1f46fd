import { execFileSync } from 'node:child_process';
import { statfsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';
import { runWithPeakRss } from '../helpers/peak-rss.js';
import { REPO_KINDS, initTestRepository, passwordArgs, type RepoKind } from '../helpers/test-repository.js';

// Huge thin disks (Hyper-V's largest VHDX, a 16 TiB qcow2) made with qemu-img: backing them up
// must cost memory for their data, not their virtual size. Every TwinSnap run is a child process
// (`node bin/twinsnap.mjs`) whose peak RSS GNU time reports.

const TiB = 1024 ** 4;
const MiB = 1024 * 1024;
const LIMIT_MB = 300;
const BIN = resolve(import.meta.dirname, '../../bin/twinsnap.mjs');
const tmp = makeTempDir('twinsnap-huge-');
const vhdx = join(tmp.path, 'empty-64t.vhdx');
const qcow2 = join(tmp.path, 'thin-16t.qcow2');
const vmdk = join(tmp.path, 'thin-16t.vmdk');
const vmdk64 = join(tmp.path, 'empty-64t.vmdk');
const patterns = [
  ['0xab', 0, 1024 * 1024],
  ['0xcd', 8 * 1024 ** 4, 65536],
  ['0xef', 16 * 1024 ** 4 - 4096, 4096],
] as const;

/** The CLI on a repository of `kind` (an encrypted one gets its password from a file). */
function twinsnap(kind: RepoKind, repo: string, ...args: string[]) {
  return runWithPeakRss(process.execPath, [BIN, '--data-dir', join(tmp.path, `data-${kind}`), '--repo', repo, ...passwordArgs(kind, tmp.path), '--json', ...args]);
}

async function newRepo(kind: RepoKind, name: string, chunkSize = MiB): Promise<string> {
  const repo = join(tmp.path, `${name}-${kind}`);
  await initTestRepository(repo, kind, { chunkSize }).then((r) => r.close());
  return repo;
}

beforeAll(() => {
  execFileSync('qemu-img', ['create', '-q', '-f', 'vhdx', vhdx, '64T']);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow2, '16T']);
  // a little data at the start, in the middle and in the last 4 KiB
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 1M', '-c', `write -P 0xcd ${8 * TiB} 64k`, '-c', `write -P 0xef ${16 * TiB - 4096} 4k`, qcow2]);
  // monolithicSparse: 1 GiB of preallocated (sparse) grain tables, half a million of them
  execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', vmdk, '16T']);
  execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', vmdk64, '64T']);
  execFileSync('qemu-io', ['-f', 'vmdk', ...patterns.flatMap(([p, o, l]) => ['-c', `write -P ${p} ${o} ${l}`]), vmdk]);
});
afterAll(() => tmp.cleanup());

// On a plain and an encrypted repository. The encrypted one runs the cases whose repository code
// differs there (a sealed sparse index, HMAC-named and sealed chunks, authenticated reads for the
// qcow2 export); the 64 KiB-chunk case only repeats the index path and runs on the plain one.
describe.each(REPO_KINDS)('huge thin disks back up in bounded memory: %s repository', { timeout: 120_000 }, (kind) => {
  it(`an empty 64 TiB VHDX imports under ${LIMIT_MB} MB peak RSS, with a tiny index`, async () => {
    const repo = await newRepo(kind, 'repo-1m');
    const r = await twinsnap(kind, repo, 'import-disk', '--guest', 'huge', vhdx);
    expect(r.code, r.stderr).toBe(0);
    expect(r.peakRssMB).toBeLessThanOrEqual(LIMIT_MB);
    const s = JSON.parse(r.stdout);
    expect(s.disks).toMatchObject([{ size: 64 * TiB }]);
    const index = join(repo, 'snapshots', s.id, 'disks', 'empty-64t.fidx');
    expect(statSync(index).size).toBeLessThan(1024);
  });

  it.runIf(kind === 'plain')('whatever the chunk size: 64 KiB chunks (a billion of them) for an empty 64 TiB VHDX', async () => {
    const repo = await newRepo(kind, 'repo-64k', 64 * 1024);
    const r = await twinsnap(kind, repo, 'import-disk', '--guest', 'huge', vhdx);
    expect(r.code, r.stderr).toBe(0);
    expect(r.peakRssMB).toBeLessThanOrEqual(LIMIT_MB);
  });

  it('a 16 TiB qcow2 with a little data round-trips: import and qcow2 export each under the limit, qemu-img compare agrees', async () => {
    const repo = await newRepo(kind, 'repo-qcow2');
    const imp = await twinsnap(kind, repo, 'import-disk', '--guest', 'thin', qcow2);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.peakRssMB).toBeLessThanOrEqual(LIMIT_MB);
    const s = JSON.parse(imp.stdout);
    expect(s.disks).toMatchObject([{ size: 16 * TiB }]);
    const out = join(tmp.path, `export-${kind}.qcow2`);
    const exp = await twinsnap(kind, repo, 'export-disk', s.id, 'thin-16t', '--to', out, '--format', 'qcow2');
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.peakRssMB).toBeLessThanOrEqual(LIMIT_MB);
    expect(statSync(out).size).toBeLessThan(64 * MiB); // sparse: grows with the data
    expect(execFileSync('qemu-img', ['compare', qcow2, out], { encoding: 'utf8' })).toContain('identical');
  });
});

describe('huge thin disks convert in bounded memory', { timeout: 120_000 }, () => {
  it('disk convert of a 16 TiB VMDK to qcow2 stays under the limit; qemu-io reads the data back where it was, qemu-img map finds nothing else', async () => {
    const out = join(tmp.path, 'vmdk.qcow2');
    const r = await runWithPeakRss(process.execPath, [BIN, '--data-dir', join(tmp.path, 'data'), 'disk', 'convert', vmdk, out, '--format', 'qcow2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.peakRssMB).toBeLessThanOrEqual(LIMIT_MB);
    const read = execFileSync('qemu-io', ['-f', 'qcow2', '-r', ...patterns.flatMap(([p, o, l]) => ['-c', `read -P ${p} ${o} ${l}`]), out], { encoding: 'utf8' });
    expect(read).not.toMatch(/Pattern verification failed|error/i);
    const map = JSON.parse(execFileSync('qemu-img', ['map', '--output=json', out], { encoding: 'utf8' })) as { start: number; length: number; data: boolean }[];
    // qcow2 clusters are 64 KiB: the last 4 KiB of data lie in the disk's last cluster
    expect(map.filter((m) => m.data).map((m) => [m.start, m.length])).toEqual(patterns.map(([, o, l]) => [Math.floor(o / 65536) * 65536, Math.max(l, 65536)]));
  });

  it('a raw output the file system cannot hold is FILE_TOO_LARGE naming the file system, at once', async () => {
    const ext4 = statfsSync(tmp.path).type === 0xef53; // ext4 holds files of at most 16 TiB
    if (!ext4) return console.warn('skipped: the temp folder is not on ext4, whose 16 TiB file size limit this checks');
    const out = join(tmp.path, 'out.raw');
    const r = await runWithPeakRss(process.execPath, [BIN, '--data-dir', join(tmp.path, 'data'), 'disk', 'convert', vmdk64, out, '--format', 'raw']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FILE_TOO_LARGE');
    expect(r.stderr).toContain('ext2/3/4');
    expect(r.stderr).toContain(out);
  });
});

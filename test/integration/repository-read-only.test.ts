import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { REPO_KINDS, initTestRepository, passwordArgs, type RepoKind } from '../helpers/test-repository.js';

// A repository on a really read-only file system (a read-only bind mount: a write-protected USB
// disk, a read-only share, WORM storage): everything that reads must work, every write is refused
// with REPO_READ_ONLY. Root ignores permission bits, so chmod would prove nothing here.

const tmp = makeTempDir('twinsnap-ro-');
const src = join(tmp.path, 'src');
const mnt = join(tmp.path, 'ro');
const fat = join(tmp.path, 'fat.img');

function tryReadOnlyMount(): string | undefined {
  mkdirSync(src, { recursive: true });
  mkdirSync(mnt, { recursive: true });
  try {
    execFileSync('mount', ['--bind', src, mnt], { stdio: 'pipe' });
  } catch (e) {
    return `mount --bind is not permitted here (${(e as Error).message.split('\n')[0]})`;
  }
  try {
    execFileSync('mount', ['-o', 'remount,ro,bind', mnt], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    execFileSync('umount', [mnt]);
    return `remounting read-only is not permitted here (${(e as Error).message.split('\n')[0]})`;
  }
}

/** The CLI in this process on a repository of `kind` (its own data folder, the password from a file outside the mount). */
const cli = (kind: RepoKind, ...args: string[]) => runCliInProcess(join(tmp.path, `data-${kind}`), [...passwordArgs(kind, tmp.path), ...args]);

const ids: Record<RepoKind, string[]> = { plain: [], encrypted: [] };
let skipped: string | undefined;

beforeAll(async () => {
  // a small FAT disk with one file, backed up twice into a writable repository of each kind
  execFileSync('mkfs.vfat', ['-C', fat, '8192'], { stdio: 'pipe' });
  writeFileSync(join(tmp.path, 'hello.txt'), 'hello from a write-protected disk\n');
  execFileSync('mcopy', ['-i', fat, join(tmp.path, 'hello.txt'), '::/hello.txt']);
  for (const kind of REPO_KINDS) {
    const repo = join(src, `repo-${kind}`);
    await initTestRepository(repo, kind).then((r) => r.close());
    for (let k = 0; k < 2; k++) {
      const r = await cli(kind, '--repo', repo, '--json', 'import-disk', '--guest', 'usb', fat);
      expect(r.code, r.err).toBe(0);
      ids[kind].push(JSON.parse(r.out).id);
    }
  }
  skipped = tryReadOnlyMount();
  if (skipped) console.warn(`read-only repository test skipped: ${skipped}`);
}, 120_000);

afterAll(() => {
  if (!skipped) execFileSync('umount', [mnt]);
  tmp.cleanup();
});

// every test runs on a plain and on an encrypted repository
describe.each(REPO_KINDS)('a %s repository on a read-only file system', { timeout: 120_000 }, (kind) => {
  const repo = () => ['--repo', join(mnt, `repo-${kind}`)];
  const cliOn = (...args: string[]) => cli(kind, ...args);
  const dataDir = join(tmp.path, `data-${kind}`);

  it('is really read-only (the oracle for everything below)', () => {
    if (skipped) return;
    expect(() => writeFileSync(join(mnt, `repo-${kind}`, 'probe'), 'x')).toThrow(/EROFS/);
  });

  it('lists snapshots, browses and reads files, restores files, exports a disk and restores a snapshot', async () => {
    if (skipped) return;
    const list = await cliOn(...repo(), '--json', 'snapshots');
    expect(list.code, list.err).toBe(0);
    expect(JSON.parse(list.out).map((s: { id: string }) => s.id)).toEqual(ids[kind]);
    const id = ids[kind][1]!;
    const ls = await cliOn(...repo(), '--json', 'ls', id, 'fat/p0');
    expect(ls.code, ls.err).toBe(0);
    expect(JSON.stringify(JSON.parse(ls.out))).toContain('hello.txt');
    const cat = await cliOn(...repo(), 'cat', id, 'fat/p0/hello.txt');
    expect([cat.code, cat.bytes.toString()]).toEqual([0, 'hello from a write-protected disk\n']);
    const files = join(tmp.path, kind, 'files');
    const rf = await cliOn(...repo(), 'restore-files', id, 'fat/p0/hello.txt', '--to', files);
    expect(rf.code, rf.err).toBe(0);
    expect(readFileSync(join(files, 'hello.txt'), 'utf8')).toBe('hello from a write-protected disk\n');
    const out = join(tmp.path, kind, 'export.raw');
    const exp = await cliOn(...repo(), 'export-disk', id, 'fat', '--to', out);
    expect(exp.code, exp.err).toBe(0);
    expect(readFileSync(out).equals(readFileSync(fat))).toBe(true);
    const vm = join(tmp.path, kind, 'restored');
    const rs = await cliOn(...repo(), 'restore', id, '--to', vm);
    expect(rs.code, rs.err).toBe(0);
    expect(readFileSync(join(vm, 'fat.img')).equals(readFileSync(fat))).toBe(true);
    const verify = await cliOn(...repo(), 'verify');
    expect(verify.code, verify.err).toBe(0);
    // said once per process in the log, never as an error
    const log = readFileSync(join(dataDir, 'logs', 'engine.log'), 'utf8');
    expect(log.split('\n').filter((l) => l.includes('reading it without reader locks')).length).toBe(1);
  });

  it('refuses backup, forget and gc with REPO_READ_ONLY naming the repository, and nothing changed', async () => {
    if (skipped) return;
    const before = readdirSync(join(src, `repo-${kind}`, 'snapshots'));
    for (const args of [['import-disk', '--guest', 'usb', fat], ['forget', '--guest', 'usb', '--keep-last', '1'], ['gc']]) {
      const r = await cliOn(...repo(), ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toContain('REPO_READ_ONLY');
      expect(r.err).toContain(join(mnt, `repo-${kind}`));
    }
    expect(readdirSync(join(src, `repo-${kind}`, 'snapshots'))).toEqual(before);
  });
});

/**
 * Reliability: a full disk during a backup, and several processes (backup + gc + verify) on one
 * repository at once. Runs the real CLI as separate processes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_KINDS, initTestRepository, openTestRepository, passwordEnv } from '../helpers/test-repository.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MiB = 1024 * 1024;
const base = mkdtempSync(join(tmpdir(), 'ts-stress-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      // already gone
    }
  }
  rmSync(base, { recursive: true, force: true });
});
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [join(ROOT, 'bin', 'twinsnap.mjs'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A small tmpfs (needs root / CAP_SYS_ADMIN); undefined where mounting is not allowed. */
function smallTmpfs(sizeMiB: number): string | undefined {
  const d = join(base, `tmpfs-${mounts.length}`);
  mkdirSync(d);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', d], { stdio: 'ignore' });
    mounts.push(d);
    return d;
  } catch {
    return undefined;
  }
}

async function expectConsistent(repo: string, images: Map<string, string>): Promise<void> {
  const r = await openTestRepository(repo);
  const v = await r.verify({ full: true });
  expect(v.details).toEqual([]);
  for (const s of await r.listSnapshots()) {
    const want = images.get(s.guest);
    expect(want, `unexpected snapshot of ${s.guest}`).toBeDefined();
    const d = await r.openSnapshotDisk(s.id, s.disks[0]!.name);
    expect(sha(await d.read(0, d.size))).toBe(want);
    await d.close();
  }
  expect(readdirSync(join(repo, 'tmp'))).toEqual([]);
  await r.close();
}

// On a plain and an encrypted repository. The encrypted one runs the disk-full scenarios (sealed
// chunk files written and removed again under their HMAC names) and one round of the concurrent
// processes (sealed indexes read by GC and verify while backups write); "another backup runs"
// checks only the lock logic, which is the same for both, and runs on the plain one.
describe.each(REPO_KINDS)('disk full during a backup: %s repository', (kind) => {
  const scenarios: [string, () => { repo: string; env: NodeJS.ProcessEnv } | undefined][] = [
    [
      'a real full file system (12 MiB tmpfs)',
      () => {
        const m = smallTmpfs(12);
        return m ? { repo: join(m, 'repo'), env: passwordEnv(kind) } : undefined;
      },
    ],
    ['an injected ENOSPC in the chunk write path', () => ({ repo: join(base, `inj-repo-${kind}`), env: { ...passwordEnv(kind), TWINSNAP_FAULT_ENOSPC_AFTER: '5' } })],
  ];
  it.each(scenarios)('fails with DISK_FULL and leaves the repository consistent: %s', { timeout: 120_000 }, async (_name, make) => {
    const s = make();
    if (!s) return; // mounting not permitted here; the injected scenario covers the code path
    const data = join(base, `data-${randomBytes(3).toString('hex')}`);
    await initTestRepository(s.repo, kind).then((r) => r.close());
    const small = randomBytes(2 * MiB);
    const smallFile = join(base, `small-${randomBytes(2).toString('hex')}.img`);
    writeFileSync(smallFile, small);
    expect((await cli(['--repo', s.repo, '--data-dir', data, 'import-disk', '--guest', 'small', smallFile], passwordEnv(kind))).code).toBe(0);
    const big = join(base, `big-${randomBytes(2).toString('hex')}.img`);
    writeFileSync(big, randomBytes(24 * MiB));
    const r = await cli(['--repo', s.repo, '--data-dir', data, '--json', 'import-disk', '--guest', 'big', big], s.env);
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stderr.trim().split('\n').pop()!) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('DISK_FULL');
    expect(err.error.message).toMatch(/disk is full/);
    expect(err.error.message).toMatch(/chunk\(s\) this backup had written \([\d.]+ MiB\) were removed again/);
    await expectConsistent(s.repo, new Map([['small', sha(small)]]));
    // no temp chunk files were left behind by the failed writes, and none of its chunks either:
    // the chunk files are exactly those the remaining snapshot references
    expect(readdirSync(join(s.repo, 'chunks'), { recursive: true }).filter((n) => /\.tmp-/.test(String(n)))).toEqual([]);
    expect(chunkFiles(s.repo)).toEqual(await referenced(s.repo));
    // the space is really free again: the same backup of a smaller disk now fits
    if (!s.env.TWINSNAP_FAULT_ENOSPC_AFTER) {
      const fits = join(base, `fits-${randomBytes(2).toString('hex')}.img`);
      writeFileSync(fits, randomBytes(6 * MiB));
      const ok = await cli(['--repo', s.repo, '--data-dir', data, 'import-disk', '--guest', 'fits', fits], passwordEnv(kind));
      expect(ok.code, ok.stderr).toBe(0);
    }
  });

  it.runIf(kind === 'plain')('while another backup runs nothing is removed, and the message says how to free the space now', { timeout: 120_000 }, async () => {
    const repo = join(base, 'busy-repo');
    const data = join(base, 'busy-data');
    await initTestRepository(repo, kind).then((r) => r.close());
    // a live writer lock of another backup (this test process is alive)
    const other = join(repo, 'locks', 'writer-20990101T000000Z-abcdef.lock');
    writeFileSync(other, JSON.stringify({ pid: process.pid, host: hostname(), startedMs: Date.now(), what: "backup of 'other'" }));
    const big = join(base, 'busy-big.img');
    writeFileSync(big, randomBytes(12 * MiB));
    const r = await cli(['--repo', repo, '--data-dir', data, '--json', 'import-disk', '--guest', 'big', big], { TWINSNAP_FAULT_ENOSPC_AFTER: '5' });
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stderr.trim().split('\n').pop()!) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('DISK_FULL');
    expect(err.error.message).toContain("another backup is running (backup of 'other')");
    expect(err.error.message).toContain("run 'twinsnap gc'");
    expect(chunkFiles(repo).length).toBeGreaterThanOrEqual(5); // 5 per worker before the fault
    rmSync(other);
  });
});

/** Names of the chunk files of a repository, sorted. */
function chunkFiles(repo: string): string[] {
  return readdirSync(join(repo, 'chunks'), { recursive: true })
    .map((n) => String(n).split(/[\\/]/).pop()!)
    .filter((n) => /^[0-9a-f]{64}$/.test(n))
    .sort();
}

/** Digests every committed snapshot references, sorted. */
async function referenced(repo: string): Promise<string[]> {
  const r = await openTestRepository(repo);
  const all = new Set<string>();
  for (const id of await r.snapshotIds()) for (const d of await r.referencedDigests(id)) all.add(d);
  await r.close();
  return [...all].sort();
}

describe.each(REPO_KINDS)('several processes on one %s repository', (kind) => {
  it('backup + gc + verify at the same time lose nothing', { timeout: 180_000 }, async () => {
    const repo = join(base, `multi-${kind}`);
    const data = join(base, `multi-data-${kind}`);
    const rounds = kind === 'plain' ? 2 : 1;
    const env = passwordEnv(kind);
    const r = await initTestRepository(repo, kind);
    const images = new Map<string, string>();
    // the first snapshot is forgotten: its chunks become garbage that the next backups reuse
    const x = randomBytes(24 * MiB);
    const xf = join(base, 'x.img');
    writeFileSync(xf, x);
    const d = await RawFileDisk.open(xf);
    const s1 = await r.createSnapshot({ guest: 'x', consistency: 'cold', disks: [{ name: 'd', disk: d }] });
    await d.close();
    await r.forget([s1.id]);
    await r.close();
    for (let round = 0; round < rounds; round++) {
      const old = Date.now() / 1000 - 3600;
      for (const f of readdirSync(join(repo, 'chunks'), { recursive: true, withFileTypes: true })) if (f.isFile()) utimesSync(join(f.parentPath, f.name), old, old);
      const y = randomBytes(16 * MiB);
      const yf = join(base, `y${round}.img`);
      writeFileSync(yf, y);
      images.set('x', sha(x));
      images.set(`y${round}`, sha(y));
      let backupsDone = false;
      const backups = Promise.all([
        cli(['--repo', repo, '--data-dir', data, 'import-disk', '--guest', 'x', xf], env),
        cli(['--repo', repo, '--data-dir', data, 'import-disk', '--guest', `y${round}`, yf], env),
      ]).finally(() => (backupsDone = true));
      const gcs = (async () => {
        const out: { code: number | null; stderr: string }[] = [];
        while (!backupsDone) out.push(await cli(['--repo', repo, '--data-dir', data, 'gc', '--grace-seconds', '2'], env));
        return out;
      })();
      const verify = cli(['--repo', repo, '--data-dir', data, 'verify', '--full'], env);
      const [b, g, v] = await Promise.all([backups, gcs, verify]);
      for (const x0 of b) expect(x0.stderr).toBe('');
      expect(b.map((x0) => x0.code)).toEqual([0, 0]);
      // gc runs either finish or are refused while another gc holds the lock
      for (const x0 of g) expect(x0.code === 0 || /REPO_LOCKED/.test(x0.stderr)).toBe(true);
      expect(v.code).toBe(0);
      await expectConsistent(repo, images);
    }
    const final = await openTestRepository(repo);
    expect((await final.listSnapshots()).map((s) => s.guest).sort()).toEqual(
      Array.from({ length: rounds }, (_, k) => ['x', `y${k}`])
        .flat()
        .sort(),
    );
    await final.close();
  });
});

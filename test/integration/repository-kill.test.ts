/**
 * Reliability: SIGKILL of the real CLI at random points during import-disk, forget, gc and
 * catalog rebuild (≥ 30 trials). After every kill the repository must verify --full, list no
 * partial snapshot, and a later GC must clean every leftover. Oracles: sha256 of exported disks,
 * the sqlite3 shell's integrity_check.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initRepository, openRepository } from '../../electron/engine/repository/repository.js';
import { TEST_PASSWORD, initTestRepository, openTestRepository, type RepoKind } from '../helpers/test-repository.js';
import { openCatalog } from '../../electron/engine/catalog/catalog.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';
import { nameGuestId } from '../../shared/domain/guest-id.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MiB = 1024 * 1024;
const base = mkdtempSync(join(tmpdir(), 'ts-kill-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawns the CLI, waits until `ready()` is true (polled every ms), then SIGKILLs it after `delayMs`. */
async function killDuring(args: string[], env: NodeJS.ProcessEnv, ready: () => boolean, delayMs: number): Promise<{ killed: boolean; exitCode: number | null }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'twinsnap.mjs'), ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
  let exited = false;
  let exitCode: number | null = null;
  const done = new Promise<void>((r) => child.on('exit', (c) => ((exited = true), (exitCode = c), r())));
  const t0 = Date.now();
  while (!exited && !ready() && Date.now() - t0 < 30_000) await sleep(1);
  if (!exited) await sleep(delayMs);
  const killed = !exited && child.kill('SIGKILL');
  await done;
  return { killed, exitCode };
}

function lsLocks(repo: string, prefix: string): boolean {
  try {
    return readdirSync(join(repo, 'locks')).some((n) => n.startsWith(prefix));
  } catch {
    return false;
  }
}

/** Makes every chunk look an hour old, so GC could sweep anything not referenced. */
function ageChunks(repo: string): void {
  const old = Date.now() / 1000 - 3600;
  for (const f of readdirSync(join(repo, 'chunks'), { recursive: true, withFileTypes: true })) {
    if (f.isFile()) utimesSync(join(f.parentPath, f.name), old, old);
  }
}

async function checkRepo(repo: string, images: Map<string, string>, onlyGuest?: string): Promise<void> {
  const r = await openTestRepository(repo);
  try {
    const v = await r.verify({ full: true });
    expect(v.details).toEqual([]);
    for (const s of await r.listSnapshots()) {
      const want = images.get(s.guest);
      if (!want || (onlyGuest && s.guest !== onlyGuest)) continue;
      const d = await r.openSnapshotDisk(s.id, s.disks[0]!.name);
      expect(sha(await d.read(0, d.size))).toBe(want);
      await d.close();
    }
  } finally {
    await r.close();
  }
}

async function seed(repo: string, guest: string, count: number, size: number): Promise<Buffer> {
  const r = await initRepository(repo, { workers: 2 });
  const img = randomBytes(size);
  const f = join(base, `${guest}-${randomBytes(3).toString('hex')}.img`);
  for (let i = 0; i < count; i++) {
    img.write(`version ${i}`, (i * 7919 * 4096) % size); // each snapshot differs in one chunk
    writeFileSync(f, img);
    const d = await RawFileDisk.open(f);
    await r.createSnapshot({ guest, consistency: 'cold', timeMs: Date.UTC(2026, 0, 1 + i), disks: [{ name: 'd', disk: d }] });
    await d.close();
  }
  await r.close();
  return img;
}

/**
 * `trials` imports into a new repository of `kind`, each SIGKILLed at a random point once its
 * writer lock exists; after each the repository verifies in full; GC then removes every leftover.
 */
async function killImports(name: string, kind: RepoKind, trials: number, stats: { trials: number; killedMidway: number }): Promise<void> {
  const repo = join(base, name);
  const data = join(base, `${name}-data`);
  await initTestRepository(repo, kind).then((r) => r.close());
  const images = new Map<string, string>();
  for (let t = 0; t < trials; t++) {
    const img = randomBytes(12 * MiB);
    img.fill(0, 4 * MiB, 6 * MiB);
    const file = join(base, `${name}-${t}.img`);
    writeFileSync(file, img);
    images.set(`g${t}`, sha(img));
    const before = readdirSync(join(repo, 'snapshots')).length;
    const res = await killDuring(
      ['--repo', repo, '--data-dir', data, 'import-disk', '--guest', `g${t}`, file],
      kind === 'encrypted' ? { TWINSNAP_PASSWORD: TEST_PASSWORD } : {},
      () => lsLocks(repo, 'writer-'),
      Math.random() * 150,
    );
    stats.trials++;
    const after = readdirSync(join(repo, 'snapshots')).length;
    if (res.killed && after === before) stats.killedMidway++;
    expect(after - before).toBeLessThanOrEqual(1);
    await checkRepo(repo, images, `g${t}`);
    rmSync(file);
  }
  // leftovers of killed backups (tmp folders, temp chunk files, stale locks) are removed by GC
  ageChunks(repo);
  for (const d of readdirSync(join(repo, 'tmp'))) utimesSync(join(repo, 'tmp', d), 0, 0);
  const r = await openTestRepository(repo);
  await r.gc({ graceMs: 60_000 });
  await r.close();
  expect(readdirSync(join(repo, 'tmp'))).toEqual([]);
  expect(readdirSync(join(repo, 'chunks'), { recursive: true }).filter((n) => /\.(tmp|gc)-/.test(String(n)))).toEqual([]);
  await checkRepo(repo, images);
}

describe('SIGKILL at random points', () => {
  it('import-disk, forget, gc and catalog rebuild never leave a damaged or partial repository', { timeout: 600_000 }, async () => {
    const stats = { trials: 0, killedMidway: 0 };
    const importTrials = () => killImports('imp', 'plain', 8, stats);
    const forgetTrials = async () => {
      for (let t = 0; t < 8; t++) {
        const repo = join(base, `fg${t}`);
        const img = await seed(repo, 'db', 6, 4 * MiB);
        await killDuring(['--repo', repo, '--data-dir', join(base, `fg${t}-data`), 'forget', '--guest', 'db', '--keep-last', '1'], {}, () => lsLocks(repo, 'forget-'), Math.random() * 15);
        stats.trials++;
        const left = readdirSync(join(repo, 'snapshots')).length;
        if (left > 1 && left < 6) stats.killedMidway++;
        await checkRepo(repo, new Map());
        // the newest snapshot (kept by every policy) is intact
        const r = await openRepository(repo);
        const last = (await r.listSnapshots()).at(-1)!;
        const d = await r.openSnapshotDisk(last.id, 'd');
        expect(sha(await d.read(0, d.size))).toBe(sha(img));
        await d.close();
        await r.close();
      }
    };
    const gcTrials = async () => {
      for (let t = 0; t < 7; t++) {
        const repo = join(base, `gc${t}`);
        await seed(repo, 'web', 6, 6 * MiB);
        const r = await openRepository(repo);
        await r.forget((await r.snapshotIds()).slice(0, 4));
        await r.close();
        ageChunks(repo);
        const chunksBefore = readdirSync(join(repo, 'chunks'), { recursive: true }).length;
        await killDuring(['--repo', repo, '--data-dir', join(base, `gc${t}-data`), 'gc', '--grace-seconds', '2'], {}, () => lsLocks(repo, 'gc.lock'), Math.random() * 30);
        stats.trials++;
        if (lsLocks(repo, 'gc.lock') && readdirSync(join(repo, 'chunks'), { recursive: true }).length !== chunksBefore) stats.killedMidway++;
        await checkRepo(repo, new Map());
        // a later GC takes over the stale lock and finishes the job
        const r2 = await openRepository(repo);
        await r2.gc({ graceMs: 2000 });
        await r2.close();
        await checkRepo(repo, new Map());
      }
    };
    const rebuildTrials = async () => {
      for (let t = 0; t < 7; t++) {
        const repo = join(base, `rb${t}`);
        const data = join(base, `rb${t}-data`);
        await seed(repo, 'vm', 30, 64 * 1024 * 4);
        const cat = join(data, 'catalog.sqlite');
        // an existing catalog with one stale row: a rebuild either fully replaces it or not at all
        const c = openCatalog(cat);
        c.snapshots.upsert({ id: 'stale', guestId: nameGuestId('old'), guest: 'old', time: '2020-01-01T00:00:00.000Z', consistency: 'cold', disks: [], logicalBytes: 0 });
        c.close();
        await killDuring(['--repo', repo, '--data-dir', data, 'catalog', 'rebuild'], {}, () => existsSync(`${cat}-wal`), Math.random() * 40);
        stats.trials++;
        let check: string;
        try {
          check = execFileSync('sqlite3', [cat, 'PRAGMA integrity_check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
        } catch (e) {
          check = `${(e as Error).message}\n${execFileSync('ls', ['-la', data], { encoding: 'utf8' })}`;
        }
        expect(check).toBe('ok');
        const n = Number(execFileSync('sqlite3', [cat, 'SELECT count(*) FROM snapshots'], { encoding: 'utf8' }).trim());
        if (n === 1) stats.killedMidway++;
        expect([1, 30]).toContain(n);
        await checkRepo(repo, new Map());
      }
    };
    await Promise.all([importTrials(), forgetTrials(), gcTrials(), rebuildTrials()]);
    expect(stats.trials).toBeGreaterThanOrEqual(30);
    // the kills must actually land inside operations, not only before or after them
    expect(stats.killedMidway).toBeGreaterThan(3);
    console.log(`kill trials: ${stats.trials}, landed mid-operation: ${stats.killedMidway}`);
  });

  it('on an encrypted repository: import-disk killed at random points never leaves a damaged or partial repository', { timeout: 300_000 }, async () => {
    const stats = { trials: 0, killedMidway: 0 };
    await killImports('enc', 'encrypted', 5, stats);
    expect(stats.trials).toBe(5);
    console.log(`encrypted kill trials: ${stats.trials}, landed mid-operation: ${stats.killedMidway}`);
  });
});

/**
 * Reliability: SIGKILL of the real CLI at random points during import-disk, forget, gc and
 * catalog rebuild (≥ 30 trials on a plain repository, 14 on an encrypted one). After every kill the repository must verify --full, list no
 * partial snapshot, and a later GC must clean every leftover. Oracles: sha256 of exported disks,
 * the sqlite3 shell's integrity_check.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initTestRepository, openTestRepository, passwordEnv, type RepoKind } from '../helpers/test-repository.js';
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

/** How many kills ran, and how many of them landed inside the operation. */
interface KillStats {
  trials: number;
  killedMidway: number;
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

async function seed(repo: string, kind: RepoKind, guest: string, count: number, size: number): Promise<Buffer> {
  const r = await initTestRepository(repo, kind, { workers: 2 });
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
async function killImports(name: string, kind: RepoKind, trials: number, stats: KillStats): Promise<void> {
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
    const res = await killDuring(['--repo', repo, '--data-dir', data, 'import-disk', '--guest', `g${t}`, file], passwordEnv(kind), () => lsLocks(repo, 'writer-'), Math.random() * 150);
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

/** `trials` forgets on repositories of `kind`, each SIGKILLed at a random point once its intent lock exists. */
async function killForgets(name: string, kind: RepoKind, trials: number, stats: KillStats): Promise<void> {
  for (let t = 0; t < trials; t++) {
    const repo = join(base, `${name}${t}`);
    const img = await seed(repo, kind, 'db', 6, 4 * MiB);
    await killDuring(
      ['--repo', repo, '--data-dir', join(base, `${name}${t}-data`), 'forget', '--guest', 'db', '--keep-last', '1'],
      passwordEnv(kind),
      () => lsLocks(repo, 'forget-'),
      Math.random() * 15,
    );
    stats.trials++;
    const left = readdirSync(join(repo, 'snapshots')).length;
    if (left > 1 && left < 6) stats.killedMidway++;
    await checkRepo(repo, new Map());
    // the newest snapshot (kept by every policy) is intact
    const r = await openTestRepository(repo);
    const last = (await r.listSnapshots()).at(-1)!;
    const d = await r.openSnapshotDisk(last.id, 'd');
    expect(sha(await d.read(0, d.size))).toBe(sha(img));
    await d.close();
    await r.close();
  }
}

/** `trials` GCs on repositories of `kind`, each SIGKILLed at a random point once it holds the GC lock; a later GC finishes. */
async function killGcs(name: string, kind: RepoKind, trials: number, stats: KillStats): Promise<void> {
  for (let t = 0; t < trials; t++) {
    const repo = join(base, `${name}${t}`);
    await seed(repo, kind, 'web', 6, 6 * MiB);
    const r = await openTestRepository(repo);
    await r.forget((await r.snapshotIds()).slice(0, 4));
    await r.close();
    ageChunks(repo);
    const chunksBefore = readdirSync(join(repo, 'chunks'), { recursive: true }).length;
    await killDuring(['--repo', repo, '--data-dir', join(base, `${name}${t}-data`), 'gc', '--grace-seconds', '2'], passwordEnv(kind), () => lsLocks(repo, 'gc.lock'), Math.random() * 30);
    stats.trials++;
    if (lsLocks(repo, 'gc.lock') && readdirSync(join(repo, 'chunks'), { recursive: true }).length !== chunksBefore) stats.killedMidway++;
    await checkRepo(repo, new Map());
    // a later GC takes over the stale lock and finishes the job
    const r2 = await openTestRepository(repo);
    await r2.gc({ graceMs: 2000 });
    await r2.close();
    await checkRepo(repo, new Map());
  }
}

/** `trials` catalog rebuilds from repositories of `kind`, each SIGKILLed at a random point once the catalog is being written. */
async function killRebuilds(name: string, kind: RepoKind, trials: number, stats: KillStats): Promise<void> {
  for (let t = 0; t < trials; t++) {
    const repo = join(base, `${name}${t}`);
    const data = join(base, `${name}${t}-data`);
    await seed(repo, kind, 'vm', 30, 64 * 1024 * 4);
    const cat = join(data, 'catalog.sqlite');
    // an existing catalog with one stale row: a rebuild either fully replaces it or not at all
    const c = openCatalog(cat);
    c.snapshots.upsert({ id: 'stale', guestId: nameGuestId('old'), guest: 'old', time: '2020-01-01T00:00:00.000Z', consistency: 'cold', disks: [], logicalBytes: 0 });
    c.close();
    await killDuring(['--repo', repo, '--data-dir', data, 'catalog', 'rebuild'], passwordEnv(kind), () => existsSync(`${cat}-wal`), Math.random() * 40);
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
}

describe('SIGKILL at random points', () => {
  it('import-disk, forget, gc and catalog rebuild never leave a damaged or partial repository', { timeout: 600_000 }, async () => {
    const stats: KillStats = { trials: 0, killedMidway: 0 };
    await Promise.all([killImports('imp', 'plain', 8, stats), killForgets('fg', 'plain', 8, stats), killGcs('gc', 'plain', 7, stats), killRebuilds('rb', 'plain', 7, stats)]);
    expect(stats.trials).toBeGreaterThanOrEqual(30);
    // the kills must actually land inside operations, not only before or after them
    expect(stats.killedMidway).toBeGreaterThan(3);
    console.log(`kill trials: ${stats.trials}, landed mid-operation: ${stats.killedMidway}`);
  });

  // fewer trials on an encrypted repository: the kill points are the same, what differs is that
  // every object they leave behind (chunks, indexes, manifests) must still open and verify
  it('on an encrypted repository: import-disk, forget, gc and catalog rebuild killed at random points never leave a damaged or partial repository', { timeout: 300_000 }, async () => {
    const stats: KillStats = { trials: 0, killedMidway: 0 };
    await Promise.all([killImports('enc', 'encrypted', 5, stats), killForgets('efg', 'encrypted', 3, stats), killGcs('egc', 'encrypted', 3, stats), killRebuilds('erb', 'encrypted', 3, stats)]);
    expect(stats.trials).toBe(14);
    expect(stats.killedMidway).toBeGreaterThan(1);
    console.log(`encrypted kill trials: ${stats.trials}, landed mid-operation: ${stats.killedMidway}`);
  });
});

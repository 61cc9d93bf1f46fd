/** snapshots.forget and service.status through the in-process engine (the path the UI takes). */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../core/clock.js';
import { nullLogger } from '../core/logger.js';
import { createEngine, type Engine } from '../engine.js';
import { SCHEDULER_LOCK_FILE } from '../scheduler/scheduler-lock.js';
import { MemoryDisk } from '../disk/memory-disk.js';

const MiB = 1024 * 1024;
let dir: string;
let engine: Engine;
let shared: Buffer;
/** The real clock, moved forward by `skew` so GC's grace (vs. chunk mtimes) can pass. */
let skew = 0;
const clock: Clock = { ...systemClock, now: () => systemClock.now() + skew };

/** Chunk files on disk (the independent count: the repository's chunk folder itself). */
function chunkFiles(repoDir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/^[0-9a-f]{64}/.test(e.name)) n++;
    }
  };
  walk(join(repoDir, 'chunks'));
  return n;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ts-forget-'));
  engine = await createEngine({ dataDir: join(dir, 'data'), logger: nullLogger, hypervisors: [], clock });
  const repo = await engine.context.store.repository();
  shared = randomBytes(MiB);
  // Two points of one guest: 1 MiB they share + 1 MiB each alone.
  for (let i = 0; i < 2; i++) {
    const disk = MemoryDisk.from(Buffer.concat([shared, randomBytes(MiB)]));
    await repo.createSnapshot({ guest: 'files', consistency: 'clean-twin', timeMs: Date.UTC(2026, 0, 1 + i, 12), pauseMs: 10, disks: [{ name: 'disk0', disk }] });
    await disk.close();
  }
}, 120_000);
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('snapshots.forget', () => {
  const c = () => engine.service.client();

  it('removes one point from the list and the catalog; its own chunks go only with GC', async () => {
    const repoDir = engine.context.config().repository;
    const [older, newer] = await c()['snapshots.list']({ guest: 'files' });
    expect(newer).toBeDefined();
    const before = chunkFiles(repoDir);
    expect(before).toBe(3);
    const events: string[] = [];
    const off = engine.onEvent((e) => events.push(e));
    expect(await c()['snapshots.forget']({ snapshotId: older!.id })).toEqual({ snapshotId: older!.id, guest: 'files', guestId: 'name:files', forgotten: true });
    off();
    expect(events).toContain('snapshots.changed');
    expect((await c()['snapshots.list']({})).map((s) => s.id)).toEqual([newer!.id]);
    expect(engine.context.store.catalog().snapshots.ids()).toEqual([newer!.id]);
    expect(existsSync(join(repoDir, 'snapshots', older!.id))).toBe(false);
    // Nothing reclaimed yet: forget never deletes chunks itself.
    expect(chunkFiles(repoDir)).toBe(before);
    skew = 60 * 60_000; // an hour later: past GC's grace period
    const gc = await c()['repository.gc']({});
    expect(gc.removedChunks).toBe(1);
    expect(chunkFiles(repoDir)).toBe(2);
    // The remaining point still reads back whole (the shared chunk was kept).
    expect(await c()['snapshots.verify']({ snapshotId: newer!.id, full: true })).toEqual({ ok: true, damaged: [], damagedPoints: [] });
  });

  it('refuses a point while a read of it is in flight (REPO_LOCKED, plain words), deleting nothing', async () => {
    const [only] = await c()['snapshots.list']({ guest: 'files' });
    const repoDir = engine.context.config().repository;
    // An extract in progress: the browse session is in use while forget is asked.
    const err = await engine.context.browsing.with(only!.id, async (b) => {
      // Reading the disk (its partition table probe) inside the session, as an extract does.
      expect((await b.list('disk0')).path).toBe('disk0');
      expect(await engine.context.browsing.closeIdle(only!.id)).toBe(false); // in use: stays open
      const forget = c()['snapshots.forget'];
      return forget({ snapshotId: only!.id }).then(
        () => null,
        (e: unknown) => e,
      );
    });
    expect(err).toMatchObject({ code: 'REPO_LOCKED', message: expect.stringMatching(/is being read \(restore or file browser\): forget it later/) });
    expect((await c()['snapshots.list']({})).map((s) => s.id)).toEqual([only!.id]);
    expect(existsSync(join(repoDir, 'snapshots', only!.id))).toBe(true);
    // Once the read is over the session is idle and can be closed.
    expect(await engine.context.browsing.closeIdle(only!.id)).toBe(true);
  });

  it('forgets a point right after browsing it (our idle browse session is closed first)', async () => {
    const [only] = await c()['snapshots.list']({ guest: 'files' });
    const repoDir = engine.context.config().repository;
    const listing = await c()['files.list']({ snapshotId: only!.id, path: '' });
    expect(listing.entries.map((e) => e.name)).toEqual(['disk0']);
    // The browser keeps a reader lock for a minute after the listing.
    expect(readdirSync(join(repoDir, 'locks')).some((n) => n.startsWith(`reader-${only!.id}-`))).toBe(true);
    expect(await c()['snapshots.forget']({ snapshotId: only!.id })).toEqual({ snapshotId: only!.id, guest: 'files', guestId: 'name:files', forgotten: true });
    expect(await c()['snapshots.list']({})).toEqual([]);
    expect(existsSync(join(repoDir, 'snapshots', only!.id))).toBe(false);
    expect(readdirSync(join(repoDir, 'locks')).some((n) => n.startsWith(`reader-${only!.id}-`))).toBe(false);
  });

  it('a download between two files.read pieces keeps the point: forget refused until it reaches the end', async () => {
    // A FAT volume made by mkfs.vfat + mcopy holding one 300 KiB file, as its own guest's point.
    const img = join(dir, 'fat.img');
    const payload = randomBytes(300 * 1024);
    writeFileSync(join(dir, 'big.bin'), payload);
    execFileSync('mkfs.vfat', ['-C', img, '4096'], { stdio: 'ignore' });
    execFileSync('mcopy', ['-i', img, join(dir, 'big.bin'), '::/BIG.BIN']);
    const repo = await engine.context.store.repository();
    const disk = MemoryDisk.from(readFileSync(img));
    await repo.createSnapshot({ guest: 'fat', consistency: 'clean-twin', timeMs: Date.UTC(2026, 0, 5, 12), pauseMs: 10, disks: [{ name: 'disk0', disk }] });
    await disk.close();
    await c()['catalog.rebuild']({});
    const [point] = await c()['snapshots.list']({ guest: 'fat' });
    const found = await c()['files.find']({ snapshotId: point!.id, pattern: 'BIG.BIN' });
    expect(found).toHaveLength(1);
    const path = found[0]!.path;
    // First piece of a download: not at the end yet.
    const first = await c()['files.read']({ snapshotId: point!.id, path, offset: 0, length: 128 * 1024 });
    expect(first.eof).toBe(false);
    await expect(c()['snapshots.forget']({ snapshotId: point!.id })).rejects.toMatchObject({ code: 'REPO_LOCKED', message: expect.stringMatching(/is being read/) });
    expect((await c()['snapshots.list']({ guest: 'fat' })).map((p) => p.id)).toEqual([point!.id]);
    // The rest of it: the bytes are the file's (mcopy's) and the download is over.
    const rest = await c()['files.read']({ snapshotId: point!.id, path, offset: 128 * 1024, length: 1024 * 1024 });
    expect(rest.eof).toBe(true);
    expect(Buffer.concat([Buffer.from(first.base64, 'base64'), Buffer.from(rest.base64, 'base64')]).equals(payload)).toBe(true);
    expect(await c()['snapshots.forget']({ snapshotId: point!.id })).toMatchObject({ forgotten: true });
    expect(await c()['snapshots.list']({ guest: 'fat' })).toEqual([]);
  });

  it('refuses an unknown point with SNAPSHOT_NOT_FOUND and a malformed id at the boundary', async () => {
    await expect(c()['snapshots.forget']({ snapshotId: '20260101T000000Z-abcdef' })).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    await expect(c()['snapshots.forget']({ snapshotId: '' } as never)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
});

describe.runIf(process.platform === 'linux')('service.status', () => {
  const c = () => engine.service.client();
  let savedPath: string | undefined;

  beforeAll(() => {
    // A fake systemctl first on PATH: the unit is installed, enabled and running as pid 777.
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\nprintf "LoadState=loaded\\nUnitFileState=enabled\\nActiveState=active\\nSubState=running\\nMainPID=777\\n"\n');
    chmodSync(join(bin, 'systemctl'), 0o755);
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}${delimiter}${savedPath ?? ''}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
  });

  const boot = { manager: 'systemd', name: 'twinsnap.service', installed: true, enabled: true, active: true, pid: 777, state: 'loaded / enabled / active (running)' };

  it('reports nobody, a live other holder, and a stale lock of a dead process, with the boot service', async () => {
    const repoDir = engine.context.config().repository;
    const lock = join(repoDir, SCHEDULER_LOCK_FILE);
    rmSync(lock, { force: true });
    expect(await c()['service.status']({})).toEqual({ owner: 'none', repository: repoDir, bootService: boot });
    const holder = { pid: process.pid, host: hostname(), role: 'daemon', startedAt: '2026-11-22T08:00:00.000Z' };
    writeFileSync(lock, JSON.stringify(holder));
    expect(await c()['service.status']({})).toEqual({ owner: 'other', repository: repoDir, holder: { ...holder, alive: true }, bootService: boot });
    writeFileSync(lock, JSON.stringify({ ...holder, pid: 2 ** 22 + 12345 }));
    expect(await c()['service.status']({})).toMatchObject({ owner: 'none', holder: { alive: false }, bootService: { installed: true } });
    rmSync(lock, { force: true });
  });
});

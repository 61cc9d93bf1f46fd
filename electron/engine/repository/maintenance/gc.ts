import { readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepoLayout } from '../layout.js';
import { isDigest } from '../layout.js';
import { acquireLock, liveLocks } from '../locks/lock-file.js';

/** Result of a GC run. */
export interface GcResult {
  removedChunks: number;
  freedBytes: number;
  keptChunks: number;
  /** Chunks referenced by a snapshot but missing (run verify). */
  missingChunks: number;
  removedTempFiles: number;
  removedStaleBackups: number;
  cutoffMs: number;
}

/** What GC needs from the repository. */
export interface GcDeps {
  layout: RepoLayout;
  now: () => number;
  /** Ids of committed snapshots. */
  listSnapshotIds: () => Promise<string[]>;
  /** Digests referenced by a snapshot; throws if it vanished (forgotten meanwhile). */
  referencedDigests: (id: string) => Promise<Set<string>>;
  log?: (msg: string) => void;
}

/** Minimum grace: covers coarse file-system timestamps and small clock differences. */
export const MIN_GRACE_MS = 2000;

async function dirNames(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/**
 * Mark-and-sweep GC (PBS style, mtime instead of atime because we set it explicitly):
 *  1. take `locks/gc.lock` (one GC at a time); note `start`;
 *  2. remove stale writer locks and their `tmp/` folders; cutoff = min(start, oldest live
 *     backup's start) − grace;
 *  3. mark: touch (utimes → now) every chunk referenced by a committed snapshot;
 *  4. sweep: a chunk file whose mtime < cutoff is unreferenced and was not touched by any
 *     backup that may still commit — rename it aside, re-check its mtime (a backup may have
 *     touched it in between), then delete it or put it back.
 * Backups touch every chunk they reuse and write new ones after taking their writer lock, so
 * everything a running backup depends on has mtime ≥ its start ≥ cutoff.
 */
export async function collectGarbage(d: GcDeps, graceMs: number): Promise<GcResult> {
  const grace = Math.max(MIN_GRACE_MS, graceMs);
  const start = d.now();
  const lock = await acquireLock(d.layout.locks, 'gc.lock', 'garbage collection', start);
  const res: GcResult = { removedChunks: 0, freedBytes: 0, keptChunks: 0, missingChunks: 0, removedTempFiles: 0, removedStaleBackups: 0, cutoffMs: 0 };
  try {
    // 2. writers
    const writers = await liveLocks(d.layout.locks, 'writer-', true);
    const live = new Set(writers.map((w) => w.name.replace(/^writer-|\.lock$/g, '')));
    const oldest = Math.min(start, ...writers.map((w) => w.info.startedMs));
    res.cutoffMs = oldest - grace;
    for (const id of await dirNames(d.layout.tmp)) {
      if (live.has(id)) continue;
      const st = await stat(join(d.layout.tmp, id)).catch(() => undefined);
      // a backup creates its lock before its tmp folder; tolerate the instant in between
      if (st && st.mtimeMs < start - grace) {
        await rm(join(d.layout.tmp, id), { recursive: true, force: true });
        res.removedStaleBackups++;
      }
    }
    for (const t of await dirNames(d.layout.trash)) await rm(join(d.layout.trash, t), { recursive: true, force: true });
    for (const n of await dirNames(d.layout.locks)) {
      // temp files of lock creation left by killed processes
      if (!n.includes('.new-')) continue;
      const st = await stat(join(d.layout.locks, n)).catch(() => undefined);
      if (st && st.mtimeMs < start - 60_000) await unlink(join(d.layout.locks, n)).catch(() => {});
    }
    // 3. mark
    const marked = new Set<string>();
    const nowS = () => d.now() / 1000;
    for (const id of await d.listSnapshotIds()) {
      let refs: Set<string>;
      try {
        refs = await d.referencedDigests(id);
      } catch {
        continue; // forgotten meanwhile, or damaged (verify reports it)
      }
      for (const dg of refs) {
        if (marked.has(dg)) continue;
        marked.add(dg);
        try {
          await utimes(d.layout.chunk(dg), nowS(), nowS());
        } catch {
          res.missingChunks++;
        }
      }
    }
    // 4. sweep
    for (const a of await dirNames(d.layout.chunks)) {
      for (const b of await dirNames(join(d.layout.chunks, a))) {
        const dir = join(d.layout.chunks, a, b);
        for (const name of await dirNames(dir)) {
          const file = join(dir, name);
          const st = await stat(file).catch(() => undefined);
          if (!st) continue;
          if (!isDigest(name)) {
            // leftovers of killed writes (ours are `<digest>.tmp-…` / `.gc-…`)
            if (st.mtimeMs < res.cutoffMs && /\.(tmp|gc)-/.test(name)) {
              await unlink(file).catch(() => {});
              res.removedTempFiles++;
            }
            continue;
          }
          if (st.mtimeMs >= res.cutoffMs || marked.has(name)) {
            res.keptChunks++;
            continue;
          }
          const freed = await removeChunkUnlessTouched(file, res.cutoffMs);
          if (freed === 'kept') res.keptChunks++;
          else if (freed !== 'gone') {
            res.removedChunks++;
            res.freedBytes += freed;
          }
        }
      }
    }
    d.log?.(`gc: removed ${res.removedChunks} chunks (${res.freedBytes} bytes), kept ${res.keptChunks}`);
    return res;
  } finally {
    await lock.release();
  }
}

/**
 * Deletes one chunk file unless a writer touched it at or after `cutoffMs`: the file is renamed
 * aside first (a writer storing the same chunk meanwhile then writes a new file), its time is
 * checked again, and a chunk touched in between is put back. Returns the bytes freed, `'kept'`,
 * or `'gone'` when the file was no longer there.
 */
export async function removeChunkUnlessTouched(file: string, cutoffMs: number): Promise<number | 'kept' | 'gone'> {
  const aside = `${file}.gc-${process.pid}`;
  try {
    await rename(file, aside);
  } catch {
    return 'gone';
  }
  const st = await stat(aside).catch(() => undefined);
  if (!st) return 'gone';
  if (st.mtimeMs >= cutoffMs) {
    await rename(aside, file).catch(() => {});
    return 'kept';
  }
  await unlink(aside).catch(() => {});
  return st.size;
}

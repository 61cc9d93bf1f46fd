import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AppError, isAppError } from '../../../../shared/errors/app-error.js';
import type { RepoLayout } from '../layout.js';
import { liveLocks } from '../locks/lock-file.js';
import { MIN_GRACE_MS, removeChunkUnlessTouched } from '../maintenance/gc.js';

/** What a failed backup's clean-up did. */
export interface CleanupResult {
  removedChunks: number;
  freedBytes: number;
  /** Why nothing was removed, when nothing could safely be. */
  skipped?: string;
}

/** What the clean-up needs from the repository. */
export interface CleanupDeps {
  layout: RepoLayout;
  /** Ids of committed snapshots. */
  snapshotIds: () => Promise<string[]>;
  /** Digests referenced by a snapshot; throws if it vanished. */
  referencedDigests: (id: string) => Promise<Set<string>>;
}

/**
 * Removes the chunk files a failed backup wrote (they are referenced by nothing yet), so a full
 * disk is not left full until the next GC. Safe against other backups, by GC's own rules:
 *  - while another backup runs (a live writer lock besides `ownLock`) nothing is removed: it may
 *    have reused one of these chunks (the next GC frees them);
 *  - a chunk referenced by a snapshot committed since this backup started (a backup that ran and
 *    finished meanwhile; its manifest is newer than `startedMs`) is kept;
 *  - each chunk is renamed aside, its mtime re-checked (a backup starting right now touches the
 *    chunks it reuses: one touched at or after `failedMs` is put back), then deleted. A backup
 *    that touches it after the rename finds it missing and writes it again.
 */
export async function removeWrittenChunks(d: CleanupDeps, written: string[], ownLock: string, startedMs: number, failedMs: number): Promise<CleanupResult> {
  if (written.length === 0) return { removedChunks: 0, freedBytes: 0 };
  const others = (await liveLocks(d.layout.locks, 'writer-')).filter((l) => l.name !== ownLock);
  if (others.length) return { removedChunks: 0, freedBytes: 0, skipped: `another backup is running (${others[0]!.info.what})` };
  const kept = new Set<string>();
  for (const id of await d.snapshotIds()) {
    const st = await stat(d.layout.manifest(id)).catch(() => undefined);
    if (!st || st.mtimeMs < startedMs - MIN_GRACE_MS) continue;
    for (const dg of await d.referencedDigests(id).catch(() => new Set<string>())) kept.add(dg);
  }
  const res: CleanupResult = { removedChunks: 0, freedBytes: 0 };
  for (const file of written) {
    if (kept.has(basename(file))) continue;
    const freed = await removeChunkUnlessTouched(file, failedMs);
    if (typeof freed !== 'number') continue;
    res.removedChunks++;
    res.freedBytes += freed;
  }
  return res;
}

/**
 * The error a failed backup reports after its clean-up: DISK_FULL says how much space was given
 * back, or how to free it now (`twinsnap gc`) when nothing could be removed; other errors pass.
 */
export function afterCleanup(e: unknown, r: CleanupResult | undefined): unknown {
  if (!isAppError(e, 'DISK_FULL')) return e;
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  const said = r?.removedChunks
    ? `; the ${r.removedChunks} chunk(s) this backup had written (${mib(r.freedBytes)}) were removed again`
    : `; the chunks this backup wrote stay until garbage collection${r?.skipped ? ` (${r.skipped})` : ''}: run 'twinsnap gc' (or 'Free unused space (GC)' on the Repository page) to free the space now`;
  return new AppError('DISK_FULL', `${e.message}${said}`, { cause: e, details: { ...(e.details ?? {}), removedChunks: r?.removedChunks ?? 0, freedBytes: r?.freedBytes ?? 0 } });
}

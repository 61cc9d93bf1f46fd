/**
 * `offsite prune`: forget and GC against the bucket. Snapshots offsite that the local repository
 * no longer has (its retention forgot them) are removed from the bucket — manifest first, so the
 * snapshot disappears atomically — then every chunk no remaining offsite snapshot references.
 * Nothing under Object Lock is deleted early: a locked snapshot or chunk is kept and reported with
 * its date (the next prune after that date removes it). On a versioned bucket (Object Lock implies
 * versioning) every version of an object is deleted, so space is really freed. Key files of an
 * encrypted repository that the local repository no longer has (a password changed or removed)
 * are removed too, but only once every current key file is offsite (`offsite copy` sent it), so
 * the bucket never lacks a key that opens it; a locked one stays until its date, and until then
 * its old password still opens the offsite copy.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Repository } from '../repository/repository.js';
import { checkSameRepository, chunkRel, keyFilesToSend, manifestRel, REPO_CONFIG_OBJECT } from './offsite-copy.js';
import { takeOffsiteLock } from './offsite-locks.js';
import { publishedSnapshots } from './offsite-repository.js';
import type { S3Destination } from './s3-destination.js';
import { runPool } from './transfer-pool.js';

export interface OffsitePruneResult {
  destination: string;
  /** Snapshots removed from the bucket. */
  removed: string[];
  /** Snapshots that would go but are locked (kept until the date). */
  locked: { id: string; until: string }[];
  chunksDeleted: number;
  bytesFreed: number;
  /** Unreferenced chunks kept because their lock has not run out; the latest date among them. */
  chunksLocked: number;
  chunksLockedUntil?: string;
  /** Key files (encrypted repository) the local repository no longer has, removed from the bucket. */
  keysDeleted: string[];
  /** Such key files kept because their lock has not run out. */
  keysLocked: { rel: string; until: string }[];
  /** Such key files kept because a current key file is not offsite yet (run `offsite copy` first). */
  keysWaiting: string[];
  dryRun: boolean;
}

export async function pruneOffsite(repo: Repository, dest: S3Destination, opts: { dryRun?: boolean; clock?: Clock; jobs?: number } = {}): Promise<OffsitePruneResult> {
  const clock = opts.clock ?? systemClock;
  await dest.check();
  const release = opts.dryRun ? async () => {} : await takeOffsiteLock(dest, 'prune', 'copy', clock.now());
  try {
    const entries = await dest.entries();
    const listing = new Map([...entries].map(([k, e]) => [k, e.size]));
    if (!listing.has(REPO_CONFIG_OBJECT)) throw new AppError('REPO_NOT_FOUND', `${dest.name} holds no twinsnap repository`, { details: { destination: dest.name } });
    await checkSameRepository(repo, dest, listing);
    const locking = await dest.objectLockEnabled();
    const until = async (rel: string) => (locking ? await dest.retention(rel) : undefined);
    const local = new Set(await repo.snapshotIds());
    const offsite = publishedSnapshots(listing);
    const removed: string[] = [];
    const locked: OffsitePruneResult['locked'] = [];
    const keep: string[] = [];
    for (const id of offsite) {
      if (local.has(id)) {
        keep.push(id);
        continue;
      }
      const u = await until(manifestRel(id));
      if (u && u.getTime() > clock.now()) {
        locked.push({ id, until: u.toISOString() });
        keep.push(id);
      } else removed.push(id);
    }
    // what the kept snapshots reference: their indexes (here when the snapshot is local, else from
    // the bucket), opened by the repository (sealed in an encrypted one: its keys open them)
    const referenced = new Set<string>();
    for (const id of keep) {
      for (const rel of [...listing.keys()].filter((k) => k.startsWith(`snapshots/${id}/`) && k.endsWith('.fidx'))) {
        const buf = local.has(id) ? await readFile(join(repo.path, rel)) : await dest.get(rel);
        for (const dg of repo.indexObjectDigests(id, rel.slice(`snapshots/${id}/`.length), buf)) referenced.add(chunkRel(dg));
      }
    }
    const versions = locking ? await dest.versions() : new Map<string, string[]>();
    const del = (rel: string) => (opts.dryRun ? Promise.resolve() : dest.remove(rel, versions.get(rel)));
    for (const id of removed) {
      await del(manifestRel(id)); // unpublished first: from here on no reader sees the snapshot
      await runPool(
        [...listing.keys()].filter((k) => k.startsWith(`snapshots/${id}/`) && k !== manifestRel(id)),
        opts.jobs ?? 8,
        del,
      );
    }
    let chunksDeleted = 0;
    let bytesFreed = 0;
    let chunksLocked = 0;
    let lockedUntil = 0;
    const orphans = [...listing.keys()].filter((k) => k.startsWith('chunks/') && !referenced.has(k));
    await runPool(orphans, opts.jobs ?? 8, async (rel) => {
      const u = await until(rel);
      if (u && u.getTime() > clock.now()) {
        chunksLocked++;
        lockedUntil = Math.max(lockedUntil, u.getTime());
        return;
      }
      await del(rel);
      chunksDeleted++;
      bytesFreed += listing.get(rel) ?? 0;
    });
    // key files of passwords and recovery keys removed here: only once every current one is there
    const keysDeleted: string[] = [];
    const keysLocked: OffsitePruneResult['keysLocked'] = [];
    let keysWaiting: string[] = [];
    if (repo.layout.keys) {
      const keys = await keyFilesToSend(repo, dest, entries);
      if (keys.send.length) keysWaiting = keys.removedLocally;
      else {
        for (const rel of keys.removedLocally) {
          const u = await until(rel);
          if (u && u.getTime() > clock.now()) keysLocked.push({ rel, until: u.toISOString() });
          else {
            await del(rel);
            keysDeleted.push(rel);
          }
        }
      }
    }
    return {
      destination: dest.name,
      removed,
      keysDeleted,
      keysLocked,
      keysWaiting,
      locked,
      chunksDeleted,
      bytesFreed,
      chunksLocked,
      ...(lockedUntil ? { chunksLockedUntil: new Date(lockedUntil).toISOString() } : {}),
      dryRun: Boolean(opts.dryRun),
    };
  } finally {
    await release();
  }
}

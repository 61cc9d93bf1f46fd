/**
 * `offsite copy`: brings a local repository's snapshots to an S3 destination, object for object
 * (the same relative paths: encrypted repositories stay encrypted, whatever the chunk encoding).
 * One listing of the destination decides what is missing; only that is uploaded, in parallel,
 * under one bandwidth limit; each snapshot's manifest goes LAST, after every object it names has
 * arrived, so a snapshot appears offsite atomically and an interrupted copy resumes by listing
 * again (an S3 PUT is all-or-nothing: a killed upload leaves no partial object).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Repository } from '../repository/repository.js';
import { type ObjectLock, type S3Destination } from './s3-destination.js';
import { RateLimiter, runPool } from './transfer-pool.js';
import { takeOffsiteLock } from './offsite-locks.js';

export const REPO_CONFIG_OBJECT = 'twinsnap-repo.json';

/** Repository-relative path of a chunk file. */
export const chunkRel = (dg: string): string => `chunks/${dg.slice(0, 2)}/${dg.slice(2, 4)}/${dg}`;
/** Repository-relative path of a snapshot's manifest (its presence publishes the snapshot). */
export const manifestRel = (id: string): string => `snapshots/${id}/manifest.json`;

/** Progress of a copy (also the job's progress). */
export interface OffsiteProgress {
  phase: 'listing' | 'uploading' | 'done';
  snapshot?: string;
  objectsDone: number;
  objectsTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Average upload throughput since the start of the upload phase. */
  bytesPerSecond: number;
  etaSeconds?: number;
}

export interface OffsiteCopyOptions {
  /** Only these snapshots (default: every committed one). */
  snapshotIds?: string[];
  /** Parallel uploads (default 8). */
  jobs?: number;
  /** Bandwidth limit in bytes per second (default: none). */
  limitRate?: number;
  /** Object Lock: mode and days every uploaded (and still referenced) object stays locked. */
  lock?: { mode: ObjectLock['mode']; days: number };
  clock?: Clock;
  signal?: AbortSignal;
  onProgress?: (p: OffsiteProgress) => void;
}

export interface OffsiteCopyResult {
  destination: string;
  /** Snapshots published by this run. */
  copied: string[];
  /** Snapshots that were already offsite. */
  alreadyOffsite: string[];
  objectsSent: number;
  bytesSent: number;
  /** Objects the destination already had (not sent again). */
  objectsSkipped: number;
  /** Locks extended on objects that new snapshots reference. */
  locksExtended: number;
  /** Retention date given to this run's objects. */
  lockedUntil?: string;
  seconds: number;
}

/** Files of a committed snapshot folder, repository-relative, manifest excluded. */
async function snapshotFiles(repo: Repository, id: string): Promise<string[]> {
  const root = join(repo.path, 'snapshots', id);
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(relative(repo.path, p).split(sep).join('/'));
    }
  };
  await walk(root);
  return out.filter((r) => r !== manifestRel(id)).sort();
}

/** Copies `repo`'s snapshots to `dest`; see the file comment. */
export async function copyToOffsite(repo: Repository, dest: S3Destination, opts: OffsiteCopyOptions = {}): Promise<OffsiteCopyResult> {
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now();
  const started = now();
  const jobs = opts.jobs ?? 8;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new AppError('INVALID_REQUEST', `parallel uploads must be 1 … 64, got ${jobs}`);
  if (opts.limitRate !== undefined && !(opts.limitRate >= 1024)) throw new AppError('INVALID_REQUEST', `the bandwidth limit must be at least 1024 bytes/s, got ${opts.limitRate}`);
  const emit = (p: OffsiteProgress) => opts.onProgress?.(p);
  emit({ phase: 'listing', objectsDone: 0, objectsTotal: 0, bytesDone: 0, bytesTotal: 0, bytesPerSecond: 0 });

  await dest.check();
  let lock: ObjectLock | undefined;
  if (opts.lock) {
    if (!(opts.lock.days > 0)) throw new AppError('INVALID_REQUEST', `lock days must be positive, got ${opts.lock.days}`);
    if (!(await dest.objectLockEnabled())) {
      throw new AppError('OFFSITE_NO_OBJECT_LOCK', `${dest.name}: the bucket has no Object Lock, so the copies could be deleted; create a bucket with Object Lock enabled (it cannot be turned on later on most services) or copy without --lock-days`, {
        details: { destination: dest.name },
      });
    }
    lock = { mode: opts.lock.mode, until: new Date(now() + opts.lock.days * 86_400_000) };
  }

  // a prune running against the same destination could delete chunks this copy counts on
  const release = await takeOffsiteLock(dest, 'copy', 'prune', now());
  try {
    return await copyLocked(repo, dest, opts, { lock, now, started, jobs, emit });
  } finally {
    await release().catch(() => {});
  }
}

async function copyLocked(
  repo: Repository,
  dest: S3Destination,
  opts: OffsiteCopyOptions,
  { lock, now, started, jobs, emit }: { lock: ObjectLock | undefined; now: () => number; started: number; jobs: number; emit: (p: OffsiteProgress) => void },
): Promise<OffsiteCopyResult> {
  const all = await repo.snapshotIds();
  const wanted = opts.snapshotIds ?? all;
  for (const id of wanted) if (!all.includes(id)) throw new AppError('SNAPSHOT_NOT_FOUND', `snapshot '${id}' is not in the repository '${repo.path}'`);
  const remote = await dest.list();
  const alreadyOffsite = wanted.filter((id) => remote.has(manifestRel(id)));
  const todo = [...wanted].filter((id) => !remote.has(manifestRel(id))).sort();

  // plan: per snapshot, what to send (not there, not sent earlier in this run) and what to re-lock
  const planned = new Set<string>();
  const plans: { id: string; send: { rel: string; size: number }[]; relock: string[] }[] = [];
  let bytesTotal = 0;
  let skipped = 0;
  for (const id of todo) {
    const files = await snapshotFiles(repo, id);
    const chunks = [...(await repo.referencedDigests(id))].map(chunkRel);
    const send: { rel: string; size: number }[] = [];
    const relock: string[] = [];
    for (const rel of [...chunks, ...files, manifestRel(id)]) {
      if (remote.has(rel)) {
        skipped++;
        if (lock && rel.startsWith('chunks/')) relock.push(rel);
        continue;
      }
      if (planned.has(rel)) continue;
      planned.add(rel);
      const size = (await stat(join(repo.path, rel))).size;
      send.push({ rel, size });
      bytesTotal += size;
    }
    plans.push({ id, send, relock });
  }
  if (!remote.has(REPO_CONFIG_OBJECT)) bytesTotal += (await stat(join(repo.path, REPO_CONFIG_OBJECT))).size;
  const objectsTotal = plans.reduce((a, p) => a + p.send.length, 0) + (remote.has(REPO_CONFIG_OBJECT) ? 0 : 1);

  const limiter = opts.limitRate ? new RateLimiter(opts.limitRate, opts.clock ?? systemClock) : undefined;
  let bytesDone = 0;
  let objectsDone = 0;
  let locksExtended = 0;
  const upStart = now();
  const progress = (snapshot?: string, phase: OffsiteProgress['phase'] = 'uploading') => {
    const secs = Math.max(0.001, (now() - upStart) / 1000);
    const rate = bytesDone / secs;
    emit({ phase, snapshot, objectsDone, objectsTotal, bytesDone, bytesTotal, bytesPerSecond: rate, etaSeconds: rate > 0 ? (bytesTotal - bytesDone) / rate : undefined });
  };
  const upload = async (rel: string) => {
    const body = await readFile(join(repo.path, rel));
    await limiter?.take(body.length, opts.signal);
    await dest.put(rel, body, lock);
    bytesDone += body.length;
    objectsDone++;
  };

  if (!remote.has(REPO_CONFIG_OBJECT)) await upload(REPO_CONFIG_OBJECT);
  const copied: string[] = [];
  for (const p of plans) {
    const manifest = p.send.find((s) => s.rel === manifestRel(p.id));
    const body = p.send.filter((s) => s !== manifest);
    let last = 0;
    await runPool(
      body.map((s) => s.rel),
      jobs,
      async (rel) => {
        await upload(rel);
        if (now() - last > 250) {
          last = now();
          progress(p.id);
        }
      },
      opts.signal,
    );
    if (lock) {
      const l = lock;
      // chunks this snapshot shares with earlier ones must stay locked as long as it does
      await runPool(p.relock, jobs, async (rel) => {
        await dest.extendRetention(rel, l);
        locksExtended++;
      }, opts.signal);
    }
    // the manifest last: only now may a reader see this snapshot
    if (opts.signal?.aborted) throw new AppError('CANCELLED', 'cancelled');
    if (manifest) await upload(manifest.rel);
    copied.push(p.id);
    progress(p.id);
  }
  progress(undefined, 'done');
  return {
    destination: dest.name,
    copied,
    alreadyOffsite,
    objectsSent: objectsDone,
    bytesSent: bytesDone,
    objectsSkipped: skipped,
    locksExtended,
    lockedUntil: lock?.until.toISOString(),
    seconds: (now() - started) / 1000,
  };
}

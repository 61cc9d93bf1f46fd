/**
 * `offsite copy`: brings a local repository's snapshots to an S3 destination, object for object
 * (the same relative paths: encrypted repositories stay encrypted, whatever the chunk encoding).
 * One listing of the destination decides what is missing; only that is uploaded, in parallel,
 * under one bandwidth limit; each snapshot's manifest goes LAST, after every object it names has
 * arrived, so a snapshot appears offsite atomically and an interrupted copy resumes by listing
 * again (an S3 PUT is all-or-nothing: a killed upload leaves no partial object). An encrypted
 * repository's key files (`keys/<id>.json`) go first, and again whenever they change (see
 * `keyFilesToSend`): without them the bucket alone could never be unlocked.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Repository } from '../repository/repository.js';
import { type ObjectLock, type RemoteEntry, type S3Destination } from './s3-destination.js';
import { RateLimiter, runPool } from './transfer-pool.js';
import { takeOffsiteLock } from './offsite-locks.js';
import { LockDates, lockHeadroomMs } from './lock-dates.js';

export const REPO_CONFIG_OBJECT = 'twinsnap-repo.json';

/** Repository-relative path of a chunk file. */
export const chunkRel = (dg: string): string => `chunks/${dg.slice(0, 2)}/${dg.slice(2, 4)}/${dg}`;
/** Repository-relative path of a snapshot's manifest (its presence publishes the snapshot). */
export const manifestRel = (id: string): string => `snapshots/${id}/manifest.json`;
/** Repository-relative paths of an encrypted repository's key files (`keys/<16 hex>.json`). */
export const KEY_FILE_REL = /^keys\/[0-9a-f]{16}\.json$/;

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
  /** What this host knows of the destination's lock dates (see lock-dates.ts; default: nothing, every shared object is extended). */
  lockDates?: LockDates;
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
  /** Key files (encrypted repository) sent by this run: new, or changed since the last copy. */
  keysSent: string[];
  /** Key files offsite that the local repository no longer has (a password changed or removed): `offsite prune` removes them. */
  keysRemovedLocally: string[];
  /** Retention date of the snapshots this run copied (their manifests and folders): now + lock days. */
  lockedUntil?: string;
  /** Retention date given to the chunks (and configuration, key files) this run uploaded or extended: lockedUntil + the headroom (lock-dates.ts). */
  chunksLockedUntil?: string;
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

/** The local repository's key files, repository-relative (none for a plain repository). */
async function localKeyFiles(repo: Repository): Promise<string[]> {
  const names = await readdir(join(repo.path, 'keys')).catch(() => [] as string[]);
  return names
    .map((n) => `keys/${n}`)
    .filter((rel) => KEY_FILE_REL.test(rel))
    .sort();
}

/**
 * Which key files of an encrypted repository the destination lacks or holds in another version.
 * A key file holds only the repository's master key WRAPPED (AES-256-GCM under a key that scrypt
 * derives from one password or recovery key) plus its non-secret parameters: no password and no
 * usable key, so uploading it shows the provider nothing it can open, exactly like the local
 * disk. A key file is normally never rewritten (a password change writes a new `<id>.json` and
 * removes the old one), but one whose content differs is sent again all the same: same size and
 * an ETag equal to the local MD5 is "the same"; an ETag that is not an MD5 (SSE-KMS, some
 * providers) is settled by downloading the object (a few hundred bytes). With Object Lock the new
 * upload is a new version of the key. Key files the local repository no longer has are only
 * reported here: `offsite prune` (the one command that deletes) removes them.
 */
export async function keyFilesToSend(repo: Repository, dest: S3Destination, remote: Map<string, RemoteEntry>): Promise<{ send: string[]; same: string[]; removedLocally: string[] }> {
  const local = await localKeyFiles(repo);
  const send: string[] = [];
  const same: string[] = [];
  for (const rel of local) {
    const there = remote.get(rel);
    const body = await readFile(join(repo.path, rel));
    let equal = there !== undefined && there.size === body.length;
    if (equal && there?.etag !== createHash('md5').update(body).digest('hex')) equal = (await dest.get(rel)).equals(body);
    (equal ? same : send).push(rel);
  }
  const removedLocally = [...remote.keys()].filter((rel) => KEY_FILE_REL.test(rel) && !local.includes(rel)).sort();
  return { send, same, removedLocally };
}

/** The repository id of the destination's `twinsnap-repo.json`, or undefined when it has none or it is unreadable. */
export async function remoteRepositoryId(dest: S3Destination, remote: Map<string, unknown>): Promise<string | undefined> {
  if (!remote.has(REPO_CONFIG_OBJECT)) return undefined;
  try {
    return (JSON.parse((await dest.get(REPO_CONFIG_OBJECT)).toString('utf8')) as { id?: string }).id;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/**
 * ALREADY_EXISTS when the destination holds another repository than `repo` (another id): its
 * configuration (plain or encrypted, which keys) would not describe what is copied next to it, so
 * the copy could never be read, and a prune would delete the other repository's snapshots.
 */
export async function checkSameRepository(repo: Repository, dest: S3Destination, remote: Map<string, unknown>): Promise<void> {
  const id = await remoteRepositoryId(dest, remote);
  if (id !== undefined && id !== repo.config.id) {
    throw new AppError('ALREADY_EXISTS', `${dest.name} holds another repository (id ${id}; this one is ${repo.config.id}): copy to another prefix`, {
      details: { destination: dest.name, remoteId: id, localId: repo.config.id },
    });
  }
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
      throw new AppError(
        'OFFSITE_NO_OBJECT_LOCK',
        `${dest.name}: the bucket has no Object Lock, so the copies could be deleted; create a bucket with Object Lock enabled (it cannot be turned on later on most services) or copy without --lock-days`,
        {
          details: { destination: dest.name },
        },
      );
    }
    lock = { mode: opts.lock.mode, until: new Date(now() + opts.lock.days * 86_400_000) };
  }
  // shared objects (chunks, configuration, key files) are locked beyond the date with headroom, so
  // the next copies need not extend them; a snapshot's own files get exactly the date
  const shared: ObjectLock | undefined = lock && opts.lock ? { mode: lock.mode, until: new Date(lock.until.getTime() + lockHeadroomMs(opts.lock.days)) } : undefined;
  const dates = opts.lockDates ?? LockDates.inMemory();

  // a prune running against the same destination could delete chunks this copy counts on
  const release = await takeOffsiteLock(dest, 'copy', 'prune', now());
  try {
    return await copyLocked(repo, dest, opts, { lock, shared, dates, now, started, jobs, emit });
  } finally {
    await dates.save().catch(() => {}); // a cache: losing it costs extensions, never a lock
    await release().catch(() => {});
  }
}

async function copyLocked(
  repo: Repository,
  dest: S3Destination,
  opts: OffsiteCopyOptions,
  {
    lock,
    shared,
    dates,
    now,
    started,
    jobs,
    emit,
  }: { lock: ObjectLock | undefined; shared: ObjectLock | undefined; dates: LockDates; now: () => number; started: number; jobs: number; emit: (p: OffsiteProgress) => void },
): Promise<OffsiteCopyResult> {
  const all = await repo.snapshotIds();
  const wanted = opts.snapshotIds ?? all;
  for (const id of wanted) if (!all.includes(id)) throw new AppError('SNAPSHOT_NOT_FOUND', `snapshot '${id}' is not in the repository '${repo.path}'`);
  const remote = await dest.entries();
  dates.keepOnly(remote);
  await checkSameRepository(repo, dest, remote);
  const keys = await keyFilesToSend(repo, dest, remote);
  const alreadyOffsite = wanted.filter((id) => remote.has(manifestRel(id)));
  const todo = [...wanted].filter((id) => !remote.has(manifestRel(id))).sort();

  // plan: per snapshot, what to send (not there, not sent earlier in this run) and what to re-lock
  const planned = new Set<string>();
  const relocking = new Set<string>();
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
        // a shared chunk needs a longer lock only when the one it has (as far as we know) ends before this snapshot's
        if (lock && rel.startsWith('chunks/') && !((dates.get(rel) ?? -Infinity) >= lock.until.getTime()) && !relocking.has(rel)) {
          relocking.add(rel);
          relock.push(rel);
        }
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
  // what every snapshot needs to be read: the configuration and (encrypted) the key files
  const first = [...(remote.has(REPO_CONFIG_OBJECT) ? [] : [REPO_CONFIG_OBJECT]), ...keys.send];
  for (const rel of first) bytesTotal += (await stat(join(repo.path, rel))).size;
  const objectsTotal = plans.reduce((a, p) => a + p.send.length, 0) + first.length;

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
    // a snapshot's own files get its date; what snapshots share gets the date with headroom
    const l = rel.startsWith('snapshots/') ? lock : shared;
    await dest.put(rel, body, l);
    if (l) dates.raise(rel, l.until.getTime());
    bytesDone += body.length;
    objectsDone++;
  };

  // before any manifest: a reader that sees a snapshot can open the repository
  for (const rel of first) await upload(rel);
  if (lock && shared && plans.length) {
    // the snapshots locked now are unreadable without these: keep them locked at least as long
    const l = lock;
    const s = shared;
    const held = [...(remote.has(REPO_CONFIG_OBJECT) ? [REPO_CONFIG_OBJECT] : []), ...keys.same];
    await runPool(
      held,
      jobs,
      async (rel) => {
        const known = dates.get(rel);
        if (known !== undefined && known >= l.until.getTime()) return;
        // not known here (another host's, or a lost cache): read it once, it may be long enough
        const until = known === undefined ? await dest.retention(rel) : undefined;
        if (until) dates.raise(rel, until.getTime());
        if (until && until >= l.until) return; // never shortened (COMPLIANCE refuses it anyway)
        await dest.extendRetention(rel, s);
        dates.raise(rel, s.until.getTime());
        locksExtended++;
      },
      opts.signal,
    );
  }
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
    if (shared) {
      const s = shared;
      // chunks this snapshot shares with earlier ones must stay locked as long as it does (only
      // those whose lock ends first: see the plan), and get the headroom the new ones get
      await runPool(
        p.relock,
        jobs,
        async (rel) => {
          await dest.extendRetention(rel, s);
          dates.raise(rel, s.until.getTime());
          locksExtended++;
        },
        opts.signal,
      );
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
    keysSent: keys.send,
    keysRemovedLocally: keys.removedLocally,
    lockedUntil: lock?.until.toISOString(),
    chunksLockedUntil: shared?.until.toISOString(),
    seconds: (now() - started) / 1000,
  };
}

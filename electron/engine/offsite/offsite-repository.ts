/**
 * Disaster recovery: an offsite copy opened as a read-only repository through a local cache
 * folder. Opening lists the bucket once and downloads the repository configuration and every
 * published snapshot's folder (manifest, indexes, configuration files: small); chunks are fetched
 * on demand into the cache (`RepositoryOptions.remote`), so browsing a file costs a few chunks and
 * an export the chunks of its disk. Only whole files move: whatever the chunk encoding (plain or
 * encrypted), the repository code reads the cache exactly as it reads a local folder. An
 * encrypted repository's key files (`keys/`, wrapped keys only) are downloaded before it is
 * opened, so the password (`TWINSNAP_PASSWORD`, `--password-file`, the prompt) unlocks the cache
 * as it would the local repository; nothing decrypted is ever written to the cache.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import type { RepositoryInfo } from '../../../shared/domain/engine.js';
import { openRepository, readRepositoryInfo, REPO_FORMAT_ENCRYPTED, type RemoteObjects, type Repository, type RepositoryOptions } from '../repository/repository.js';
import { KEY_FILE_REL, REPO_CONFIG_OBJECT } from './offsite-copy.js';
import type { S3Destination } from './s3-destination.js';
import { runPool } from './transfer-pool.js';

/** The cache folder of a destination under `cacheRoot` (one per endpoint + bucket + prefix). */
export function offsiteCacheDir(cacheRoot: string, dest: S3Destination): string {
  return join(cacheRoot, createHash('sha256').update(dest.name).digest('hex').slice(0, 16));
}

/** Published snapshot ids in a listing (a snapshot exists offsite once its manifest does). */
export function publishedSnapshots(listing: Map<string, number>): string[] {
  const ids: string[] = [];
  for (const k of listing.keys()) {
    const m = /^snapshots\/([^/]+)\/manifest\.json$/.exec(k);
    if (m) ids.push(m[1]!);
  }
  return ids.sort();
}

/** Lists `dest` and brings its repository configuration into `cacheDir` (REPO_NOT_FOUND naming the destination when it holds none). */
async function listRepository(dest: S3Destination, cacheDir: string): Promise<Map<string, number>> {
  const listing = await dest.list();
  if (!listing.has(REPO_CONFIG_OBJECT)) {
    throw new AppError('REPO_NOT_FOUND', `${dest.name} holds no twinsnap repository (no ${REPO_CONFIG_OBJECT}); copy one there with 'twinsnap offsite copy --to …'`, {
      details: { destination: dest.name },
    });
  }
  await mkdir(join(cacheDir, 'snapshots'), { recursive: true, mode: 0o700 });
  await dest.download(REPO_CONFIG_OBJECT, join(cacheDir, REPO_CONFIG_OBJECT));
  return listing;
}

/** What `dest` holds — plain or encrypted, its cipher and key files — without a password (`repository info --repo s3://…`): its configuration and key files, read through the cache. */
export async function offsiteRepositoryInfo(dest: S3Destination, cacheDir: string): Promise<RepositoryInfo> {
  const listing = await listRepository(dest, cacheDir);
  await syncKeyFiles(dest, cacheDir, listing);
  return { ...(await readRepositoryInfo(cacheDir)), path: dest.name };
}

/** Opens `dest` as a read-only repository cached in `cacheDir`; the caller closes it (and `dest`). */
export async function openOffsiteRepository(dest: S3Destination, cacheDir: string, opts: RepositoryOptions = {}): Promise<Repository> {
  const listing = await listRepository(dest, cacheDir);
  const ids = publishedSnapshots(listing);
  const idSet = new Set(ids);
  // snapshot folders: what is published and not cached yet (or changed size: an amended manifest)
  const wanted: string[] = [];
  for (const [rel, size] of listing) {
    const m = /^snapshots\/([^/]+)\//.exec(rel);
    if (!m || !idSet.has(m[1]!)) continue; // a snapshot still being copied: invisible
    const have = await stat(join(cacheDir, rel)).catch(() => undefined);
    if (!have || have.size !== size) wanted.push(rel);
  }
  // the manifest last here too, so a cache interrupted mid-download never shows a half snapshot
  wanted.sort((a, b) => Number(a.endsWith('/manifest.json')) - Number(b.endsWith('/manifest.json')));
  await runPool(
    wanted.filter((r) => !r.endsWith('/manifest.json')),
    8,
    (rel) => dest.download(rel, join(cacheDir, rel)),
  );
  await runPool(
    wanted.filter((r) => r.endsWith('/manifest.json')),
    8,
    (rel) => dest.download(rel, join(cacheDir, rel)),
  );
  // snapshots gone from the bucket (pruned) go from the cache too
  for (const id of await readdir(join(cacheDir, 'snapshots')).catch(() => [] as string[])) {
    if (!idSet.has(id)) await rm(join(cacheDir, 'snapshots', id), { recursive: true, force: true });
  }
  const encrypted = await syncKeyFiles(dest, cacheDir, listing);
  const chunks = new Set([...listing.keys()].filter((k) => k.startsWith('chunks/')));
  const remote: RemoteObjects = {
    name: dest.name,
    // a chunk the bucket lacks stays missing here: the reader reports CHUNK_MISSING naming it
    fetch: (rels) =>
      runPool(
        rels.filter((r) => chunks.has(r)),
        8,
        (rel) => dest.download(rel, join(cacheDir, rel)),
      ),
    exists: async (rels) => new Set(rels.filter((r) => chunks.has(r))),
  };
  try {
    return await openRepository(cacheDir, { ...opts, remote });
  } catch (e) {
    // say which repository could not be unlocked: the bucket, not the cache folder
    if (encrypted && isAppError(e) && ['REPO_PASSWORD_REQUIRED', 'REPO_PASSWORD_WRONG', 'REPO_CORRUPT'].includes(e.code)) {
      throw new AppError(e.code, e.message.split(`'${cacheDir}'`).join(`'${dest.name}'`), { cause: e, details: { ...e.details, destination: dest.name } });
    }
    throw e;
  }
}

/**
 * Brings the cache's `keys/` to what the bucket holds (every key file downloaded again: a few
 * hundred bytes each, and a key removed offsite must stop opening the cache) and says whether the
 * repository is encrypted. An encrypted copy without key files was made before `offsite copy`
 * sent them: REPO_CORRUPT saying how to complete it.
 */
async function syncKeyFiles(dest: S3Destination, cacheDir: string, listing: Map<string, number>): Promise<boolean> {
  const keyDir = join(cacheDir, 'keys');
  const offsite = [...listing.keys()].filter((k) => KEY_FILE_REL.test(k));
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  await runPool(offsite, 8, (rel) => dest.download(rel, join(cacheDir, rel)));
  for (const n of await readdir(keyDir)) if (!offsite.includes(`keys/${n}`)) await rm(join(keyDir, n), { force: true });
  let format: unknown;
  try {
    format = (JSON.parse(await readFile(join(cacheDir, REPO_CONFIG_OBJECT), 'utf8')) as { format?: unknown }).format;
  } catch {
    return false; // the repository code reports an unreadable configuration
  }
  if (format !== REPO_FORMAT_ENCRYPTED) return false;
  if (!offsite.length) {
    throw new AppError(
      'REPO_CORRUPT',
      `${dest.name} holds an encrypted repository but none of its key files (keys/), so no password can open it: run 'twinsnap offsite copy --to …' again from the local repository (it sends them), or restore the key files from another copy`,
      {
        details: { destination: dest.name },
      },
    );
  }
  return true;
}

/**
 * Copy and prune must not overlap on one destination: a prune could delete a chunk that a running
 * copy found there and is about to reference. S3 (and RGW 16) has no atomic create-if-absent, so,
 * like restic's repository locks, each run announces itself with `locks/<kind>-<id>.json` and then
 * looks for the other kind (announce, then check: of two that overlap, at least one sees the other).
 * A lock older than STALE_MS, or of a process of this host that is gone, is stale and removed.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AppError } from '../../../shared/errors/app-error.js';
import type { S3Destination } from './s3-destination.js';

export const STALE_MS = 6 * 3600_000;

/** Whether a process of this host is still running. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the `kind` lock on `dest` unless a fresh lock of `other` exists; returns its release. */
export async function takeOffsiteLock(dest: S3Destination, kind: 'copy' | 'prune', other: 'copy' | 'prune', nowMs: number): Promise<() => Promise<void>> {
  const rel = `locks/${kind}-${randomBytes(6).toString('hex')}.json`;
  await dest.put(rel, Buffer.from(JSON.stringify({ kind, host: hostname(), pid: process.pid, startedMs: nowMs })));
  const release = async () => dest.remove(rel, (await dest.versions(rel)).get(rel));
  try {
    for (const k of (await dest.list('locks/')).keys()) {
      if (!k.startsWith(`locks/${other}-`)) continue;
      const held = JSON.parse((await dest.get(k).catch(() => Buffer.from('{}'))).toString('utf8')) as { startedMs?: number; host?: string; pid?: number };
      const deadHere = held.host === hostname() && typeof held.pid === 'number' && !alive(held.pid);
      if (deadHere || typeof held.startedMs !== 'number' || nowMs - held.startedMs >= STALE_MS) {
        // left by a killed run: gone for good (best effort)
        await dest.remove(k, (await dest.versions(k)).get(k)).catch(() => {});
        continue;
      }
      throw new AppError(
        'REPO_LOCKED',
        `${dest.name}: an offsite ${other} is running (started ${new Date(held.startedMs).toISOString()} on ${held.host ?? '?'}, pid ${held.pid ?? '?'}); try again when it is done (a lock left by a killed run on another host is ignored after 6 hours: ${k})`,
        {
          details: { destination: dest.name, lock: k },
        },
      );
    }
  } catch (e) {
    await release().catch(() => {});
    throw e;
  }
  return release;
}

import { link, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { AppError } from '../../../../shared/errors/app-error.js';
import { systemClock } from '../../core/clock.js';

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  host: string;
  startedMs: number;
  what: string;
}

/** A held lock; `release()` removes its file. */
export interface HeldLock {
  readonly file: string;
  readonly info: LockInfo;
  release(): Promise<void>;
}

/**
 * True when the process that wrote `info` is gone: same host and the pid no longer exists.
 * Locks of other hosts are never considered stale (we cannot tell; see README).
 */
export function isStale(info: LockInfo): boolean {
  if (info.host !== hostname()) return false;
  if (info.pid === process.pid) return false;
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Reads a lock file; undefined when it vanished or is unreadable (a half-written lock is treated as live by callers via mtime). */
export async function readLock(file: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * Creates `locks/<name>` exclusively (O_EXCL) with this process's pid. If it exists and its
 * owner is dead, the stale file is removed and creation retried once; otherwise REPO_LOCKED.
 */
export async function acquireLock(locksDir: string, name: string, what: string, nowMs: number): Promise<HeldLock> {
  const file = join(locksDir, name);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedMs: nowMs, what };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await createWithContent(file, JSON.stringify(info));
      return { file, info, release: () => unlink(file).catch(() => {}) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(e, locksDir, name, what);
      const other = await readLock(file);
      const st = other ? undefined : await stat(file).catch(() => undefined);
      // stale: owner gone, or an empty file (older than a minute) from a writer killed mid-create
      if ((other && isStale(other)) || (!other && (!st || systemClock.now() - st.mtimeMs > 60_000))) {
        await unlink(file).catch(() => {});
        continue;
      }
      throw new AppError(
        'REPO_LOCKED',
        `the repository is busy: ${other?.what ?? 'another operation'} (pid ${other?.pid ?? '?'} on ${other?.host ?? '?'}) holds ${name}; try again when it has finished`,
        {
          details: { lock: name, holder: other },
        },
      );
    }
  }
  throw new AppError('REPO_LOCKED', `unable to take lock ${name}`);
}

/**
 * Why a lock could not be created: a read-only file system (write-protected USB disk, read-only
 * share, WORM storage) is REPO_READ_ONLY, a folder we may not write to PERMISSION_DENIED.
 */
function lockError(e: unknown, locksDir: string, name: string, what: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const repo = dirname(locksDir);
  if (code === 'EROFS') {
    return new AppError(
      'REPO_READ_ONLY',
      `the repository '${repo}' is on a read-only file system (write-protected disk, read-only share or WORM storage): ${what} needs to write to it; listing, browsing and restoring work as they are`,
      {
        cause: e,
        details: { path: repo, lock: name },
      },
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new AppError('PERMISSION_DENIED', `no permission to write to the repository '${repo}' (${what} needs to): ${(e as Error).message}`, { cause: e, details: { path: repo, lock: name } });
  }
  return e;
}

/**
 * Creates `file` exclusively with its full content: written to a temp file and hard-linked into
 * place (atomic: the lock never exists empty). File systems without hard links (FAT/exFAT)
 * fall back to an exclusive create + write.
 */
async function createWithContent(file: string, content: string): Promise<void> {
  const tmp = `${file}.new-${process.pid}-${randomBytes(3).toString('hex')}`;
  await writeFile(tmp, content, { flag: 'wx' });
  try {
    await link(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') await writeFile(file, content, { flag: 'wx' });
    else throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** Live (non-stale) locks whose file name starts with `prefix`; stale ones are removed when `clean`. */
export async function liveLocks(locksDir: string, prefix: string, clean = false): Promise<{ name: string; info: LockInfo }[]> {
  let names: string[];
  try {
    names = await readdir(locksDir);
  } catch {
    return [];
  }
  const out: { name: string; info: LockInfo }[] = [];
  for (const name of names.filter((n) => n.startsWith(prefix) && !n.includes('.new-'))) {
    const info = await readLock(join(locksDir, name));
    if (!info) {
      // empty/unreadable: being written right now (live, start unknown → 0, the safe side),
      // or left by a process killed between create and write (stale after a minute)
      const st = await stat(join(locksDir, name)).catch(() => undefined);
      if (!st) continue;
      if (systemClock.now() - st.mtimeMs > 60_000) {
        if (clean) await unlink(join(locksDir, name)).catch(() => {});
        continue;
      }
      out.push({ name, info: { pid: -1, host: '?', startedMs: 0, what: 'unknown' } });
      continue;
    }
    if (isStale(info)) {
      if (clean) await unlink(join(locksDir, name)).catch(() => {});
      continue;
    }
    out.push({ name, info });
  }
  return out;
}

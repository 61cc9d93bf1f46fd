import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../../shared/errors/app-error.js';
import { OWNER_FILE_MODE } from '../core/owner-only.js';

/**
 * Maps a Node file-system error to an AppError with an actionable message: ENOSPC/EDQUOT →
 * DISK_FULL, EACCES/EPERM/EROFS → PERMISSION_DENIED; other errors pass through unchanged.
 * (Writes into the repository itself start with a lock: `acquireLock` turns EROFS there into
 * REPO_READ_ONLY.)
 */
export function mapFsError(e: unknown, what: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new AppError('DISK_FULL', `the repository disk is full while ${what}: free space or choose another repository`, { cause: e });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new AppError('PERMISSION_DENIED', `permission denied while ${what}: ${(e as Error).message}`, { cause: e });
  }
  return e;
}

/** fsyncs a directory so a rename inside it is durable (no-op where directories can't be opened). */
export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on directories; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A unique temporary name next to `file`. */
export function tmpNameFor(file: string): string {
  return `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes `data` to `file` atomically: temp file in the same folder, fsync, rename, fsync of the
 * folder. Readers see the old content or the new one, never a torn file.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, what = `writing '${file}'`): Promise<void> {
  const tmp = tmpNameFor(file);
  try {
    const fh = await open(tmp, 'wx', OWNER_FILE_MODE);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    fsyncDir(dirname(file));
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw mapFsError(e, what);
  }
}

/** Writes `data` to a new file (exclusive create) and fsyncs it; no rename. */
export async function writeNewFileSynced(file: string, data: Uint8Array | string, what: string): Promise<void> {
  try {
    const fh = await open(file, 'wx', OWNER_FILE_MODE);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw mapFsError(e, what);
  }
}

import { chmodSync, lstatSync } from 'node:fs';

/** Mode of folders the app creates for its data and repositories (POSIX). */
export const OWNER_DIR_MODE = 0o700;
/** Mode of files holding settings, secrets and backup data (POSIX). */
export const OWNER_FILE_MODE = 0o600;

/**
 * Makes an existing folder (0700) or file (0600) readable by its owner only; a no-op on Windows
 * (where an ACL would be needed, see the README) and where the mode cannot be changed (a file
 * system without POSIX modes, or not our file). Symlinks are left alone. Returns true when the
 * path now has the owner-only mode.
 */
export function makeOwnerOnly(path: string): boolean {
  if (process.platform === 'win32') return false;
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return false;
    const want = st.isDirectory() ? OWNER_DIR_MODE : OWNER_FILE_MODE;
    if ((st.mode & 0o777) !== want) chmodSync(path, want);
    return (lstatSync(path).mode & 0o777) === want;
  } catch {
    return false;
  }
}

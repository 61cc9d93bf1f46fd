import { access, constants, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import type { PathResolver } from './virtual-disk.js';

const WIN_ABSOLUTE = /^(?:\\\\\?\\)?[A-Za-z]:[\\/]|^\\\\/;

/** The last component of a path written with `/` or `\` separators. */
export function portableBasename(ref: string): string {
  const parts = ref.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? ref;
}

/** Candidate local paths for `ref` as seen from the file `from`, most likely first. */
export function candidatePaths(ref: string, from: string): string[] {
  const dir = dirname(from);
  const out: string[] = [];
  const cleaned = ref.replace(/^\\\\\?\\/, '');
  if (WIN_ABSOLUTE.test(ref)) {
    if (process.platform === 'win32') out.push(cleaned);
  } else if (isAbsolute(ref)) {
    out.push(ref);
  } else {
    out.push(resolve(dir, ref.replace(/\\/g, '/')));
  }
  out.push(join(dir, portableBasename(ref)));
  return [...new Set(out)];
}

/** True when `path` is `root` or lies below it (both absolute, already real paths). */
function isWithin(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function kindOf(st: { isBlockDevice(): boolean; isCharacterDevice(): boolean; isFIFO(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (st.isBlockDevice()) return 'a block device';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/**
 * Where the files a disk image refers to (parents, extents) may live: regular files whose real
 * path (symlinks resolved) lies in the top image's own folder tree or in one of the folders the
 * caller allows explicitly. A crafted image naming `/etc/shadow` as its backing file, an extent
 * `../../etc/hostname` or a parent `/dev/urandom` is refused with DISK_CHAIN_UNSAFE naming the
 * file, so a host file never ends up in a backup.
 */
export class ChainConfinement {
  private constructor(readonly roots: string[]) {}

  /** The confinement of the image `top`: its folder (as given and as real path) plus `allowedDirs`. */
  static async of(top: string, allowedDirs: readonly string[] = []): Promise<ChainConfinement> {
    const real = async (p: string) => realpath(p).catch(() => resolve(p));
    const roots = [await real(dirname(resolve(top))), dirname(await real(top)), ...(await Promise.all(allowedDirs.map((d) => real(d))))];
    return new ChainConfinement([...new Set(roots)]);
  }

  /**
   * Checks that the existing file `path` (resolved from `ref` written in `from`) is a regular
   * file inside the roots; throws DISK_CHAIN_UNSAFE naming it otherwise.
   */
  async check(path: string, ref: string, from: string): Promise<void> {
    const real = await realpath(path);
    const st = await stat(real);
    const details = { file: from, ref, path, realPath: real, allowed: this.roots };
    if (!st.isFile()) {
      throw new AppError('DISK_CHAIN_UNSAFE', `'${path}' referenced by '${from}' is ${kindOf(st)}; a disk chain may only contain regular image files`, { details });
    }
    if (!this.roots.some((r) => isWithin(real, r))) {
      throw new AppError(
        'DISK_CHAIN_UNSAFE',
        `'${real}' referenced by '${from}' lies outside the image's folder (${this.roots.join(', ')}); if that folder really belongs to the disk's chain, allow it explicitly (--allow-chain-dir)`,
        { details },
      );
    }
  }
}

/**
 * The default resolver: relative references are taken from the referring file's folder,
 * absolute Windows paths (`C:\VMs\x.vmdk`, `\\?\D:\…`) are tried as is on Windows, and every
 * reference falls back to its bare name in the referring file's folder (a chain copied to a
 * new place keeps working). With a confinement, candidates it refuses are skipped; when no
 * candidate is left, the first refusal is thrown (naming the file).
 */
export class LocalPathResolver implements PathResolver {
  constructor(private readonly confinement?: ChainConfinement) {}

  async resolve(ref: string, from: string): Promise<string> {
    const tried = candidatePaths(ref, from);
    let refused: unknown;
    for (const p of tried) {
      try {
        await access(p, constants.R_OK);
      } catch {
        continue; // try the next candidate
      }
      if (!this.confinement) return p;
      try {
        await this.confinement.check(p, ref, from);
        return p;
      } catch (e) {
        refused ??= e;
      }
    }
    if (refused) throw refused;
    throw new AppError('DISK_PARENT_MISSING', `cannot find '${ref}' referenced by '${from}' (tried ${tried.join(', ')})`, {
      details: { file: from, ref, tried },
    });
  }
}

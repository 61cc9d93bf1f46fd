import { access, constants } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
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

/**
 * The default resolver: relative references are taken from the referring file's folder,
 * absolute Windows paths (`C:\VMs\x.vmdk`, `\\?\D:\…`) are tried as is on Windows, and every
 * reference falls back to its bare name in the referring file's folder (a chain copied to a
 * new place keeps working).
 */
export class LocalPathResolver implements PathResolver {
  async resolve(ref: string, from: string): Promise<string> {
    const tried = candidatePaths(ref, from);
    for (const p of tried) {
      try {
        await access(p, constants.R_OK);
        return p;
      } catch {
        // try the next candidate
      }
    }
    throw new AppError('DISK_PARENT_MISSING', `cannot find '${ref}' referenced by '${from}' (tried ${tried.join(', ')})`, {
      details: { file: from, ref, tried },
    });
  }
}

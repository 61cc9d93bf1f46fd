import { AppError } from '../../../shared/errors/app-error.js';

/** A parsed snapshot path `DISK/PART/path/inside[:stream]`. */
export interface SnapshotPath {
  disk?: string;
  part?: string;
  /** Components inside the filesystem. */
  inside: string[];
}

/**
 * Splits a snapshot path. Separators are `/` (a `\` is accepted as well); empty components
 * are ignored; `.` and `..` components are rejected (guest paths are never resolved
 * relatively).
 */
export function parseSnapshotPath(path: string): SnapshotPath {
  const parts = path.split(/[/\\]/).filter((p) => p !== '');
  for (const p of parts) if (p === '.' || p === '..') throw new AppError('INVALID_REQUEST', `path ${path} must not contain "." or ".." components`);
  const [disk, part, ...inside] = parts;
  return { disk, part, inside };
}

/** Joins path components into the canonical form. */
export function joinSnapshotPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** Compiles a glob (`*`, `?`, `**`, `[abc]`) into a case-insensitive regular expression. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = glob.indexOf(']', i + 1);
      if (j < 0) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, j)
          .replace(/\\/g, '\\\\')
          .replace(/^!/, '^');
        re += `[${body}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

import type { FileEntry } from '../../../../shared/domain/files.js';

/** Sort keys of the file list. */
export type SortKey = 'name' | 'size' | 'mtime';

/** Folders first, then by the key (names case-insensitively, natural numbers). */
export function sortEntries(entries: FileEntry[], key: SortKey, dir: 'asc' | 'desc'): FileEntry[] {
  const sign = dir === 'asc' ? 1 : -1;
  const coll = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  return [...entries].sort((a, b) => {
    const fa = a.type === 'dir' ? 0 : 1;
    const fb = b.type === 'dir' ? 0 : 1;
    if (fa !== fb) return fa - fb;
    let c = 0;
    if (key === 'size') c = a.size - b.size;
    else if (key === 'mtime') c = (a.mtime ?? '').localeCompare(b.mtime ?? '');
    if (c === 0) c = coll.compare(a.name, b.name);
    return c * sign;
  });
}

/** Breadcrumb parts of a path `DISK/PART/a/b`: [{label, path}] from the root. */
export function crumbs(path: string): { label: string; path: string }[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((label, i) => ({ label, path: parts.slice(0, i + 1).join('/') }));
}

const IMAGE: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', bmp: 'image/bmp', webp: 'image/webp', ico: 'image/x-icon' };

/** The image MIME type of a file name, if it is an image the page can show. */
export function imageType(name: string): string | undefined {
  return IMAGE[name.split('.').pop()?.toLowerCase() ?? ''];
}

/** Largest file previewed (bytes). */
export const PREVIEW_MAX = 256 * 1024;

/** Decodes base64 to bytes. */
export function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** True when bytes look like text (no NULs, few control characters, valid UTF-8). */
export function looksLikeText(bytes: Uint8Array): boolean {
  let ctrl = 0;
  for (let i = 0; i < Math.min(bytes.length, 8192); i++) {
    const b = bytes[i];
    if (b === 0) return false;
    if (b < 9 || (b > 13 && b < 32)) ctrl++;
  }
  if (ctrl > bytes.length / 20) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** What a key on the file list asks for (see FileTable). */
export type ListAction = { kind: 'move'; index: number } | { kind: 'toggle' } | { kind: 'open' } | { kind: 'all' } | { kind: 'up' };

/** Maps a key on row `index` of `count` rows to a list action, or null when not handled. */
export function listKey(key: string, mods: { ctrl: boolean; alt: boolean }, index: number, count: number): ListAction | null {
  if (mods.alt && key === 'ArrowUp') return { kind: 'up' };
  if (count === 0) return key === 'Backspace' ? { kind: 'up' } : null;
  switch (key) {
    case 'ArrowDown':
      return { kind: 'move', index: Math.min(count - 1, index + 1) };
    case 'ArrowUp':
      return { kind: 'move', index: Math.max(0, index - 1) };
    case 'Home':
      return { kind: 'move', index: 0 };
    case 'End':
      return { kind: 'move', index: count - 1 };
    case 'PageDown':
      return { kind: 'move', index: Math.min(count - 1, index + 10) };
    case 'PageUp':
      return { kind: 'move', index: Math.max(0, index - 10) };
    case ' ':
      return { kind: 'toggle' };
    case 'Enter':
      return { kind: 'open' };
    case 'Backspace':
      return { kind: 'up' };
    case 'a':
    case 'A':
      return mods.ctrl ? { kind: 'all' } : null;
    default:
      return null;
  }
}

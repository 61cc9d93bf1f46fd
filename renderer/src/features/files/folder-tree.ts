import type { FileEntry } from '../../../../shared/domain/files.js';

/** What the tree knows about one folder's children (loaded lazily through files.list). */
export interface TreeChildren {
  /** Sub-folders (disks, browsable partitions, directories), or undefined while not loaded. */
  folders?: FileEntry[];
  loading: boolean;
  error?: string;
}

/** One line of the tree as drawn: a folder at a depth, with its state. */
export interface TreeLine {
  path: string;
  name: string;
  /** 1 = a disk (the top level). */
  level: number;
  expanded: boolean;
  /** False only when the folder is loaded and has no sub-folders. */
  expandable: boolean;
  parent: string;
}

/** True for entries the tree shows: directories, disks and browsable partitions. */
export function isFolder(e: FileEntry): boolean {
  if (e.supported === false) return false;
  return e.type === 'dir' || e.fsType !== undefined;
}

/** The parent path of `DISK/PART/a/b` (`''` for a disk). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Every ancestor of a path, root first, excluding `''` and the path itself. */
export function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * Flattens the expanded part of the tree into the lines shown, depth first (the order arrow
 * keys walk). The root `''` (the snapshot's disks) is never drawn itself.
 */
export function visibleLines(children: ReadonlyMap<string, TreeChildren>, expanded: ReadonlySet<string>): TreeLine[] {
  const out: TreeLine[] = [];
  const walk = (path: string, level: number) => {
    for (const f of children.get(path)?.folders ?? []) {
      const kids = children.get(f.path);
      const isOpen = expanded.has(f.path);
      out.push({ path: f.path, name: f.name, level, expanded: isOpen, expandable: !(kids?.folders && kids.folders.length === 0), parent: path });
      if (isOpen) walk(f.path, level + 1);
    }
  };
  walk('', 1);
  return out;
}

/** What a key press asks the tree to do (WAI-ARIA tree view pattern). */
export type TreeAction = { kind: 'focus'; path: string } | { kind: 'expand'; path: string } | { kind: 'collapse'; path: string } | { kind: 'open'; path: string };

/**
 * Maps a key on the focused line to an action: ↑/↓ move, → expands (or enters the first child),
 * ← collapses (or goes to the parent), Home/End jump, Enter/Space open the folder in the listing.
 * Returns null for keys the tree does not handle.
 */
export function treeKey(lines: TreeLine[], focused: string, key: string): TreeAction | null {
  const i = Math.max(
    0,
    lines.findIndex((l) => l.path === focused),
  );
  const line = lines[i];
  if (!line) return null;
  switch (key) {
    case 'ArrowDown':
      return { kind: 'focus', path: lines[Math.min(lines.length - 1, i + 1)]!.path };
    case 'ArrowUp':
      return { kind: 'focus', path: lines[Math.max(0, i - 1)]!.path };
    case 'Home':
      return { kind: 'focus', path: lines[0]!.path };
    case 'End':
      return { kind: 'focus', path: lines[lines.length - 1]!.path };
    case 'ArrowRight':
      if (!line.expandable) return null;
      if (!line.expanded) return { kind: 'expand', path: line.path };
      return lines[i + 1]?.parent === line.path ? { kind: 'focus', path: lines[i + 1]!.path } : null;
    case 'ArrowLeft':
      if (line.expanded) return { kind: 'collapse', path: line.path };
      return line.parent ? { kind: 'focus', path: line.parent } : null;
    case 'Enter':
    case ' ':
      return { kind: 'open', path: line.path };
    default:
      return null;
  }
}

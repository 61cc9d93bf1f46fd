/** Type of an entry inside a guest filesystem. */
export type FileType = 'file' | 'dir' | 'symlink' | 'other';

/** One entry of a listing (a file, folder, partition or disk). */
export interface FileEntry {
  name: string;
  /** Full path in the snapshot's path scheme `DISK/PART/path`. */
  path: string;
  type: FileType;
  size: number;
  mtime?: string;
  /** For partitions: filesystem type and whether it can be browsed. */
  fsType?: string;
  supported?: boolean;
  target?: string;
  streams?: string[];
}

/** A listing plus any filesystem warnings (dirty log, unsupported volume). */
export interface FileListing {
  path: string;
  entries: FileEntry[];
  warnings: string[];
}

/** Outcome of restoring files. */
export interface FileRestoreResult {
  to: string;
  restored: number;
  bytes: number;
  skipped: { path: string; reason: string }[];
}

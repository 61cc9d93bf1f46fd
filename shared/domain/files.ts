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

/** What a file restore does with a file that already exists in the target folder. */
export const EXISTING_FILE_POLICIES = ['keep-both', 'skip', 'overwrite'] as const;
/** `keep-both` (default): the restored copy gets a new name, e.g. `report (restored 2026-12-07 1530).docx`; `skip`: the existing file is kept and nothing restored; `overwrite`: the existing file is replaced. */
export type ExistingFilePolicy = (typeof EXISTING_FILE_POLICIES)[number];

/** True for an absolute path on the host: `/…`, `C:\…` / `C:/…`, or a UNC path `\\server\share…`. */
export function isAbsoluteHostPath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || /^\\\\[^\\]/.test(p);
}

/** Outcome of restoring files. */
export interface FileRestoreResult {
  to: string;
  /** The existing-file policy the restore used. */
  existing: ExistingFilePolicy;
  /** Files written (new, kept both, and overwritten). */
  restored: number;
  bytes: number;
  /** Of `restored`: written beside an existing file of the same name, under a `(restored …)` name. */
  keptBoth: number;
  /** Of `restored`: replaced an existing file. */
  overwritten: number;
  /** Existing files left as they were (policy `skip`); nothing restored for them. */
  skippedExisting: number;
  /** Items not restorable by design (symbolic links, special files). */
  skipped: { path: string; reason: string }[];
  /** Items that failed (read errors, damaged chunks, a folder replaced during the restore…). */
  failed: { path: string; reason: string }[];
}

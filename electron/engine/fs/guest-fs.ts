import type { FileType } from '../../../shared/domain/files.js';
import type { ByteSource } from './byte-source.js';

/** One entry of a guest filesystem as its driver sees it. */
export interface FsNode {
  /** Name as stored (decoded to a JS string; lone surrogates preserved). */
  name: string;
  type: FileType;
  /** Size of the main data stream in bytes (0 for folders). */
  size: number;
  /** Modification time, epoch milliseconds. */
  mtimeMs?: number;
  /** Symlink / junction target, when the entry is one. */
  target?: string;
  /** Names of alternate data streams (NTFS). */
  streams?: string[];
  /** Identity of the underlying object (inode, MFT record, first cluster) for cycle checks. */
  key: string;
  /** Driver-private handle. */
  ref: unknown;
}

/** A file's bytes: a random-access source of exactly `size` bytes. */
export type FileContent = ByteSource;

/** A mounted, read-only guest filesystem. */
export interface GuestFilesystem {
  /** Short type name: ntfs, fat12, fat16, fat32, exfat, ext2, ext3, ext4. */
  readonly fsType: string;
  /** Volume-level warnings (dirty log, unreplayed journal…). */
  readonly warnings: string[];
  /** Whether names compare case-insensitively (NTFS, FAT, exFAT). */
  readonly caseInsensitive: boolean;
  /** The root folder. */
  root(): Promise<FsNode>;
  /** Entries of folder `dir` (without `.` and `..`). */
  readdir(dir: FsNode): Promise<FsNode[]>;
  /** Opens the main data stream, or the named alternate stream when `stream` is given. */
  open(node: FsNode, stream?: string): Promise<FileContent>;
}

/**
 * Decodes `units` UTF-16LE code units at `off` (fewer if the buffer ends first) without
 * replacing lone surrogates (lossless for names): Node's utf16le decoder copies code units as
 * they are, which is what a name needs and far cheaper than building the string per unit.
 */
export function utf16le(buf: Buffer, off: number, units: number): string {
  const n = Math.max(0, Math.min(units, Math.floor((buf.length - off) / 2)));
  return n > 0 ? buf.toString('utf16le', off, off + n * 2) : '';
}

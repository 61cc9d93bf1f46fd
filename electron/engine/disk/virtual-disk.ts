/**
 * The VirtualDisk port: one logical disk, whatever its format and chain. Everything that reads
 * disks (backup, file browser, restore) goes through it.
 */

/** State of a byte range of a virtual disk. */
export type ExtentKind = 'data' | 'zero' | 'unallocated';

/** A contiguous range with one state. Offsets and lengths are in bytes. */
export interface DiskExtent {
  offset: number;
  length: number;
  kind: ExtentKind;
}

/** One file of a disk chain, for `disk info`. */
export interface ChainLink {
  path: string;
  format: DiskFormat;
  subformat?: string;
  /** The other files this member reads its data from (a VMDK descriptor's extent files). */
  extents?: string[];
}

/** Formats the disk layer understands. */
export type DiskFormat = 'raw' | 'vmdk' | 'vhdx' | 'vhd' | 'qcow2';

/**
 * A readable virtual disk. Reads of unallocated or zero ranges return zeros. Callers must
 * `close()` it; a closed disk rejects reads.
 */
export interface VirtualDisk {
  /** Logical size in bytes. */
  readonly size: number;
  /** Format of the top file of the chain. */
  readonly format: DiskFormat;
  /** Subformat (e.g. `monolithicSparse`, `dynamic`), when the format has one. */
  readonly subformat?: string;
  /** The files of the chain, top first. */
  readonly chain: ChainLink[];
  /** Reads `length` bytes at `offset` into a new buffer (clipped at the end of the disk). */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * The allocation map of `[offset, offset+length)`, in order, covering the range exactly.
   * `zero` and `unallocated` ranges read as zeros and need not be read. A reader that cannot
   * tell returns `data` (never claims zero for data).
   */
  extents(offset?: number, length?: number): Promise<DiskExtent[]>;
  /** Releases file handles (of the whole chain). */
  close(): Promise<void>;
}

/**
 * Opens the files a disk refers to (parents, extents). Descriptors hold relative paths,
 * absolute Windows paths or bare names; the resolver maps them to readable local paths.
 */
export interface PathResolver {
  /** Resolves `ref` as seen from the file `from`; throws DISK_PARENT_MISSING when not found. */
  resolve(ref: string, from: string): Promise<string>;
}

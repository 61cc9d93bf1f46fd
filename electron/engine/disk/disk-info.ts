import { openDisk, type OpenDiskOptions } from './open-disk.js';
import type { ChainLink, DiskFormat } from './virtual-disk.js';

/** What `disk info` reports about an image and its chain. */
export interface DiskInfo {
  path: string;
  format: DiskFormat;
  subformat?: string;
  /** Logical size in bytes. */
  virtualSize: number;
  /** The files of the chain, top first. */
  chain: ChainLink[];
  /** Bytes the chain stores as data (everything else reads as zeros). */
  allocatedBytes: number;
}

/** Opens `path` with its chain and reports its format, size, chain and allocated bytes. */
export async function diskInfo(path: string, opts: OpenDiskOptions = {}): Promise<DiskInfo> {
  const disk = await openDisk(path, opts);
  try {
    let allocatedBytes = 0;
    const window = 64 * 1024 ** 3;
    for (let at = 0; at < disk.size; at += window) {
      for (const e of await disk.extents(at, Math.min(window, disk.size - at))) if (e.kind === 'data') allocatedBytes += e.length;
    }
    return { path, format: disk.format, subformat: disk.subformat, virtualSize: disk.size, chain: disk.chain, allocatedBytes };
  } finally {
    await disk.close();
  }
}

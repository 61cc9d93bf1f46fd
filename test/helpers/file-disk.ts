import { open, type FileHandle } from 'node:fs/promises';
import type { DiskExtent, VirtualDisk } from '../../electron/engine/disk/virtual-disk.js';

/**
 * A minimal VirtualDisk over a raw image file, for filesystem tests that must not depend on
 * the disk-format readers. Reads past the end are clipped.
 */
export class FileDisk implements VirtualDisk {
  readonly format = 'raw' as const;
  readonly chain;
  reads = 0;
  bytesRead = 0;

  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    path: string,
  ) {
    this.chain = [{ path, format: 'raw' as const }];
  }

  /** Opens `path` read-only. */
  static async open(path: string): Promise<FileDisk> {
    const fh = await open(path, 'r');
    const st = await fh.stat();
    return new FileDisk(fh, st.size, path);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset >= this.size || length <= 0) return Buffer.alloc(0);
    const n = Math.min(length, this.size - offset);
    const b = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.fh.read(b, got, n - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.reads++;
    this.bytesRead += got;
    return got === n ? b : b.subarray(0, got);
  }

  async extents(offset = 0, length = this.size - offset): Promise<DiskExtent[]> {
    return [{ offset, length, kind: 'data' }];
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

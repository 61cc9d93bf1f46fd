import { open, type FileHandle } from 'node:fs/promises';
import type { DiskExtent, VirtualDisk } from '../../electron/engine/disk/virtual-disk.js';

/**
 * A minimal VirtualDisk over a raw image file (tests of the repository that must not depend on
 * the disk layer). Reports everything as `data`, so zero detection happens after reading;
 * `zeroRanges` lets a test claim ranges as unallocated to exercise the extents path.
 */
export class RawFileDisk implements VirtualDisk {
  readonly format = 'raw' as const;
  readonly chain;
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    path: string,
    private readonly zeroRanges: { offset: number; length: number }[],
  ) {
    this.chain = [{ path, format: 'raw' as const }];
  }

  /** Opens `path`; caller must close(). */
  static async open(path: string, zeroRanges: { offset: number; length: number }[] = []): Promise<RawFileDisk> {
    const fh = await open(path, 'r');
    const { size } = await fh.stat();
    return new RawFileDisk(fh, size, path, zeroRanges);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const len = Math.max(0, Math.min(length, this.size - offset));
    const buf = Buffer.alloc(len);
    let done = 0;
    while (done < len) {
      const { bytesRead } = await this.fh.read(buf, done, len - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf;
  }

  async extents(offset = 0, length = this.size - offset): Promise<DiskExtent[]> {
    const end = Math.min(this.size, offset + length);
    const out: DiskExtent[] = [];
    let pos = offset;
    for (const z of [...this.zeroRanges].sort((a, b) => a.offset - b.offset)) {
      const zs = Math.max(z.offset, pos);
      const ze = Math.min(z.offset + z.length, end);
      if (ze <= zs) continue;
      if (zs > pos) out.push({ offset: pos, length: zs - pos, kind: 'data' });
      out.push({ offset: zs, length: ze - zs, kind: 'unallocated' });
      pos = ze;
    }
    if (pos < end) out.push({ offset: pos, length: end - pos, kind: 'data' });
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

import { AppError } from '../../../shared/errors/app-error.js';
import { checkArgs, pushExtent } from './core/mapped-disk.js';
import type { ChainLink, DiskExtent, DiskFormat, VirtualDisk } from './virtual-disk.js';

const BLOCK = 64 * 1024;

/**
 * A VirtualDisk held in memory, for tests of code that consumes disks. Blocks of 64 KiB never
 * written report `unallocated`; written blocks report `data`, or `zero` when written with
 * `writeZeros`. Not meant for large sizes (it keeps one Buffer per written block).
 */
export class MemoryDisk implements VirtualDisk {
  readonly format: DiskFormat = 'raw';
  readonly subformat = 'memory';
  readonly chain: ChainLink[];
  private readonly blocks = new Map<number, Buffer | 'zero'>();
  private closed = false;

  constructor(
    readonly size: number,
    name = 'memory',
  ) {
    checkArgs(0, size);
    this.chain = [{ path: name, format: 'raw', subformat: 'memory' }];
  }

  /** A memory disk holding `data` (all blocks allocated). */
  static from(data: Uint8Array, name?: string): MemoryDisk {
    const d = new MemoryDisk(data.length, name);
    d.write(0, data);
    return d;
  }

  /** Writes `data` at `offset` (must lie inside the disk). */
  write(offset: number, data: Uint8Array): void {
    if (offset + data.length > this.size) throw new AppError('INVALID_REQUEST', 'write past the end of the memory disk');
    let done = 0;
    while (done < data.length) {
      const at = offset + done;
      const b = Math.floor(at / BLOCK);
      const inBlock = at - b * BLOCK;
      const n = Math.min(BLOCK - inBlock, data.length - done);
      let blk = this.blocks.get(b);
      if (blk === undefined || blk === 'zero') {
        blk = Buffer.alloc(Math.min(BLOCK, this.size - b * BLOCK));
        this.blocks.set(b, blk);
      }
      Buffer.from(data.buffer, data.byteOffset + done, n).copy(blk, inBlock);
      done += n;
    }
  }

  /** Marks whole blocks in `[offset, offset+length)` as known zeros (partial blocks are zero-filled data). */
  writeZeros(offset: number, length: number): void {
    for (let at = offset; at < offset + length;) {
      const b = Math.floor(at / BLOCK);
      const end = Math.min((b + 1) * BLOCK, offset + length, this.size);
      if (at === b * BLOCK && (end - at === BLOCK || end === this.size)) this.blocks.set(b, 'zero');
      else this.write(at, Buffer.alloc(end - at));
      at = end;
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.check(offset, length);
    const n = Math.max(0, Math.min(length, this.size - offset));
    const out = Buffer.alloc(n);
    for (let at = offset; at < offset + n;) {
      const b = Math.floor(at / BLOCK);
      const end = Math.min((b + 1) * BLOCK, offset + n);
      const blk = this.blocks.get(b);
      if (blk instanceof Buffer) blk.copy(out, at - offset, at - b * BLOCK, end - b * BLOCK);
      at = end;
    }
    return out;
  }

  async extents(offset = 0, length = this.size - offset): Promise<DiskExtent[]> {
    this.check(offset, length);
    const n = Math.max(0, Math.min(length, this.size - offset));
    const out: DiskExtent[] = [];
    for (let at = offset; at < offset + n;) {
      const b = Math.floor(at / BLOCK);
      const end = Math.min((b + 1) * BLOCK, offset + n);
      const blk = this.blocks.get(b);
      pushExtent(out, at, end - at, blk === undefined ? 'unallocated' : blk === 'zero' ? 'zero' : 'data');
      at = end;
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(offset: number, length: number): void {
    if (this.closed) throw new AppError('INTERNAL', 'memory disk is closed');
    checkArgs(offset, length);
  }
}

import { open, type FileHandle } from 'node:fs/promises';
import { AppError } from '../../../../shared/errors/app-error.js';
import { corrupt } from './disk-error.js';

/** The minimal handle FileSource reads through (a FileHandle satisfies it). */
export interface RandomAccess {
  read(buf: Buffer, pos: number, length: number, offset: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** Opens a path as a FileSource; openDisk takes one to read images that are not plain files. */
export type SourceOpener = (path: string) => Promise<FileSource>;

/**
 * Read-only random access to one image file, with bounds-checked reads that turn short reads
 * into DISK_CORRUPT naming the structure. An optional overlay (4 KiB pages keyed by offset)
 * patches reads, which is how a VHDX log is replayed in memory without touching the file.
 * Caller must `close()`.
 */
export class FileSource {
  private overlay: Map<number, Buffer> | undefined;
  private overlayEnd = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fh: RandomAccess,
    /** File size in bytes (after overlay, the logical end may be larger; see `size`). */
    private fileSize: number,
  ) {}

  /** A source over bytes in memory (tests, fuzzing, images already loaded), named `path`. */
  static fromBuffer(path: string, bytes: Buffer): FileSource {
    const access: RandomAccess = {
      read: async (buf, pos, len, off) => ({ bytesRead: off >= bytes.length ? 0 : bytes.copy(buf, pos, off, Math.min(bytes.length, off + len)) }),
      close: async () => {},
    };
    return new FileSource(path, access, bytes.length);
  }

  /** Opens `path` read-only. Missing files give NOT_FOUND, unreadable PERMISSION_DENIED. */
  static async open(path: string): Promise<FileSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new AppError('NOT_FOUND', `disk image '${path}' does not exist`, { cause, details: { file: path } });
      if (code === 'EACCES' || code === 'EPERM') throw new AppError('PERMISSION_DENIED', `no permission to read disk image '${path}'`, { cause, details: { file: path } });
      if (code === 'EISDIR') throw new AppError('DISK_FORMAT_UNKNOWN', `'${path}' is a folder, not a disk image`, { cause, details: { file: path } });
      throw cause;
    }
    const st = await fh.stat();
    return new FileSource(path, fh, st.size);
  }

  /** Size of the file (or of the overlay's end, whichever is larger). */
  get size(): number {
    return Math.max(this.fileSize, this.overlayEnd);
  }

  /** Installs an in-memory overlay of 4 KiB-aligned pages that take precedence over the file. */
  setOverlay(pages: Map<number, Buffer>, logicalEnd: number): void {
    this.overlay = pages.size > 0 ? pages : undefined;
    this.overlayEnd = logicalEnd;
  }

  /**
   * Reads exactly `length` bytes at `offset` for `structure`; a read past the end of the file
   * is DISK_CORRUPT (the image is truncated or a pointer is wrong).
   */
  async readStrict(offset: number, length: number, structure: string): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      corrupt(this.path, structure, `range ${offset}+${length} lies outside the file (${this.size} bytes); the file is truncated or the pointer is wrong`, { offset, length, fileSize: this.size });
    }
    const buf = Buffer.allocUnsafe(length);
    await this.readInto(buf, 0, length, offset);
    return buf;
  }

  /** Reads `length` bytes at `offset` into `buf` at `pos`; bytes beyond the end read as zeros. */
  async readInto(buf: Buffer, pos: number, length: number, offset: number): Promise<void> {
    if (this.closed) throw new AppError('INTERNAL', `disk image '${this.path}' is closed`);
    let done = 0;
    const inFile = Math.max(0, Math.min(length, this.fileSize - offset));
    while (done < inFile) {
      const { bytesRead } = await this.fh.read(buf, pos + done, inFile - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done < length) buf.fill(0, pos + done, pos + length);
    if (this.overlay) this.applyOverlay(buf, pos, length, offset);
  }

  private applyOverlay(buf: Buffer, pos: number, length: number, offset: number): void {
    const first = Math.floor(offset / 4096) * 4096;
    for (let page = first; page < offset + length; page += 4096) {
      const data = this.overlay!.get(page);
      if (!data) continue;
      const from = Math.max(page, offset);
      const to = Math.min(page + 4096, offset + length);
      data.copy(buf, pos + (from - offset), from - page, to - page);
    }
  }

  /** Releases the handle. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

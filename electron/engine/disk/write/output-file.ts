import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { AppError } from '../../../../shared/errors/app-error.js';
import { fileTooLarge, isFileTooLarge } from '../../core/file-size-limit.js';

const WRITE_PIECE = 1024 * 1024;
const MAX_IN_FLIGHT = 8;

/**
 * A file being written: created next to `dst` under a temporary name and renamed into place by
 * `commit()`, so a failed or cancelled conversion never leaves a half-written image at `dst`.
 */
export class OutputFile {
  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
  ) {}

  /** Creates the temporary file for `dst`. */
  static async create(dst: string): Promise<OutputFile> {
    const tmp = `${dst}.part`;
    try {
      return new OutputFile(dst, tmp, await open(tmp, 'w'));
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new AppError('PERMISSION_DENIED', `cannot create '${tmp}': permission denied`, { cause });
      if (code === 'ENOENT') throw new AppError('NOT_FOUND', `cannot create '${tmp}': the folder does not exist`, { cause });
      throw cause;
    }
  }

  /**
   * Writes all of `data` at `position` as 1 MiB pieces issued together (at most 8 in flight):
   * one large write runs into dirty-page throttling, and one-at-a-time writes pay a thread
   * pool round trip each, which dominates on a busy machine.
   */
  async write(data: Uint8Array, position: number): Promise<void> {
    try {
      const pieces: Promise<void>[] = [];
      for (let at = 0; at < data.length; at += WRITE_PIECE) {
        pieces.push(this.writeFully(data.subarray(at, Math.min(at + WRITE_PIECE, data.length)), position + at));
        if (pieces.length === MAX_IN_FLIGHT) await Promise.all(pieces.splice(0));
      }
      await Promise.all(pieces);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOSPC') throw new AppError('DISK_FULL', `no space left writing '${this.path}'`, { cause });
      if (isFileTooLarge(cause)) throw await fileTooLarge(this.path, position + data.length, cause);
      throw cause;
    }
  }

  private async writeFully(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }

  /** Sets the file length (extends sparsely). A length beyond the file system's limit is FILE_TOO_LARGE. */
  async truncate(length: number): Promise<void> {
    try {
      await this.fh.truncate(length);
    } catch (cause) {
      if (isFileTooLarge(cause)) throw await fileTooLarge(this.path, length, cause);
      throw cause;
    }
  }

  /** Flushes (unless `sync` is false), closes and renames the file into place. */
  async commit(sync = true): Promise<void> {
    if (sync) await this.fh.sync();
    await this.fh.close();
    await rename(this.tmp, this.path);
  }

  /** Closes and deletes the temporary file. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await rm(this.tmp, { force: true });
  }
}

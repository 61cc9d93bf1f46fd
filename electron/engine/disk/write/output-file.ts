import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { AppError } from '../../../../shared/errors/app-error.js';

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

  /** Writes all of `data` at `position`. */
  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    try {
      while (done < data.length) {
        const { bytesWritten } = await this.fh.write(data, done, data.length - done, position + done);
        done += bytesWritten;
      }
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOSPC') throw new AppError('DISK_FULL', `no space left writing '${this.path}'`, { cause });
      throw cause;
    }
  }

  /** Sets the file length (extends sparsely). */
  async truncate(length: number): Promise<void> {
    await this.fh.truncate(length);
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

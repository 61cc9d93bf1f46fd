import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../../../../shared/errors/app-error.js';
import { fileTooLarge, isFileTooLarge } from '../../core/file-size-limit.js';
import { writeDisk } from '../../disk/write-disk.js';
import { fsyncDir, mapFsError, tmpNameFor } from '../fs-util.js';
import type { SnapshotDisk } from '../snapshot/snapshot-disk.js';

/** Formats a snapshot disk can be exported to. */
export type ExportFormat = 'raw' | 'vmdk' | 'vhdx' | 'qcow2';

/** Progress of an export. */
export interface ExportProgress {
  bytesDone: number;
  bytesTotal: number;
}

/** Options of exportDisk. */
export interface ExportOptions {
  format: ExportFormat;
  to: string;
  onProgress?: (p: ExportProgress) => void;
  signal?: AbortSignal;
  /** Overwrite an existing file (default false: ALREADY_EXISTS). */
  overwrite?: boolean;
  /** fsync the output before it appears under its name (default false). */
  durable?: boolean;
}

/**
 * Writes the disk as a sparse raw image: zero chunks become holes, data chunks are read (and
 * verified) with a few loads in flight. Written to a temp file, fsynced, renamed into place, so
 * a failed export (e.g. a corrupt chunk) leaves nothing behind.
 */
async function exportRaw(disk: SnapshotDisk, to: string, opts: ExportOptions): Promise<void> {
  const tmp = tmpNameFor(to);
  const fh = await open(tmp, 'wx').catch((e) => {
    throw mapFsError(e, `creating '${to}'`);
  });
  try {
    await fh.truncate(disk.size).catch(async (e: unknown) => {
      throw isFileTooLarge(e) ? await fileTooLarge(to, disk.size, e) : e;
    });
    const ext = await disk.extents();
    const cs = disk.chunkSize;
    const chunks: number[] = [];
    for (const e of ext) if (e.kind === 'data') for (let o = e.offset; o < e.offset + e.length; o += cs) chunks.push(Math.floor(o / cs));
    let done = disk.size - chunks.reduce((a, i) => a + Math.min(cs, disk.size - i * cs), 0);
    const inflight = new Set<Promise<void>>();
    // chunks are decoded by the workers into page-aligned shared slots: nothing allocated per chunk
    let failure: unknown;
    let lastReport = 0;
    // one write at a time: parallel pwrites to one file only contend for its inode lock (the
    // kernel spins on it), while loads (read + decompress + verify) run on both workers
    let writing: Promise<unknown> = Promise.resolve();
    for (const i of chunks) {
      if (failure) break;
      if (opts.signal?.aborted) throw new AppError('CANCELLED', 'export cancelled');
      const p: Promise<void> = disk
        .chunkInto(i)
        .then(async (c) => {
          if (!c) return; // listed as data by the extents, so never null; kept for safety
          const w = writing.then(() => fh.write(c.data, 0, c.data.length, i * cs));
          writing = w.catch(() => {});
          try {
            await w;
          } finally {
            c.release();
          }
          done += c.data.length;
          if (done - lastReport >= 16 * cs) {
            lastReport = done;
            opts.onProgress?.({ bytesDone: done, bytesTotal: disk.size });
          }
        })
        .catch((e) => {
          failure ??= e;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 8) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    if (failure) throw failure;
    // no fsync: an exported image can always be exported again (like cp or qemu-img); what must
    // be durable is the repository. `durable` forces it (e.g. restore over a VM's own folder).
    if (opts.durable) await fh.sync();
    await fh.close();
    await rename(tmp, to);
    if (opts.durable) fsyncDir(dirname(to));
    opts.onProgress?.({ bytesDone: disk.size, bytesTotal: disk.size });
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw mapFsError(e, `writing '${to}'`);
  }
}

/**
 * Exports a snapshot disk to `opts.to` in `opts.format`. raw is written here; other formats go
 * through the disk layer's `writeDisk` (streaming, sparse, bounded memory).
 */
export async function exportDisk(disk: SnapshotDisk, opts: ExportOptions): Promise<{ path: string; format: ExportFormat; size: number }> {
  await mkdir(dirname(opts.to), { recursive: true });
  if (!opts.overwrite && (await stat(opts.to).catch(() => undefined))) {
    throw new AppError('ALREADY_EXISTS', `'${opts.to}' already exists: choose another target or remove it first`);
  }
  if (opts.overwrite) await rm(opts.to, { force: true });
  if (opts.format === 'raw') {
    await exportRaw(disk, opts.to, opts);
    return { path: opts.to, format: 'raw', size: disk.size };
  }
  await writeDisk(disk, opts.to, opts.format, {
    onProgress: (bytesDone, bytesTotal) => opts.onProgress?.({ bytesDone, bytesTotal }),
    signal: opts.signal,
    sync: opts.durable ?? false,
  });
  return { path: opts.to, format: opts.format, size: disk.size };
}

import { AppError } from '../../../../shared/errors/app-error.js';
import { alignedBuffer } from '../core/aligned-buffer.js';
import { readDiskInto } from '../core/mapped-disk.js';
import type { VirtualDisk } from '../virtual-disk.js';
import type { OutputFile } from './output-file.js';
import { isZero, type ScanOptions } from './scan-disk.js';

/** Bytes one worker reads and writes at a time (and the alignment of its pieces). */
export const RAW_PIECE = 2 * 1024 * 1024;
/** Pieces in flight: each is read, zero-checked and written by its own worker. */
export const RAW_WORKERS = 4;
/** Holes are made for all-zero ranges of this granularity. */
const UNIT = 64 * 1024;
/** Allocation maps are asked for this much of the disk at a time. */
const MAP_WINDOW = 1024 * 1024 * 1024;

/**
 * The data ranges of `disk` as pieces of at most RAW_PIECE bytes, aligned to RAW_PIECE;
 * zero/unallocated extents are never yielded. Safe to pull from several workers at once.
 */
async function* dataPieces(disk: VirtualDisk): AsyncGenerator<{ offset: number; length: number }> {
  for (let w = 0; w < disk.size; w += MAP_WINDOW) {
    for (const e of await disk.extents(w, Math.min(MAP_WINDOW, disk.size - w))) {
      if (e.kind !== 'data') continue;
      const end = e.offset + e.length;
      for (let a = e.offset; a < end;) {
        const b = Math.min(end, (Math.floor(a / RAW_PIECE) + 1) * RAW_PIECE);
        yield { offset: a, length: b - a };
        a = b;
      }
    }
  }
}

/**
 * Writes `src` as a sparse raw image: zero/unallocated extents are never read and become
 * holes, and so do all-zero 64 KiB units of data. Unlike the other formats the output is
 * position-independent, so it is copied the way `qemu-img convert` does it: several workers
 * each read a 2 MiB piece into their own page-aligned buffer and write it straight back out
 * (the bytes are still in the CPU cache), keeping reads and writes of several pieces in
 * flight on the I/O threads. Memory: RAW_WORKERS × 2 MiB.
 */
export async function writeRaw(src: VirtualDisk, out: OutputFile, scan: Omit<ScanOptions, 'unit'>): Promise<void> {
  const size = src.size;
  await out.truncate(size); // first: a size the file system cannot hold fails now, not after the scan
  const pieces = dataPieces(src);
  const zero = Buffer.alloc(UNIT);
  const all = alignedBuffer(RAW_WORKERS * RAW_PIECE);
  let handedOut = 0; // end of the last piece given to a worker: the progress position
  let failed = false;
  const worker = async (buf: Buffer): Promise<void> => {
    for (;;) {
      if (failed) return;
      if (scan.signal?.aborted) throw new AppError('CANCELLED', 'disk conversion was cancelled');
      const next = await pieces.next();
      if (next.done) return;
      const { offset, length } = next.value;
      handedOut = offset + length;
      await readDiskInto(src, buf, 0, offset, length);
      // write maximal runs of units that are not all zeros
      for (let u = 0; u < length;) {
        let v = u;
        while (v < length && !isZero(buf.subarray(v, Math.min(v + UNIT, length)), zero)) v += UNIT;
        v = Math.min(v, length);
        if (v > u) await out.write(buf.subarray(u, v), offset + u);
        u = v + UNIT;
      }
      scan.onProgress?.(handedOut, size);
    }
  };
  const workers = Array.from({ length: RAW_WORKERS }, (_, i) =>
    worker(all.subarray(i * RAW_PIECE, (i + 1) * RAW_PIECE)).catch((e: unknown) => {
      failed = true;
      throw e;
    }),
  );
  const results = await Promise.allSettled(workers);
  const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
  await out.truncate(size);
  scan.onProgress?.(size, size);
}

import { AppError } from '../../../../shared/errors/app-error.js';
import { alignedBuffer } from '../core/aligned-buffer.js';
import { readDiskInto } from '../core/mapped-disk.js';
import type { VirtualDisk } from '../virtual-disk.js';

/** A run of consecutive non-zero units, valid until the next iteration. */
export interface DataRun {
  offset: number;
  /** Whole units (the last unit of the disk may be short). */
  data: Buffer;
}

/** Options of scanDisk. */
export interface ScanOptions {
  /** Zero detection granularity in bytes (a power of two, e.g. the target's grain or cluster). */
  unit: number;
  /** Bytes read per window (a multiple of `unit`; default 8 MiB or `unit`, whichever is larger). */
  window?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** True when every byte of `b` is zero (`zero` is a zero-filled buffer of any length). */
export function isZero(b: Buffer, zero: Buffer): boolean {
  for (let at = 0; at < b.length; at += zero.length) {
    const n = Math.min(zero.length, b.length - at);
    if (!b.subarray(at, at + n).equals(n === zero.length ? zero : zero.subarray(0, n))) return false;
  }
  return true;
}

/**
 * Streams the non-zero content of `disk` in order, unit-aligned, with bounded memory (two
 * windows: one being consumed, one being prefetched). Ranges that extents() reports as zero or
 * unallocated are never read; data units whose bytes are all zero are skipped too.
 */
export async function* scanDisk(disk: VirtualDisk, opts: ScanOptions): AsyncGenerator<DataRun> {
  const unit = opts.unit;
  const window = Math.max(unit, opts.window ?? 8 * 1024 * 1024);
  if (window % unit !== 0) throw new AppError('INTERNAL', `scan window ${window} is not a multiple of unit ${unit}`);
  const both = alignedBuffer(2 * window);
  const buffers = [both.subarray(0, window), both.subarray(window)];
  const zero = Buffer.alloc(Math.min(unit, 1024 * 1024));
  const size = disk.size;
  // After a window without data: the start of the next data (unit-aligned), found with extents()
  // over growing spans, so an empty 64 TiB disk costs a few dozen calls, not 8 million windows.
  const skipZeros = async (from: number): Promise<number> => {
    let span = 64 * window;
    for (let at = from; at < size; at += span, span = Math.min(span * 2, 2 ** 40)) {
      const e = (await disk.extents(at, Math.min(span, size - at))).find((x) => x.kind === 'data');
      if (e) return Math.max(from, Math.floor(e.offset / unit) * unit);
    }
    return size;
  };
  const load = async (from: number, buf: Buffer, skip: boolean): Promise<{ start: number; len: number; units: boolean[] }> => {
    const start = skip ? await skipZeros(from) : from;
    const len = Math.min(window, size - start);
    if (len <= 0) return { start, len: 0, units: [] };
    const nUnits = Math.ceil(len / unit);
    const units = new Array<boolean>(nUnits).fill(false);
    for (const e of await disk.extents(start, len)) {
      if (e.kind !== 'data') continue;
      const first = Math.floor((e.offset - start) / unit);
      const last = Math.ceil((e.offset + e.length - start) / unit);
      for (let u = first; u < last; u++) units[u] = true;
    }
    // Read maximal runs of units that hold data; the rest is never read.
    for (let u = 0; u < nUnits;) {
      if (!units[u]) {
        u++;
        continue;
      }
      let v = u;
      while (v < nUnits && units[v]) v++;
      const from = u * unit;
      const to = Math.min(v * unit, len);
      await readDiskInto(disk, buf, from, start + from, to - from);
      for (let w = u; w < v; w++) {
        const a = w * unit;
        units[w] = !isZero(buf.subarray(a, Math.min(a + unit, len)), zero);
      }
      u = v;
    }
    return { start, len, units };
  };
  let which = 0;
  let next = size > 0 ? load(0, buffers[0], false) : undefined;
  while (next) {
    if (opts.signal?.aborted) throw new AppError('CANCELLED', 'disk conversion was cancelled');
    const cur = await next;
    const buf = buffers[which];
    const after = cur.start + cur.len;
    which ^= 1;
    next = after < size ? load(after, buffers[which], !cur.units.includes(true)) : undefined;
    // Keep the prefetch from rejecting unobserved if the consumer stops early.
    next?.catch(() => {});
    for (let u = 0; u < cur.units.length;) {
      if (!cur.units[u]) {
        u++;
        continue;
      }
      let v = u;
      while (v < cur.units.length && cur.units[v]) v++;
      yield { offset: cur.start + u * unit, data: buf.subarray(u * unit, Math.min(v * unit, cur.len)) };
      u = v;
    }
    opts.onProgress?.(after, size);
  }
}

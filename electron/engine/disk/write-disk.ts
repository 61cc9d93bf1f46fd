import { AppError } from '../../../shared/errors/app-error.js';
import type { VirtualDisk } from './virtual-disk.js';
import { OutputFile } from './write/output-file.js';
import { writeQcow2 } from './write/qcow2-writer.js';
import { writeRaw } from './write/raw-writer.js';
import { writeVhdx } from './write/vhdx-writer.js';
import { writeVmdkSparse } from './write/vmdk-writer.js';
import { writeVmdkStream } from './write/vmdk-stream-writer.js';

/** Output formats of writeDisk. */
export type WriteFormat = 'raw' | 'vmdk' | 'vmdk-stream' | 'vhdx' | 'qcow2';

/** The formats writeDisk accepts, for CLI validation. */
export const WRITE_FORMATS: readonly WriteFormat[] = ['raw', 'vmdk', 'vmdk-stream', 'vhdx', 'qcow2'];

/** Options of writeDisk. */
export interface WriteDiskOptions {
  /** Called after each window with bytes scanned so far and the disk size. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** fsync the image before it is renamed into place (default true; qemu-img convert does not). */
  sync?: boolean;
}

/**
 * Writes the whole of `src` to `dst` as `format` (raw: sparse file; vmdk: monolithicSparse;
 * vmdk-stream: streamOptimized; vhdx: dynamic; qcow2: v3). Streams with bounded memory, never
 * reads ranges `extents()` reports as zero/unallocated and leaves zero blocks unallocated.
 * The image appears at `dst` only when complete (written to `dst.part`, then renamed).
 */
export async function writeDisk(src: VirtualDisk, dst: string, format: WriteFormat, opts: WriteDiskOptions = {}): Promise<void> {
  if (!WRITE_FORMATS.includes(format)) throw new AppError('INVALID_REQUEST', `unknown output format '${String(format)}' (use ${WRITE_FORMATS.join(', ')})`);
  if (opts.signal?.aborted) throw new AppError('CANCELLED', 'disk conversion was cancelled');
  const out = await OutputFile.create(dst);
  const scan = { onProgress: opts.onProgress, signal: opts.signal };
  try {
    switch (format) {
      case 'raw':
        await writeRaw(src, out, scan);
        break;
      case 'qcow2':
        await writeQcow2(src, out, scan);
        break;
      case 'vmdk':
        await writeVmdkSparse(src, out, dst, scan);
        break;
      case 'vmdk-stream':
        await writeVmdkStream(src, out, dst, scan);
        break;
      case 'vhdx':
        await writeVhdx(src, out, scan);
        break;
    }
    await out.commit(opts.sync ?? true);
  } catch (e) {
    await out.abort();
    throw e;
  }
}

import type { VirtualDisk } from '../virtual-disk.js';
import type { OutputFile } from './output-file.js';
import { scanDisk, type ScanOptions } from './scan-disk.js';

/** Writes `src` as a sparse raw image: zero and unallocated ranges become holes. */
export async function writeRaw(src: VirtualDisk, out: OutputFile, scan: Omit<ScanOptions, 'unit'>): Promise<void> {
  for await (const run of scanDisk(src, { ...scan, unit: 64 * 1024 })) await out.write(run.data, run.offset);
  await out.truncate(src.size);
}

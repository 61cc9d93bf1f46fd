import type { VirtualDisk } from '../virtual-disk.js';
import type { OutputFile } from './output-file.js';
import { scanDisk, type ScanOptions } from './scan-disk.js';
import { DESCRIPTOR_SECTORS, embeddedDescriptor, encodeSparseHeader, GRAIN_BYTES, GRAIN_SECTORS, GTES_PER_GT } from './vmdk-header.js';

const GT_BYTES = GTES_PER_GT * 4;
const GT_SECTORS = GT_BYTES / 512;

/**
 * Writes `src` as a monolithicSparse VMDK in QEMU/VMware layout: header, embedded descriptor,
 * redundant GD + GTs, GD + GTs (all preallocated), then grains in order. Zero grains are left
 * unallocated. Memory: the GD plus one GT.
 */
export async function writeVmdkSparse(src: VirtualDisk, out: OutputFile, dst: string, scan: Omit<ScanOptions, 'unit'>): Promise<void> {
  const capacity = Math.ceil(src.size / 512);
  const gdEntries = Math.max(1, Math.ceil(capacity / (GTES_PER_GT * GRAIN_SECTORS)));
  const gdSectors = Math.ceil((gdEntries * 4) / 512);
  const rgd = 1 + DESCRIPTOR_SECTORS;
  const rgtStart = rgd + gdSectors;
  const gd = rgtStart + gdEntries * GT_SECTORS;
  const gtStart = gd + gdSectors;
  const overHead = Math.ceil((gtStart + gdEntries * GT_SECTORS) / GRAIN_SECTORS) * GRAIN_SECTORS;
  const gdBuf = Buffer.alloc(gdSectors * 512);
  const rgdBuf = Buffer.alloc(gdSectors * 512);
  for (let i = 0; i < gdEntries; i++) {
    gdBuf.writeUInt32LE(gtStart + i * GT_SECTORS, i * 4);
    rgdBuf.writeUInt32LE(rgtStart + i * GT_SECTORS, i * 4);
  }
  let next = overHead; // next free sector
  let gt: Buffer | undefined;
  let gtIndex = -1;
  const flushGt = async () => {
    if (!gt) return;
    await out.write(gt, (gtStart + gtIndex * GT_SECTORS) * 512);
    await out.write(gt, (rgtStart + gtIndex * GT_SECTORS) * 512);
    gt = undefined;
  };
  const pad = Buffer.alloc(GRAIN_BYTES);
  for await (const run of scanDisk(src, { ...scan, unit: GRAIN_BYTES })) {
    for (let p = 0; p < run.data.length; p += GRAIN_BYTES) {
      const grain = (run.offset + p) / GRAIN_BYTES;
      const idx = Math.floor(grain / GTES_PER_GT);
      if (idx !== gtIndex) {
        await flushGt();
        gt = Buffer.alloc(GT_BYTES);
        gtIndex = idx;
      }
      gt!.writeUInt32LE(next + p / 512, (grain % GTES_PER_GT) * 4);
    }
    const data = run.data.length % GRAIN_BYTES === 0 ? run.data : Buffer.concat([run.data, pad.subarray(0, GRAIN_BYTES - (run.data.length % GRAIN_BYTES))]);
    await out.write(data, next * 512);
    next += data.length / 512;
  }
  await flushGt();
  await out.write(gdBuf, gd * 512);
  await out.write(rgdBuf, rgd * 512);
  await out.write(embeddedDescriptor(dst, capacity, 'monolithicSparse'), 512);
  await out.write(encodeSparseHeader({ version: 1, flags: 3, capacity, rgdOffset: BigInt(rgd), gdOffset: BigInt(gd), overHead, compress: false }), 0);
  await out.truncate(Math.max(next, overHead) * 512);
}

import { deflate } from 'node:zlib';
import { promisify } from 'node:util';
import type { VirtualDisk } from '../virtual-disk.js';
import type { OutputFile } from './output-file.js';
import { scanDisk, type ScanOptions } from './scan-disk.js';
import { embeddedDescriptor, encodeSparseHeader, GRAIN_BYTES, GRAIN_SECTORS, GTES_PER_GT } from './vmdk-header.js';

const deflateAsync = promisify(deflate);
const GT_BYTES = GTES_PER_GT * 4;
const MARKER = { eos: 0, gt: 1, gd: 2, footer: 3 } as const;

function marker(sectors: number, type: number): Buffer {
  const b = Buffer.alloc(512);
  b.writeBigUInt64LE(BigInt(sectors), 0);
  b.writeUInt32LE(0, 8);
  b.writeUInt32LE(type, 12);
  return b;
}

const padTo512 = (n: number) => Math.ceil(n / 512) * 512;

/**
 * Writes `src` as a streamOptimized VMDK the way VMware does (for OVF/OVA export): header with
 * GD_AT_END, embedded descriptor, zlib-compressed grains with grain markers, a GT after each
 * 32 MiB range that has data, the GD, a footer and an end-of-stream marker. Append-only.
 */
export async function writeVmdkStream(src: VirtualDisk, out: OutputFile, dst: string, scan: Omit<ScanOptions, 'unit'>): Promise<void> {
  const capacity = Math.ceil(src.size / 512);
  const gdEntries = Math.max(1, Math.ceil(capacity / (GTES_PER_GT * GRAIN_SECTORS)));
  const gdBuf = Buffer.alloc(padTo512(gdEntries * 4));
  const overHead = GRAIN_SECTORS;
  let pos = overHead * 512;
  let gt: Buffer | undefined;
  let gtIndex = -1;
  const flushGt = async () => {
    if (!gt) return;
    await out.write(marker(GT_BYTES / 512, MARKER.gt), pos);
    pos += 512;
    gdBuf.writeUInt32LE(pos / 512, gtIndex * 4);
    await out.write(gt, pos);
    pos += GT_BYTES;
    gt = undefined;
  };
  for await (const run of scanDisk(src, { ...scan, unit: GRAIN_BYTES })) {
    const grains: Buffer[] = [];
    for (let p = 0; p < run.data.length; p += GRAIN_BYTES) grains.push(run.data.subarray(p, Math.min(p + GRAIN_BYTES, run.data.length)));
    const compressed = await Promise.all(grains.map((g) => deflateAsync(g, { level: 1 })));
    for (let i = 0; i < grains.length; i++) {
      const grain = (run.offset + i * GRAIN_BYTES) / GRAIN_BYTES;
      const idx = Math.floor(grain / GTES_PER_GT);
      if (idx !== gtIndex) {
        await flushGt();
        gt = Buffer.alloc(GT_BYTES);
        gtIndex = idx;
      }
      gt!.writeUInt32LE(pos / 512, (grain % GTES_PER_GT) * 4);
      const c = compressed[i];
      const rec = Buffer.alloc(padTo512(12 + c.length));
      rec.writeBigUInt64LE(BigInt(grain * GRAIN_SECTORS), 0);
      rec.writeUInt32LE(c.length, 8);
      c.copy(rec, 12);
      await out.write(rec, pos);
      pos += rec.length;
    }
  }
  await flushGt();
  await out.write(marker(gdBuf.length / 512, MARKER.gd), pos);
  pos += 512;
  const gdSector = pos / 512;
  await out.write(gdBuf, pos);
  pos += gdBuf.length;
  const fields = { version: 3, flags: 0x30001, capacity, rgdOffset: 0n, overHead, compress: true };
  await out.write(marker(1, MARKER.footer), pos);
  pos += 512;
  await out.write(encodeSparseHeader({ ...fields, gdOffset: BigInt(gdSector) }), pos);
  pos += 512;
  await out.write(marker(0, MARKER.eos), pos);
  pos += 512;
  await out.write(embeddedDescriptor(dst, capacity, 'streamOptimized'), 512);
  await out.write(encodeSparseHeader({ ...fields, gdOffset: 0xffffffffffffffffn }), 0);
}

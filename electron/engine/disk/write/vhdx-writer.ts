import { crc32c } from '../core/crc32c.js';
import { guidToBytes, randomGuidBytes } from '../core/guid.js';
import { HEADER_OFFSETS, KiB64, MiB, REGION_OFFSETS, VHDX_GUID } from '../vhdx/vhdx-structures.js';
import type { VirtualDisk } from '../virtual-disk.js';
import type { OutputFile } from './output-file.js';
import { scanDisk, type ScanOptions } from './scan-disk.js';

const LOG_OFFSET = MiB;
const LOG_LENGTH = MiB;
const METADATA_OFFSET = 2 * MiB;
const METADATA_LENGTH = MiB;
const BAT_OFFSET = 3 * MiB;
const SECTOR = 512;
const FULLY_PRESENT = 6;

function header(seq: number, fileWrite: Buffer, dataWrite: Buffer): Buffer {
  const b = Buffer.alloc(4096);
  b.write('head', 0, 'latin1');
  b.writeBigUInt64LE(BigInt(seq), 8);
  fileWrite.copy(b, 16);
  dataWrite.copy(b, 32);
  // LogGuid (48..64) stays zero: the log is empty.
  b.writeUInt16LE(0, 64);
  b.writeUInt16LE(1, 66);
  b.writeUInt32LE(LOG_LENGTH, 68);
  b.writeBigUInt64LE(BigInt(LOG_OFFSET), 72);
  b.writeUInt32LE(crc32c(b), 4);
  return b;
}

function regionTable(batLength: number): Buffer {
  const b = Buffer.alloc(KiB64);
  b.write('regi', 0, 'latin1');
  b.writeUInt32LE(2, 8);
  const entry = (i: number, guid: string, offset: number, length: number) => {
    const o = 16 + i * 32;
    guidToBytes(guid).copy(b, o);
    b.writeBigUInt64LE(BigInt(offset), o + 16);
    b.writeUInt32LE(length, o + 24);
    b.writeUInt32LE(1, o + 28);
  };
  entry(0, VHDX_GUID.bat, BAT_OFFSET, batLength);
  entry(1, VHDX_GUID.metadata, METADATA_OFFSET, METADATA_LENGTH);
  b.writeUInt32LE(crc32c(b), 4);
  return b;
}

function metadata(blockSize: number, size: number): Buffer {
  const b = Buffer.alloc(METADATA_LENGTH);
  b.write('metadata', 0, 'latin1');
  const items: { guid: string; value: Buffer; flags: number }[] = [];
  const u32 = (v: number) => {
    const x = Buffer.alloc(4);
    x.writeUInt32LE(v);
    return x;
  };
  const fp = Buffer.alloc(8);
  fp.writeUInt32LE(blockSize, 0);
  const vs = Buffer.alloc(8);
  vs.writeBigUInt64LE(BigInt(size));
  items.push({ guid: VHDX_GUID.fileParameters, value: fp, flags: 4 });
  items.push({ guid: VHDX_GUID.virtualDiskSize, value: vs, flags: 6 });
  items.push({ guid: VHDX_GUID.virtualDiskId, value: randomGuidBytes(), flags: 6 });
  items.push({ guid: VHDX_GUID.logicalSectorSize, value: u32(SECTOR), flags: 6 });
  items.push({ guid: VHDX_GUID.physicalSectorSize, value: u32(4096), flags: 6 });
  b.writeUInt16LE(items.length, 10);
  let at = KiB64;
  items.forEach((it, i) => {
    const o = 32 + i * 32;
    guidToBytes(it.guid).copy(b, o);
    b.writeUInt32LE(at, o + 16);
    b.writeUInt32LE(it.value.length, o + 20);
    b.writeUInt32LE(it.flags, o + 24);
    it.value.copy(b, at);
    at += it.value.length;
  });
  return b;
}

/**
 * Writes `src` as a dynamic VHDX (MS-VHDX): fixed-position headers, region tables, an empty
 * 1 MiB log, metadata and BAT, then payload blocks appended in order; zero blocks stay
 * NOT_PRESENT and zero 1 MiB pieces inside present blocks stay sparse holes. Memory: the BAT.
 */
export async function writeVhdx(src: VirtualDisk, out: OutputFile, scan: Omit<ScanOptions, 'unit'>, blockSize = 32 * MiB): Promise<void> {
  const size = Math.ceil(src.size / SECTOR) * SECTOR;
  const chunkRatio = (2 ** 23 * SECTOR) / blockSize;
  const dataBlocks = Math.ceil(size / blockSize);
  const batEntries = dataBlocks + Math.floor(Math.max(0, dataBlocks - 1) / chunkRatio);
  const batLength = Math.max(MiB, Math.ceil((batEntries * 8) / MiB) * MiB);
  const bat = Buffer.alloc(batEntries * 8);
  let next = BAT_OFFSET + batLength;
  const blockOffsets = new Map<number, number>();
  for await (const run of scanDisk(src, { ...scan, unit: MiB })) {
    for (let p = 0; p < run.data.length;) {
      const at = run.offset + p;
      const block = Math.floor(at / blockSize);
      const n = Math.min((block + 1) * blockSize - at, run.data.length - p);
      let off = blockOffsets.get(block);
      if (off === undefined) {
        off = next;
        next += blockSize;
        blockOffsets.clear(); // blocks arrive in order; only the current one is needed
        blockOffsets.set(block, off);
        const e = (block + Math.floor(block / chunkRatio)) * 8;
        const mb = off / MiB;
        bat.writeUInt32LE(((mb % 4096) * 2 ** 20 + FULLY_PRESENT) >>> 0, e);
        bat.writeUInt32LE(Math.floor(mb / 4096), e + 4);
      }
      await out.write(run.data.subarray(p, p + n), off + (at - block * blockSize));
      p += n;
    }
  }
  await out.truncate(next);
  const ident = Buffer.alloc(KiB64);
  ident.write('vhdxfile', 0, 'latin1');
  ident.write('TwinSnap', 8, 'utf16le');
  await out.write(ident, 0);
  await out.write(bat, BAT_OFFSET);
  await out.write(metadata(blockSize, size), METADATA_OFFSET);
  const rt = regionTable(batLength);
  await out.write(rt, REGION_OFFSETS[0]);
  await out.write(rt, REGION_OFFSETS[1]);
  const fileWrite = randomGuidBytes();
  const dataWrite = randomGuidBytes();
  await out.write(header(1, fileWrite, dataWrite), HEADER_OFFSETS[0]);
  await out.write(header(2, fileWrite, dataWrite), HEADER_OFFSETS[1]);
}

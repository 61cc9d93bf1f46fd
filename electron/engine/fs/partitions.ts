import { crc32 } from 'node:zlib';
import type { ByteSource } from './byte-source.js';
import { detectFilesystem } from './detect-fs.js';

/** One partition (or the whole disk as `p0`). Offsets in bytes. */
export interface PartitionInfo {
  /** Path component: `p1`, `p2`… or `p0` for a filesystem on the whole disk. */
  name: string;
  index: number;
  offset: number;
  size: number;
  /** mbr, gpt or none. */
  scheme: 'mbr' | 'gpt' | 'none';
  /** MBR type byte as hex (`0x07`) or the GPT type GUID. */
  typeId?: string;
  /** GPT partition name. */
  label?: string;
}

/** Result of scanning a disk's partition table. */
export interface PartitionTable {
  scheme: 'mbr' | 'gpt' | 'none';
  sectorSize: number;
  partitions: PartitionInfo[];
  warnings: string[];
}

const MAX_GPT_ENTRIES = 1024;
const MAX_EBRS = 256;
const EXTENDED = new Set([0x05, 0x0f, 0x85]);

/**
 * Reads MBR (with its chain of extended boot records) or GPT (primary, else backup; 512- and
 * 4096-byte logical sectors). A disk holding a filesystem directly, or no recognisable table,
 * yields a single `p0`. Numbering: GPT entry index + 1; MBR primaries 1–4 by slot, logical
 * partitions from 5 in chain order (the Linux convention).
 */
export async function readPartitionTable(disk: ByteSource): Promise<PartitionTable> {
  const warnings: string[] = [];
  const whole = (): PartitionTable => ({
    scheme: 'none',
    sectorSize: 512,
    partitions: disk.size > 0 ? [{ name: 'p0', index: 0, offset: 0, size: disk.size, scheme: 'none' }] : [],
    warnings,
  });
  if (disk.size < 512) return whole();
  const fs = await detectFilesystem(disk);
  if (fs.type !== 'unknown' && fs.type !== 'iso9660') return whole();
  const mbr = await disk.read(0, 512);
  const hasSig = mbr.length === 512 && mbr.readUInt16LE(510) === 0xaa55;
  const protective = hasSig && [0, 1, 2, 3].some((i) => mbr[446 + i * 16 + 4] === 0xee);
  for (const ss of [512, 4096]) {
    const gpt = await readGpt(disk, ss, warnings);
    if (gpt) return { scheme: 'gpt', sectorSize: ss, partitions: gpt, warnings };
  }
  if (protective) warnings.push('protective mbr found but no valid gpt header');
  if (!hasSig) return whole();
  const parts = await readMbr(disk, mbr, warnings);
  if (parts.length === 0) return whole();
  return { scheme: 'mbr', sectorSize: 512, partitions: parts, warnings };
}

async function readGpt(disk: ByteSource, ss: number, warnings: string[]): Promise<PartitionInfo[] | undefined> {
  const lastLba = Math.floor(disk.size / ss) - 1;
  if (lastLba < 2) return undefined;
  for (const lba of [1, lastLba]) {
    const hdr = await disk.read(lba * ss, ss);
    if (hdr.length < 92 || hdr.toString('latin1', 0, 8) !== 'EFI PART') continue;
    const hsize = hdr.readUInt32LE(12);
    if (hsize < 92 || hsize > ss) continue;
    const copy = Buffer.from(hdr.subarray(0, hsize));
    const want = copy.readUInt32LE(16);
    copy.writeUInt32LE(0, 16);
    if (crc32(copy) >>> 0 !== want) {
      warnings.push(`gpt header at lba ${lba} (sector size ${ss}) has a bad checksum`);
      continue;
    }
    const entLba = Number(hdr.readBigUInt64LE(72));
    const count = hdr.readUInt32LE(80);
    const esize = hdr.readUInt32LE(84);
    if (count > MAX_GPT_ENTRIES || esize < 128 || esize > 4096 || esize % 8 !== 0) continue;
    if (!Number.isSafeInteger(entLba) || entLba * ss + count * esize > disk.size) continue;
    const table = await disk.read(entLba * ss, count * esize);
    if (table.length !== count * esize) continue;
    if (crc32(table) >>> 0 !== hdr.readUInt32LE(88)) {
      warnings.push(`gpt partition entries at lba ${entLba} have a bad checksum`);
      continue;
    }
    if (lba !== 1) warnings.push('primary gpt header is damaged; using the backup header');
    const parts: PartitionInfo[] = [];
    for (let i = 0; i < count; i++) {
      const e = table.subarray(i * esize, (i + 1) * esize);
      if (e.subarray(0, 16).every((x) => x === 0)) continue;
      const first = Number(e.readBigUInt64LE(32));
      const last = Number(e.readBigUInt64LE(40));
      if (!Number.isSafeInteger(last) || last < first || first > lastLba) {
        warnings.push(`gpt entry ${i + 1} has an invalid range; skipped`);
        continue;
      }
      const end = Math.min(last, lastLba);
      let label = '';
      for (let p = 56; p + 1 < 128; p += 2) {
        const c = e.readUInt16LE(p);
        if (c === 0) break;
        label += String.fromCharCode(c);
      }
      parts.push({
        name: `p${i + 1}`,
        index: i + 1,
        offset: first * ss,
        size: (end - first + 1) * ss,
        scheme: 'gpt',
        typeId: guidString(e, 0),
        label,
      });
    }
    return parts;
  }
  return undefined;
}

/** Formats a mixed-endian GUID (GPT, NTFS) at `off`. */
export function guidString(b: Buffer, off: number): string {
  const h = (s: number, e: number) => b.subarray(off + s, off + e).toString('hex');
  const rev = (s: number, e: number) =>
    Buffer.from(b.subarray(off + s, off + e))
      .reverse()
      .toString('hex');
  return `${rev(0, 4)}-${rev(4, 6)}-${rev(6, 8)}-${h(8, 10)}-${h(10, 16)}`.toUpperCase();
}

async function readMbr(disk: ByteSource, mbr: Buffer, warnings: string[]): Promise<PartitionInfo[]> {
  const parts: PartitionInfo[] = [];
  const sectors = Math.floor(disk.size / 512);
  let extended: { start: number; size: number } | undefined;
  for (let i = 0; i < 4; i++) {
    const e = mbr.subarray(446 + i * 16, 462 + i * 16);
    const type = e[4];
    const start = e.readUInt32LE(8);
    const count = e.readUInt32LE(12);
    if (type === 0 || count === 0) continue;
    if (e[0] !== 0 && e[0] !== 0x80) return []; // not a partition table (boot code / garbage)
    if (start === 0 || start >= sectors) {
      warnings.push(`mbr entry ${i + 1} starts outside the disk; skipped`);
      continue;
    }
    if (EXTENDED.has(type)) {
      if (!extended) extended = { start, size: Math.min(count, sectors - start) };
      continue;
    }
    parts.push({ name: `p${i + 1}`, index: i + 1, offset: start * 512, size: Math.min(count, sectors - start) * 512, scheme: 'mbr', typeId: hex(type) });
  }
  if (extended) {
    const seen = new Set<number>();
    let ebr = extended.start;
    let n = 5;
    for (let k = 0; k < MAX_EBRS; k++) {
      if (seen.has(ebr)) {
        warnings.push('extended partition chain loops; stopped');
        break;
      }
      seen.add(ebr);
      const b = await disk.read(ebr * 512, 512);
      if (b.length < 512 || b.readUInt16LE(510) !== 0xaa55) {
        warnings.push(`extended boot record at sector ${ebr} is invalid; stopped`);
        break;
      }
      const e1 = b.subarray(446, 462);
      const e2 = b.subarray(462, 478);
      const st = ebr + e1.readUInt32LE(8);
      const cnt = e1.readUInt32LE(12);
      if (e1[4] !== 0 && cnt > 0 && st < sectors) {
        parts.push({ name: `p${n}`, index: n, offset: st * 512, size: Math.min(cnt, sectors - st) * 512, scheme: 'mbr', typeId: hex(e1[4]) });
        n++;
      }
      if (!EXTENDED.has(e2[4]) || e2.readUInt32LE(12) === 0) break;
      ebr = extended.start + e2.readUInt32LE(8);
      if (ebr >= sectors) break;
    }
  }
  return parts;
}

function hex(t: number): string {
  return `0x${t.toString(16).padStart(2, '0')}`;
}

import { inflateSync } from 'node:zlib';
import { checkRange, corrupt } from '../core/disk-error.js';
import type { FileSource } from '../core/file-source.js';
import { LruCache } from '../../core/lru-cache.js';
import { RunList, type Layer, type Run } from '../core/run.js';

/** VMDK sparse header flags. */
export const VMDK_FLAG_NL_TEST = 1;
export const VMDK_FLAG_RGD = 2;
export const VMDK_FLAG_ZEROED_GTE = 4;
export const VMDK_FLAG_COMPRESSED = 1 << 16;
export const VMDK_FLAG_MARKERS = 1 << 17;
/** gdOffset value meaning "the GD is at the end; read the footer". */
export const GD_AT_END = 0xffffffffffffffffn;

/** The fields of a hosted sparse extent header ("KDMV"). */
export interface SparseHeader {
  version: number;
  flags: number;
  capacity: number;
  grainSize: number;
  descriptorOffset: number;
  descriptorSize: number;
  numGTEsPerGT: number;
  rgdOffset: bigint;
  gdOffset: bigint;
  overHead: number;
  compressAlgorithm: number;
}

/** Parses the 512-byte sparse header at `b` (magic already checked or checked here). */
export function parseSparseHeader(b: Buffer, file: string, where = 'sparse extent header'): SparseHeader {
  if (b.length < 512 || b.readUInt32LE(0) !== 0x564d444b) corrupt(file, where, 'bad magic (expected KDMV)');
  const h: SparseHeader = {
    version: b.readUInt32LE(4),
    flags: b.readUInt32LE(8),
    capacity: checkRange(file, where, 'capacity', b.readBigUInt64LE(12), 2 ** 46),
    grainSize: checkRange(file, where, 'grainSize', b.readBigUInt64LE(20), 2 ** 20),
    descriptorOffset: checkRange(file, where, 'descriptorOffset', b.readBigUInt64LE(28), 2 ** 44),
    descriptorSize: checkRange(file, where, 'descriptorSize', b.readBigUInt64LE(36), 2 ** 44),
    numGTEsPerGT: b.readUInt32LE(44),
    rgdOffset: b.readBigUInt64LE(48),
    gdOffset: b.readBigUInt64LE(56),
    overHead: checkRange(file, where, 'overHead', b.readBigUInt64LE(64), 2 ** 44),
    compressAlgorithm: b.readUInt16LE(77),
  };
  if (h.version < 1 || h.version > 3) corrupt(file, where, `unsupported version ${h.version}`);
  if (h.grainSize < 1 || (h.grainSize & (h.grainSize - 1)) !== 0) corrupt(file, where, `grainSize ${h.grainSize} is not a power of two`);
  if (h.numGTEsPerGT < 1 || h.numGTEsPerGT > 4096) corrupt(file, where, `numGTEsPerGT ${h.numGTEsPerGT} is out of range`);
  return h;
}

const GRAIN_CACHE = 32;
const GT_CACHE = 4096;
/** Grain tables read in one call when they lie one after another (256 × 2 KiB: 8 GiB of disk). */
const GT_BATCH = 256;

/**
 * One hosted sparse extent (monolithicSparse, a -sNNN split extent, or streamOptimized):
 * a grain directory of grain tables of grain sector numbers. GTE 0 is absent (parent or
 * zeros); GTE 1 with the zeroed-grain flag is a zero grain that hides the parent.
 */
export class VmdkSparseExtent implements Layer {
  private readonly gd: Buffer;
  private readonly grainBytes: number;
  private readonly gtCoverage: number;
  private readonly gtBytes: number;
  private readonly gts = new LruCache<number, Promise<Buffer>>(GT_CACHE);
  /** A grain table with every entry 0 (nothing allocated): compared whole, not entry by entry. */
  private emptyGt: Buffer | undefined;
  /** Consecutive grain tables read in one call (see gtFor). */
  private gtBatch: { first: number; count: number; bytes: Buffer } | undefined;
  private readonly grains = new LruCache<number, Promise<Buffer>>(GRAIN_CACHE);
  private readonly zeroedGte: boolean;
  private readonly compressed: boolean;

  private constructor(
    private readonly source: FileSource,
    readonly header: SparseHeader,
    gd: Buffer,
    /** The redundant GD, used when a primary GD entry points outside the file. */
    private readonly rgd: Buffer | undefined,
  ) {
    this.gd = gd;
    this.grainBytes = header.grainSize * 512;
    this.gtCoverage = header.numGTEsPerGT * this.grainBytes;
    this.gtBytes = header.numGTEsPerGT * 4;
    this.zeroedGte = (header.flags & VMDK_FLAG_ZEROED_GTE) !== 0;
    this.compressed = (header.flags & VMDK_FLAG_COMPRESSED) !== 0;
  }

  /** Capacity of the extent in bytes (from its header). */
  get capacityBytes(): number {
    return this.header.capacity * 512;
  }

  /** Opens the extent in `source`: reads the header (or the stream footer) and the GD. */
  static async open(source: FileSource): Promise<VmdkSparseExtent> {
    const file = source.path;
    let h = parseSparseHeader(await source.readStrict(0, 512, 'sparse extent header'), file);
    if (h.gdOffset === GD_AT_END) {
      // streamOptimized written by VMware: the real header is a footer 1024 bytes before EOF.
      if (source.size < 1536 + 512) corrupt(file, 'stream footer', 'file too small for a footer');
      const marker = await source.readStrict(source.size - 1536, 512, 'stream footer marker');
      if (marker.readUInt32LE(8) !== 0 || marker.readUInt32LE(12) !== 3) corrupt(file, 'stream footer marker', 'missing footer marker before the end of stream');
      h = parseSparseHeader(await source.readStrict(source.size - 1024, 512, 'stream footer'), file, 'stream footer');
      if (h.gdOffset === GD_AT_END) corrupt(file, 'stream footer', 'footer has no grain directory offset');
    }
    if ((h.flags & VMDK_FLAG_COMPRESSED) !== 0 && h.compressAlgorithm !== 1) corrupt(file, 'sparse extent header', `unsupported compression algorithm ${h.compressAlgorithm}`);
    const gdEntries = Math.ceil(h.capacity / (h.numGTEsPerGT * h.grainSize));
    const gdSector = checkRange(file, 'sparse extent header', 'gdOffset', h.gdOffset, Math.floor(source.size / 512));
    const gdBytes = gdEntries * 4;
    if (gdBytes > source.size) corrupt(file, 'grain directory', `${gdEntries} entries do not fit in the file; capacity ${h.capacity} is wrong`);
    const gd = await source.readStrict(gdSector * 512, gdBytes, 'grain directory');
    let rgd: Buffer | undefined;
    if ((h.flags & VMDK_FLAG_RGD) !== 0 && h.rgdOffset > 0n && h.rgdOffset * 512n + BigInt(gdBytes) <= BigInt(source.size)) {
      rgd = await source.readStrict(Number(h.rgdOffset) * 512, gdBytes, 'redundant grain directory');
    }
    return new VmdkSparseExtent(source, h, gd, rgd);
  }

  async map(offset: number, length: number): Promise<Run[]> {
    const out = new RunList();
    const end = offset + length;
    let at = offset;
    const cap = this.capacityBytes;
    while (at < end) {
      if (at >= cap) {
        out.push({ kind: 'absent', length: end - at });
        break;
      }
      const l1 = Math.floor(at / this.gtCoverage);
      const gtEnd = Math.min((l1 + 1) * this.gtCoverage, end, cap);
      const gtSector = this.gtSector(l1);
      if (gtSector === 0) {
        out.push({ kind: 'absent', length: gtEnd - at });
        at = gtEnd;
        continue;
      }
      const gt = await this.gtFor(l1, gtSector, end);
      // preallocated but unused grain tables (a huge thin disk has millions): one run, no per-grain loop
      this.emptyGt ??= Buffer.alloc(gt.length);
      if (gt.equals(this.emptyGt)) {
        out.pushEmpty('absent', gtEnd - at);
        at = gtEnd;
        continue;
      }
      while (at < gtEnd) {
        const grain = Math.floor(at / this.grainBytes);
        const inGrain = at - grain * this.grainBytes;
        const n = Math.min(this.grainBytes - inGrain, gtEnd - at);
        const gte = gt.readUInt32LE((grain % this.header.numGTEsPerGT) * 4);
        if (gte === 0) out.pushEmpty('absent', n);
        else if (gte === 1 && this.zeroedGte) out.pushEmpty('zero', n);
        else if (this.compressed) out.push({ kind: 'bytes', length: n, at: inGrain, load: () => this.loadGrain(grain, gte) });
        else {
          const src = gte * 512 + inGrain;
          if (src + n > this.source.size) corrupt(this.source.path, 'grain table', `grain ${grain} points to sector ${gte}, past the end of the file`, { grain, sector: gte });
          out.pushData(this.source, src, n);
        }
        at += n;
      }
    }
    return out.runs;
  }

  /** The GT sector of GD entry `l1`, from the redundant GD when the primary one is out of the file. */
  private gtSector(l1: number): number {
    const primary = this.gd.readUInt32LE(l1 * 4);
    const fits = (sector: number) => sector * 512 + this.header.numGTEsPerGT * 4 <= this.source.size;
    if (primary !== 0 && !fits(primary) && this.rgd) {
      const backup = this.rgd.readUInt32LE(l1 * 4);
      if (backup !== 0 && fits(backup)) return backup;
    }
    return primary;
  }

  /**
   * The grain table of GD entry `l1`. When the tables of the following entries (up to `end`) lie
   * right after it in the file, as qemu-img and VMware preallocate them, up to GT_BATCH of them
   * are read in one call and kept for the next entries: a 64 TiB disk has 2 million of them.
   */
  private async gtFor(l1: number, sector: number, end: number): Promise<Buffer> {
    const batch = this.gtBatch;
    if (batch && l1 >= batch.first && l1 < batch.first + batch.count) return batch.bytes.subarray((l1 - batch.first) * this.gtBytes, (l1 - batch.first + 1) * this.gtBytes);
    const gtSectors = this.gtBytes / 512;
    const last = Math.min(Math.ceil(end / this.gtCoverage), this.gd.length / 4, l1 + GT_BATCH);
    let count = 1;
    while (l1 + count < last && this.gtSector(l1 + count) === sector + count * gtSectors && sector + (count + 1) * gtSectors <= this.source.size / 512) count++;
    if (count === 1) return this.loadGt(l1, sector);
    const bytes = await this.source.readStrict(sector * 512, count * this.gtBytes, `grain tables ${l1}–${l1 + count - 1}`);
    this.gtBatch = { first: l1, count, bytes };
    return bytes.subarray(0, this.gtBytes);
  }

  private loadGt(l1: number, sector: number): Promise<Buffer> {
    return this.gts.load(l1, () => this.source.readStrict(sector * 512, this.header.numGTEsPerGT * 4, `grain table ${l1}`));
  }

  private loadGrain(grain: number, sector: number): Promise<Buffer> {
    return this.grains.load(grain, async () => {
      const file = this.source.path;
      const head = await this.source.readStrict(sector * 512, 12, `grain marker of grain ${grain}`);
      const lba = head.readBigUInt64LE(0);
      const size = head.readUInt32LE(8);
      if (lba !== BigInt(grain * this.header.grainSize)) corrupt(file, `grain marker of grain ${grain}`, `marker names sector ${lba}, expected ${grain * this.header.grainSize}`);
      if (size === 0 || size > this.grainBytes * 2 + 4096) corrupt(file, `grain marker of grain ${grain}`, `compressed size ${size} is out of range`);
      const data = await this.source.readStrict(sector * 512 + 12, size, `compressed grain ${grain}`);
      try {
        return inflateSync(data, { maxOutputLength: this.grainBytes });
      } catch (cause) {
        return corrupt(file, `compressed grain ${grain}`, `cannot inflate: ${(cause as Error).message}`);
      }
    });
  }
}

import { inflateRawSync } from 'node:zlib';
import { checkRange, corrupt, diskError, MAX_VIRTUAL_SIZE } from '../core/disk-error.js';
import type { FileSource } from '../core/file-source.js';
import { LruCache } from '../../core/lru-cache.js';
import { MappedDisk } from '../core/mapped-disk.js';
import type { OpenContext } from '../core/open-context.js';
import { RunList, type Layer, type Run } from '../core/run.js';
import type { VirtualDisk } from '../virtual-disk.js';

/** qcow2 magic "QFI\xfb". */
export const QCOW2_MAGIC = 0x514649fb;
/** Bit 0 dirty (only refcounts may be stale, fine for reads), bit 4 extended L2 entries. */
const KNOWN_INCOMPATIBLE = 1n | 16n;
const EXTENDED_L2 = 16n;
const OFFSET_MASK_HI = 0x00ffffff;

/** The qcow2 header fields we use. */
export interface Qcow2Header {
  version: number;
  clusterBits: number;
  size: number;
  l1Size: number;
  l1Offset: number;
  backingFile?: string;
  incompatible: bigint;
}

/** Parses and validates a qcow2 header. */
export async function readQcow2Header(src: FileSource): Promise<Qcow2Header> {
  const file = src.path;
  const b = await src.readStrict(0, Math.min(src.size, 512), 'qcow2 header');
  if (b.length < 72 || b.readUInt32BE(0) !== QCOW2_MAGIC) corrupt(file, 'qcow2 header', 'bad magic or header too short');
  const version = b.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw diskError('DISK_UNSUPPORTED', file, `qcow2 '${file}' has unsupported version ${version}`, { structure: 'qcow2 header' });
  const clusterBits = b.readUInt32BE(20);
  if (clusterBits < 9 || clusterBits > 21) corrupt(file, 'qcow2 header', `cluster bits ${clusterBits} out of range`);
  if (b.readUInt32BE(32) !== 0) throw diskError('DISK_UNSUPPORTED', file, `qcow2 '${file}' is encrypted, which is not supported`, { structure: 'qcow2 header' });
  const incompatible = version >= 3 && b.length >= 80 ? b.readBigUInt64BE(72) : 0n;
  if (incompatible & 2n) corrupt(file, 'qcow2 header', 'the image is marked corrupt by qemu');
  if (incompatible & ~KNOWN_INCOMPATIBLE & ~2n) {
    throw diskError('DISK_UNSUPPORTED', file, `qcow2 '${file}' uses unsupported features (incompatible bits 0x${incompatible.toString(16)}: external data file or zstd compression)`, {
      structure: 'qcow2 header',
    });
  }
  const h: Qcow2Header = {
    version,
    clusterBits,
    size: checkRange(file, 'qcow2 header', 'size', b.readBigUInt64BE(24), MAX_VIRTUAL_SIZE),
    l1Size: b.readUInt32BE(36),
    l1Offset: checkRange(file, 'qcow2 header', 'l1 table offset', b.readBigUInt64BE(40), src.size),
    incompatible,
  };
  const bfOff = b.readBigUInt64BE(8);
  const bfLen = b.readUInt32BE(16);
  if (bfOff !== 0n && bfLen > 0) {
    if (bfLen > 1023) corrupt(file, 'qcow2 header', `backing file name length ${bfLen} exceeds 1023`);
    const at = checkRange(file, 'qcow2 header', 'backing file offset', bfOff, src.size - bfLen);
    h.backingFile = (await src.readStrict(at, bfLen, 'backing file name')).toString('utf8');
  }
  return h;
}

class Qcow2Layer implements Layer {
  private readonly clusterSize: number;
  private readonly l2Entries: number;
  private readonly l2s: LruCache<number, Promise<Buffer>>;
  private readonly clusters = new LruCache<number, Promise<Buffer>>(16);
  private readonly csizeShift: number;
  private readonly entryBytes: number;
  private readonly subcluster: number;

  constructor(
    private readonly src: FileSource,
    private readonly h: Qcow2Header,
    private readonly l1: Buffer,
  ) {
    this.clusterSize = 2 ** h.clusterBits;
    this.entryBytes = h.incompatible & EXTENDED_L2 ? 16 : 8;
    this.subcluster = this.clusterSize / 32;
    this.l2Entries = this.clusterSize / this.entryBytes;
    this.l2s = new LruCache<number, Promise<Buffer>>(Math.max(8, Math.floor((32 * 1024 * 1024) / this.clusterSize)));
    this.csizeShift = 62 - (h.clusterBits - 8);
  }

  async map(offset: number, length: number): Promise<Run[]> {
    const out = new RunList();
    const end = offset + length;
    const cs = this.clusterSize;
    const l2Cover = cs * this.l2Entries;
    for (let at = offset; at < end;) {
      const l1i = Math.floor(at / l2Cover);
      const l2End = Math.min((l1i + 1) * l2Cover, end);
      const l2Off = l1i < this.h.l1Size ? (this.l1.readUInt32BE(l1i * 8) & OFFSET_MASK_HI) * 2 ** 32 + ((this.l1.readUInt32BE(l1i * 8 + 4) & 0xfffffe00) >>> 0) : 0;
      if (l2Off === 0) {
        out.push({ kind: 'absent', length: l2End - at });
        at = l2End;
        continue;
      }
      const l2 = await this.l2s.load(l1i, () => this.src.readStrict(l2Off, cs, `l2 table ${l1i}`));
      while (at < l2End) {
        const cluster = Math.floor(at / cs);
        const inCluster = at - cluster * cs;
        const n = Math.min(cs - inCluster, l2End - at);
        let step = n;
        const e = (cluster % this.l2Entries) * this.entryBytes;
        const hi = l2.readUInt32BE(e);
        const lo = l2.readUInt32BE(e + 4);
        if (hi & 0x40000000) out.push({ kind: 'bytes', length: n, at: inCluster, load: () => this.loadCompressed(cluster, hi, lo) });
        else if (this.entryBytes === 16) this.pushSubclusters(out, l1i, cluster, hi, lo, l2.readUInt32BE(e + 8), l2.readUInt32BE(e + 12), inCluster, n);
        else if (this.h.version >= 3 && lo & 1) out.pushEmpty('zero', n);
        else {
          const host = (hi & OFFSET_MASK_HI) * 2 ** 32 + ((lo & 0xfffffe00) >>> 0);
          if (host === 0) out.pushEmpty('absent', n);
          else {
            if (host % cs !== 0 || host + inCluster + n > this.src.size)
              corrupt(this.src.path, `l2 table ${l1i}`, `cluster ${cluster} points to offset ${host}, which is unaligned or past the end of the file`, { cluster, offset: host });
            step = n + this.contiguousAfter(l2, cluster + 1, host + cs, at + n, l2End);
            out.pushData(this.src, host + inCluster, step);
          }
        }
        at += step;
      }
    }
    return out.runs;
  }

  /**
   * Bytes from `pos` (a cluster boundary, before `l2End`) stored contiguously from file offset
   * `next` on: the following plain entries of this L2 table are scanned in one tight loop, so a
   * long allocated range costs one run, not one per cluster. Stops at anything else (compressed,
   * zero, unallocated, elsewhere, past the end of the file), which the caller maps as usual.
   */
  private contiguousAfter(l2: Buffer, cluster: number, next: number, pos: number, l2End: number): number {
    const cs = this.clusterSize;
    const zeroFlag = this.h.version >= 3 ? 1 : 0;
    const fileSize = this.src.size;
    let e = (cluster % this.l2Entries) * 8;
    let len = 0;
    for (let at = pos; at < l2End; at += cs, e += 8, next += cs) {
      const hi = l2.readUInt32BE(e);
      const lo = l2.readUInt32BE(e + 4);
      if (hi & 0x40000000 || lo & zeroFlag) break;
      if ((hi & OFFSET_MASK_HI) * 4294967296 + ((lo & 0xfffffe00) >>> 0) !== next) break;
      const m = Math.min(cs, l2End - at);
      if (next + m > fileSize) break;
      len += m;
    }
    return len;
  }

  /** Extended L2: 32 subclusters, allocation bits 0-31 and zero bits 32-63 of the bitmap. */
  private pushSubclusters(out: RunList, l1i: number, cluster: number, hi: number, lo: number, zeroBits: number, allocBits: number, inCluster: number, n: number): void {
    const host = (hi & OFFSET_MASK_HI) * 2 ** 32 + ((lo & 0xfffffe00) >>> 0);
    for (let at = inCluster; at < inCluster + n;) {
      const sc = Math.floor(at / this.subcluster);
      const m = Math.min((sc + 1) * this.subcluster, inCluster + n) - at;
      if ((zeroBits >>> sc) & 1) out.push({ kind: 'zero', length: m });
      else if ((allocBits >>> sc) & 1) {
        if (host === 0 || host % this.clusterSize !== 0 || host + at + m > this.src.size)
          corrupt(this.src.path, `l2 table ${l1i}`, `cluster ${cluster} points to offset ${host}, which is unaligned or past the end of the file`, { cluster, offset: host });
        out.push({ kind: 'data', length: m, source: this.src, sourceOffset: host + at });
      } else out.push({ kind: 'absent', length: m });
      at += m;
    }
  }

  private loadCompressed(cluster: number, hi: number, lo: number): Promise<Buffer> {
    return this.clusters.load(cluster, async () => {
      const e = ((BigInt(hi) << 32n) | BigInt(lo)) & ((1n << 62n) - 1n);
      const shift = BigInt(this.csizeShift);
      const coffset = Number(e & ((1n << shift) - 1n));
      const nsec = Number(e >> shift) + 1;
      const csize = Math.min(nsec * 512 - (coffset % 512), this.src.size - coffset);
      if (csize <= 0) corrupt(this.src.path, 'l2 table', `compressed cluster ${cluster} points past the end of the file`);
      const data = await this.src.readStrict(coffset, csize, `compressed cluster ${cluster}`);
      try {
        return inflateRawSync(data, { maxOutputLength: this.clusterSize, finishFlush: 2 /* Z_SYNC_FLUSH */ });
      } catch (cause) {
        return corrupt(this.src.path, `compressed cluster ${cluster}`, `cannot inflate: ${(cause as Error).message}`);
      }
    });
  }
}

/** Opens a qcow2 (v2/v3) image with its backing chain. Takes ownership of `src`. */
export async function openQcow2(src: FileSource, ctx: OpenContext): Promise<MappedDisk> {
  try {
    const file = src.path;
    const h = await readQcow2Header(src);
    const cs = 2 ** h.clusterBits;
    const needL1 = Math.ceil(h.size / (cs * (cs / (h.incompatible & EXTENDED_L2 ? 16 : 8))));
    if (h.l1Size < needL1) corrupt(file, 'qcow2 header', `l1 size ${h.l1Size} cannot cover ${h.size} bytes`);
    if (h.l1Size * 8 > src.size) corrupt(file, 'qcow2 header', `l1 size ${h.l1Size} does not fit in the file`);
    const l1 = await src.readStrict(h.l1Offset, needL1 * 8, 'l1 table');
    let parent: VirtualDisk | undefined;
    if (h.backingFile) parent = await ctx.openParent(h.backingFile, file);
    const subformat = h.version === 2 ? 'v2' : 'v3';
    return new MappedDisk({
      size: h.size,
      format: 'qcow2',
      subformat,
      link: { path: file, format: 'qcow2', subformat },
      layer: new Qcow2Layer(src, { ...h, l1Size: needL1 }, l1),
      parent,
      files: [src],
    });
  } catch (e) {
    await src.close().catch(() => {});
    throw e;
  }
}

import type { ByteSource } from '../byte-source.js';
import { BufferSource, readExact } from '../byte-source.js';
import { ensure, u64 } from '../fs-error.js';
import type { FileContent, FsNode, GuestFilesystem } from '../guest-fs.js';
import { ClusterStream, FatTable, type ClusterRun } from './fat-table.js';

interface ExRef {
  cluster: number;
  size: number;
  valid: number;
  noFatChain: boolean;
  dir: boolean;
}

const MAX_DIR_BYTES = 64 * 1024 * 1024;

/**
 * Read-only exFAT driver: entry sets (File 0x85 + Stream 0xC0 + File Name 0xC1), NoFatChain
 * contiguous files, ValidDataLength (the tail past it reads as zeros), timestamps with their
 * UTC offsets.
 */
export class ExfatVolume implements GuestFilesystem {
  readonly fsType = 'exfat';
  readonly caseInsensitive = true;
  readonly warnings: string[] = [];
  private fat!: FatTable;
  private clusterSize = 0;
  private heap = 0;
  private rootCluster = 0;
  private clusterCount = 0;

  private constructor(private readonly src: ByteSource) {}

  /** Opens the exFAT volume at the start of `src`. */
  static async open(src: ByteSource): Promise<ExfatVolume> {
    const v = new ExfatVolume(src);
    await v.init();
    return v;
  }

  private async init(): Promise<void> {
    const b = await readExact(this.src, 0, 512, 'exfat boot sector');
    ensure(b.toString('latin1', 3, 11) === 'EXFAT   ', 'not an exfat boot sector');
    const bpsShift = b[108];
    const spcShift = b[109];
    ensure(bpsShift >= 9 && bpsShift <= 12 && spcShift <= 25 - bpsShift, 'exfat: bad sector or cluster size');
    const bps = 1 << bpsShift;
    this.clusterSize = bps * (1 << spcShift);
    const fatOff = b.readUInt32LE(80) * bps;
    const fatLen = b.readUInt32LE(84) * bps;
    this.heap = b.readUInt32LE(88) * bps;
    this.clusterCount = b.readUInt32LE(92);
    this.rootCluster = b.readUInt32LE(96);
    const flags = b.readUInt16LE(106);
    const nfats = b[110];
    ensure(nfats === 1 || nfats === 2, 'exfat: bad number of fats');
    ensure(fatOff > 0 && fatLen > 0 && this.heap > 0 && this.heap < this.src.size, 'exfat: bad layout');
    ensure(this.rootCluster >= 2 && this.rootCluster < this.clusterCount + 2, 'exfat: bad root cluster');
    if (flags & 0x0002) this.warnings.push('exfat volume is marked dirty: it was not cleanly unmounted; recent changes may be missing');
    const active = nfats === 2 && flags & 1 ? 1 : 0;
    this.fat = new FatTable(this.src, fatOff + active * fatLen, fatLen, 32, this.clusterCount + 2);
  }

  async root(): Promise<FsNode> {
    const ref: ExRef = { cluster: this.rootCluster, size: 0, valid: 0, noFatChain: false, dir: true };
    return { name: '', type: 'dir', size: 0, key: `exfat:${this.rootCluster}`, ref };
  }

  private async runs(ref: ExRef, bytes: number): Promise<ClusterRun[]> {
    const n = Math.ceil(bytes / this.clusterSize);
    if (ref.cluster === 0 || n === 0) return [];
    if (ref.noFatChain) {
      ensure(ref.cluster >= 2 && ref.cluster + n <= this.clusterCount + 2, 'exfat: contiguous file outside the cluster heap');
      return [{ cluster: ref.cluster, count: n }];
    }
    return this.fat.chain(ref.cluster, n);
  }

  async readdir(dir: FsNode): Promise<FsNode[]> {
    const ref = dir.ref as ExRef;
    let runs: ClusterRun[];
    if (ref.cluster === this.rootCluster && !ref.size) runs = await this.fat.chain(ref.cluster, Math.ceil(MAX_DIR_BYTES / this.clusterSize));
    else {
      ensure(ref.size <= MAX_DIR_BYTES, 'exfat: directory too large');
      runs = await this.runs(ref, ref.size);
    }
    const size = runs.reduce((s, r) => s + r.count * this.clusterSize, 0);
    const d = await new ClusterStream(this.src, this.heap, this.clusterSize, runs, size).read(0, size);
    return this.parseDir(d);
  }

  private parseDir(d: Buffer): FsNode[] {
    const out: FsNode[] = [];
    for (let p = 0; p + 32 <= d.length;) {
      const t = d[p];
      if (t === 0) break;
      if (t !== 0x85) {
        p += 32;
        continue;
      }
      const sec = d[p + 1];
      if (sec < 2 || sec > 18 || p + 32 * (sec + 1) > d.length || d[p + 32] !== 0xc0) {
        p += 32;
        continue;
      }
      const attr = d.readUInt16LE(p + 4);
      const st = p + 32;
      const gflags = d[st + 1];
      const nameLen = d[st + 3];
      const valid = u64(d, st + 8, 'exfat valid data length');
      const cluster = d.readUInt32LE(st + 20);
      const size = u64(d, st + 24, 'exfat data length');
      let name = '';
      for (let k = 2; k <= sec && name.length < nameLen; k++) {
        const e = p + 32 * k;
        if (d[e] !== 0xc1) break;
        for (let i = 0; i < 15 && name.length < nameLen; i++) name += String.fromCharCode(d.readUInt16LE(e + 2 + i * 2));
      }
      const isDir = (attr & 0x10) !== 0;
      const ref: ExRef = { cluster, size, valid: Math.min(valid, size), noFatChain: (gflags & 2) !== 0, dir: isDir };
      out.push({
        name,
        type: isDir ? 'dir' : 'file',
        size: isDir ? 0 : size,
        mtimeMs: exTime(d.readUInt32LE(p + 12), d[p + 21], d[p + 23]),
        key: isDir ? `exfat:${cluster}` : `exfat:f:${cluster}:${p}`,
        ref,
      });
      p += 32 * (sec + 1);
    }
    return out;
  }

  async open(node: FsNode, stream?: string): Promise<FileContent> {
    ensure(!stream, 'exfat has no alternate data streams');
    const ref = node.ref as ExRef;
    if (ref.size === 0) return new BufferSource(Buffer.alloc(0));
    const runs = await this.runs(ref, ref.valid > 0 ? ref.size : 0);
    return new ClusterStream(this.src, this.heap, this.clusterSize, runs, ref.size, ref.valid);
  }
}

function exTime(ts: number, tenMs: number, utcOff: number): number | undefined {
  const date = ts >>> 16;
  const time = ts & 0xffff;
  if (date === 0) return undefined;
  let ms = Date.UTC(1980 + (date >> 9), ((date >> 5) & 0x0f) - 1, date & 0x1f, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2) + Math.min(tenMs, 199) * 10;
  if (utcOff & 0x80) {
    const q = utcOff & 0x40 ? (utcOff & 0x7f) - 0x80 : utcOff & 0x7f;
    ms -= q * 15 * 60_000;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

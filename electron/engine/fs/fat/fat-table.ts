import type { ByteSource } from '../byte-source.js';
import { MappedStream, type MappedSpan } from '../mapped-spans.js';
import { readExact } from '../byte-source.js';
import { ensure, fsCorrupt } from '../fs-error.js';
import { LruCache } from '../../core/lru-cache.js';

/** A run of contiguous clusters. */
export interface ClusterRun {
  cluster: number;
  count: number;
}

const SEG = 64 * 1024;

/**
 * The file allocation table of a FAT12/16/32 or exFAT volume, read on demand in 64 KiB
 * segments (bounded cache) so that huge FATs never sit in memory whole.
 */
export class FatTable {
  private readonly segs = new LruCache<number, Buffer>(4 * 1024 * 1024);

  constructor(
    private readonly src: ByteSource,
    private readonly offset: number,
    private readonly length: number,
    /** 12, 16 or 32 bits per entry. */
    readonly bits: 12 | 16 | 32,
    /** Highest valid cluster number + 1. */
    readonly clusterLimit: number,
  ) {}

  private async bytes(off: number, n: number): Promise<Buffer> {
    ensure(off + n <= this.length, 'fat entry outside the allocation table');
    const s = Math.floor(off / SEG);
    const e = Math.floor((off + n - 1) / SEG);
    if (s === e) {
      const b = await this.seg(s);
      return b.subarray(off - s * SEG, off - s * SEG + n);
    }
    return Buffer.concat([await this.seg(s), await this.seg(e)]).subarray(off - s * SEG, off - s * SEG + n);
  }

  private async seg(i: number): Promise<Buffer> {
    const hit = this.segs.get(i);
    if (hit) return hit;
    const len = Math.min(SEG, this.length - i * SEG);
    const b = await readExact(this.src, this.offset + i * SEG, len, 'allocation table');
    this.segs.set(i, b, b.length);
    return b;
  }

  /** The entry of cluster `n`, masked to its width. */
  async entry(n: number): Promise<number> {
    if (this.bits === 32) return (await this.bytes(n * 4, 4)).readUInt32LE(0) & (this.clusterLimit > 0x0fffffff ? 0xffffffff : 0x0fffffff);
    if (this.bits === 16) return (await this.bytes(n * 2, 2)).readUInt16LE(0);
    const off = Math.floor((n * 3) / 2);
    const v = (await this.bytes(off, 2)).readUInt16LE(0);
    return n & 1 ? v >> 4 : v & 0x0fff;
  }

  /** True when `v` marks the end of a chain. */
  isEnd(v: number): boolean {
    if (this.bits === 12) return v >= 0xff8;
    if (this.bits === 16) return v >= 0xfff8;
    return v >= 0x0ffffff8;
  }

  /**
   * Follows the chain from `first`, returning contiguous runs. Stops after `maxClusters`
   * (the size the caller expects) and throws FS_CORRUPT on loops, free or out-of-range links.
   */
  async chain(first: number, maxClusters: number): Promise<ClusterRun[]> {
    const runs: ClusterRun[] = [];
    let c = first;
    let total = 0;
    const limit = Math.min(maxClusters, this.clusterLimit);
    while (total < limit) {
      if (c < 2 || c >= this.clusterLimit) throw fsCorrupt(`cluster chain points outside the volume (cluster ${c})`);
      const last = runs[runs.length - 1];
      if (last && last.cluster + last.count === c) last.count++;
      else runs.push({ cluster: c, count: 1 });
      total++;
      const next = await this.entry(c);
      if (this.isEnd(next)) break;
      if (next === 0) throw fsCorrupt(`cluster chain reaches a free cluster after ${c}`);
      c = next;
    }
    if (total >= this.clusterLimit) throw fsCorrupt('cluster chain loops');
    return runs;
  }
}

/**
 * Reads bytes of a cluster-run list as one logical stream (bytes at or past the valid size read
 * as zeros). `readParts` / `readLeased` give the same bytes without copying (views of the
 * volume's buffers — for a repository snapshot its leased chunk slots — and of shared zeros).
 */
export class ClusterStream extends MappedStream {
  constructor(
    src: ByteSource,
    private readonly heapOffset: number,
    private readonly clusterSize: number,
    private readonly runs: ClusterRun[],
    size: number,
    /** Bytes at or past this read as zeros (exFAT ValidDataLength). */
    private readonly validSize = size,
  ) {
    super(src, size, 'file data');
  }

  /**
   * The stream bytes [offset, offset+n) cut at run boundaries and at the valid size (zeros past
   * it). Throws FS_CORRUPT when the chain ends before the valid bytes do.
   */
  protected spans(offset: number, n: number): MappedSpan[] {
    const end = offset + n;
    const out: MappedSpan[] = [];
    let pos = 0;
    for (const r of this.runs) {
      const rBytes = r.count * this.clusterSize;
      const s = Math.max(pos, offset);
      const e = Math.min(pos + rBytes, end);
      if (e > s) {
        const dataEnd = Math.min(e, this.validSize);
        if (dataEnd > s) out.push({ s, e: dataEnd, diskOff: this.heapOffset + (r.cluster - 2) * this.clusterSize + (s - pos) });
        const z = Math.max(s, dataEnd);
        if (e > z) out.push({ s: z, e, diskOff: -1 });
      }
      pos += rBytes;
      if (pos >= end) break;
    }
    if (pos < Math.min(end, this.validSize)) throw fsCorrupt('file is longer than its cluster chain');
    const z = Math.max(pos, offset);
    if (end > z) out.push({ s: z, e: end, diskOff: -1 });
    return out;
  }
}

import type { ByteSource, LeasedParts } from '../byte-source.js';
import { readExact } from '../byte-source.js';
import { MappedStream, type MappedSpan } from '../mapped-spans.js';
import { ensure } from '../fs-error.js';
import type { LruCache } from '../../core/lru-cache.js';
import { lznt1Decompress } from './lznt1.js';
import type { Run } from './ntfs-record.js';

/** Everything needed to read one (possibly multi-segment) non-resident attribute. */
export interface StreamLayout {
  runs: Run[];
  dataSize: number;
  initSize: number;
  /** Compression unit exponent (0 = not compressed). */
  compUnit: number;
  compressed: boolean;
}

/** A piece of a VCN range: `count` clusters at `lcn` (-1 = sparse / beyond the runlist). */
interface Piece {
  lcn: number;
  count: number;
}

/**
 * Reads a non-resident NTFS stream: maps VCNs through the runlist (sparse runs and the range
 * beyond the runlist read as zeros), zeroes bytes past the valid-data length, and decompresses
 * LZNT1 compression units through a shared cache of decompressed units.
 */
export class NtfsStream extends MappedStream {
  private readonly runs: Run[];

  constructor(
    vol: ByteSource,
    private readonly clusterSize: number,
    private readonly layout: StreamLayout,
    private readonly cuCache: LruCache<string, Buffer>,
    private readonly cacheKey: string,
  ) {
    super(vol, layout.dataSize, 'ntfs data run');
    this.runs = layout.runs;
    for (let i = 1; i < this.runs.length; i++) ensure(this.runs[i].vcn >= this.runs[i - 1].vcn + this.runs[i - 1].length, 'ntfs runlist segments overlap');
  }

  private get compressed(): boolean {
    return this.layout.compressed && this.layout.compUnit > 0;
  }

  override async read(offset: number, length: number): Promise<Buffer> {
    if (!this.compressed) return super.read(offset, length);
    if (offset >= this.size || length <= 0) return Buffer.alloc(0);
    const n = Math.min(length, this.size - offset);
    const out = await this.readCompressed(offset, n);
    const init = this.layout.initSize;
    if (offset + n > init) out.fill(0, Math.max(0, init - offset));
    return out;
  }

  /**
   * The same bytes as `read`, without copying: views of the volume's buffers (for a repository
   * snapshot, its decoded chunks) and of shared zeros. Compressed streams are decoded as usual.
   */
  override async readParts(offset: number, length: number): Promise<Buffer[]> {
    if (!this.compressed) return super.readParts(offset, length);
    return offset >= this.size || length <= 0 ? [] : [await this.read(offset, length)];
  }

  /**
   * The same bytes as `readParts`, leased from the volume (for a repository snapshot: its chunk
   * slots, loaded on the worker threads) for a one-pass copy; valid until `release()`.
   */
  override async readLeased(offset: number, length: number): Promise<LeasedParts> {
    if (!this.compressed) return super.readLeased(offset, length);
    return { parts: await this.readParts(offset, length), release: () => {} };
  }

  /** The data-run spans of [offset, offset+n), bytes at or past the valid-data length as zeros. */
  protected spans(offset: number, n: number): MappedSpan[] {
    const init = this.layout.initSize;
    const out: MappedSpan[] = [];
    for (const sp of this.runSpans(offset, n)) {
      if (sp.diskOff < 0 || sp.s >= init) out.push({ s: sp.s, e: sp.e, diskOff: -1 });
      else if (sp.e > init) out.push({ s: sp.s, e: init, diskOff: sp.diskOff }, { s: init, e: sp.e, diskOff: -1 });
      else out.push(sp);
    }
    return out;
  }

  /**
   * The stream bytes [offset, offset+n) cut at data-run boundaries: each span's stream range
   * [s, e) and where it starts on the volume (`diskOff`, -1 when sparse).
   */
  private *runSpans(offset: number, n: number): Generator<MappedSpan> {
    const cs = this.clusterSize;
    const firstVcn = Math.floor(offset / cs);
    const lastVcn = Math.floor((offset + n - 1) / cs);
    let pStart = firstVcn * cs; // byte position (in the stream) of the current piece start
    for (const p of this.map(firstVcn, lastVcn - firstVcn + 1)) {
      const pEnd = pStart + p.count * cs;
      const s = Math.max(pStart, offset);
      yield { s, e: Math.min(pEnd, offset + n), diskOff: p.lcn < 0 ? -1 : p.lcn * cs + (s - pStart) };
      pStart = pEnd;
    }
  }

  /** The pieces covering clusters [vcn, vcn+count). */
  private map(vcn: number, count: number): Piece[] {
    const res: Piece[] = [];
    const runs = this.runs;
    let lo = 0;
    let hi = runs.length - 1;
    let i = runs.length;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (runs[mid].vcn + runs[mid].length > vcn) {
        i = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    let v = vcn;
    const end = vcn + count;
    while (v < end) {
      const r = runs[i];
      if (!r) {
        res.push({ lcn: -1, count: end - v });
        break;
      }
      if (r.vcn > v) {
        const c = Math.min(end, r.vcn) - v;
        res.push({ lcn: -1, count: c });
        v += c;
        continue;
      }
      const c = Math.min(end, r.vcn + r.length) - v;
      res.push({ lcn: r.lcn < 0 ? -1 : r.lcn + (v - r.vcn), count: c });
      v += c;
      i++;
    }
    return res;
  }

  private async readCompressed(offset: number, n: number): Promise<Buffer> {
    const cs = this.clusterSize;
    const cuClusters = 1 << this.layout.compUnit;
    const cuBytes = cuClusters * cs;
    const out = Buffer.alloc(n);
    const first = Math.floor(offset / cuBytes);
    const last = Math.floor((offset + n - 1) / cuBytes);
    for (let cu = first; cu <= last; cu++) {
      const data = await this.unit(cu, cuClusters, cuBytes);
      const uStart = cu * cuBytes;
      const s = Math.max(uStart, offset);
      const e = Math.min(uStart + cuBytes, offset + n);
      data.copy(out, s - offset, s - uStart, e - uStart);
    }
    return out;
  }

  private async unit(cu: number, cuClusters: number, cuBytes: number): Promise<Buffer> {
    const key = `${this.cacheKey}:${cu}`;
    const hit = this.cuCache.get(key);
    if (hit) return hit;
    const pieces = this.map(cu * cuClusters, cuClusters);
    const allocated = pieces.reduce((s, p) => s + (p.lcn >= 0 ? p.count : 0), 0);
    let data: Buffer;
    if (allocated === 0) data = Buffer.alloc(cuBytes);
    else {
      const parts: Buffer[] = [];
      for (const p of pieces) if (p.lcn >= 0) parts.push(await readExact(this.vol, p.lcn * this.clusterSize, p.count * this.clusterSize, 'ntfs compressed run'));
      const raw = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      data = allocated === cuClusters ? Buffer.from(raw) : lznt1Decompress(raw, cuBytes);
    }
    this.cuCache.set(key, data, data.length + 64);
    return data;
  }
}

import type { ChainLink, DiskExtent, DiskFormat, VirtualDisk } from '../../disk/virtual-disk.js';
import { AppError } from '../../../../shared/errors/app-error.js';
import { readChunk } from '../chunks/chunk-reader.js';
import type { FixedIndex } from '../index/fixed-index.js';
import type { RepoLayout } from '../layout.js';

/** Loading into slots of a shared arena (ChunkPool): no allocation or copy per chunk. */
export interface SlotLoader {
  acquireSlot(): Promise<number>;
  releaseSlot(k: number): void;
  loadSlot(digest: string, k: number): Promise<Buffer>;
}

/** Default chunk cache: 32 chunks (32 MiB at the default chunk size). */
export const DEFAULT_CACHE_CHUNKS = 32;

/**
 * A snapshot's disk as a VirtualDisk: random access through the fixed index, with a bounded LRU
 * cache of decoded chunks (concurrent reads of one chunk share one load). Every chunk is
 * verified against its digest when loaded. Zero chunks are reported as `zero` extents.
 */
export class SnapshotDisk implements VirtualDisk {
  readonly size: number;
  readonly format: DiskFormat = 'raw';
  readonly chain: ChainLink[];
  private readonly cache = new Map<number, Promise<Buffer>>();
  private closed = false;

  constructor(
    private readonly layout: RepoLayout,
    private readonly index: FixedIndex,
    private readonly snapshotId: string,
    diskName: string,
    private readonly cacheChunks = DEFAULT_CACHE_CHUNKS,
    private readonly onClose?: () => Promise<void>,
    /** Loads + verifies a chunk (default: on this thread; restores pass the worker pool). */
    private readonly loader?: (digest: string) => Promise<Buffer>,
    /** The worker pool's shared slots, for one-pass readers (`chunkInto`). */
    private readonly slots?: SlotLoader,
  ) {
    this.size = index.size;
    this.chain = [{ path: `snapshot:${snapshotId}/${diskName}`, format: 'raw' }];
  }

  /** Chunk size of the underlying index. */
  get chunkSize(): number {
    return this.index.chunkSize;
  }

  /** The plain data of chunk `i` (zero-filled for a zero chunk). */
  chunk(i: number): Promise<Buffer> {
    const hit = this.cache.get(i);
    if (hit) {
      this.cache.delete(i);
      this.cache.set(i, hit);
      return hit;
    }
    const digest = this.index.digests[i];
    const len = Math.min(this.index.chunkSize, this.size - i * this.index.chunkSize);
    const p = digest ? this.loadChunk(digest) : Promise.resolve(Buffer.alloc(len));
    this.cache.set(i, p);
    p.catch(() => this.cache.delete(i));
    while (this.cache.size > this.cacheChunks) this.cache.delete(this.cache.keys().next().value as number);
    return p;
  }

  /**
   * Chunk `i` for a one-pass reader (export), bypassing the cache: null for a zero chunk, else
   * its verified plain data and `release()`, to call once the data has been used. With the
   * worker pool's slots the data is a view of a page-aligned shared slot (nothing allocated).
   */
  async chunkInto(i: number): Promise<{ data: Buffer; release: () => void } | null> {
    if (this.closed) throw new AppError('INTERNAL', 'snapshot disk is closed');
    const digest = this.index.digests[i];
    if (!digest) return null;
    const slots = this.slots;
    if (!slots) return { data: await this.loadChunk(digest), release: () => {} };
    const k = await slots.acquireSlot();
    try {
      return { data: await slots.loadSlot(digest, k), release: () => slots.releaseSlot(k) };
    } catch (e) {
      slots.releaseSlot(k);
      if (e instanceof AppError) throw new AppError(e.code, `${e.message} (snapshot '${this.snapshotId}')`, { cause: e, details: { digest, snapshotId: this.snapshotId } });
      throw e;
    }
  }

  private async loadChunk(digest: string): Promise<Buffer> {
    if (!this.loader) return readChunk(this.layout, digest, this.snapshotId);
    try {
      return await this.loader(digest);
    } catch (e) {
      if (e instanceof AppError) throw new AppError(e.code, `${e.message} (snapshot '${this.snapshotId}')`, { cause: e, details: { digest, snapshotId: this.snapshotId } });
      throw e;
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    if (this.closed) throw new AppError('INTERNAL', 'snapshot disk is closed');
    const end = Math.min(offset + length, this.size);
    if (offset >= end) return Buffer.alloc(0);
    const cs = this.index.chunkSize;
    const out = Buffer.allocUnsafe(end - offset);
    const first = Math.floor(offset / cs);
    const last = Math.floor((end - 1) / cs);
    const parts = await Promise.all(Array.from({ length: last - first + 1 }, (_, k) => this.chunk(first + k)));
    parts.forEach((c, k) => {
      const cStart = (first + k) * cs;
      const from = Math.max(offset, cStart);
      const to = Math.min(end, cStart + c.length);
      c.copy(out, from - offset, from - cStart, to - cStart);
    });
    return out;
  }

  async extents(offset = 0, length = this.size - offset): Promise<DiskExtent[]> {
    const end = Math.min(offset + length, this.size);
    const cs = this.index.chunkSize;
    const out: DiskExtent[] = [];
    for (let pos = offset; pos < end; ) {
      const i = Math.floor(pos / cs);
      const kind = this.index.digests[i] ? 'data' : 'zero';
      const stop = Math.min(end, (i + 1) * cs);
      const last = out[out.length - 1];
      if (last && last.kind === kind) last.length += stop - pos;
      else out.push({ offset: pos, length: stop - pos, kind });
      pos = stop;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    await this.onClose?.();
  }
}

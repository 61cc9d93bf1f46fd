import { readLeased, readParts, type ByteSource, type LeasedParts } from './byte-source.js';
import { LruCache } from '../core/lru-cache.js';

/** Options of a {@link CachedSource}. */
export interface CachedSourceOptions {
  /** Size of one cached block (power of two). Default 256 KiB. */
  blockSize?: number;
  /** Byte budget of the block cache. Default 32 MiB. */
  budgetBytes?: number;
  /** Reads at least this long bypass the cache (bulk file data). Default 1 MiB. */
  bypassBytes?: number;
}

/**
 * Wraps a disk with an LRU cache of aligned blocks for metadata reads (MFT records, FAT
 * sectors, directory blocks), de-duplicating concurrent reads of the same block. Large reads
 * (file contents) go straight to the disk so that they don't evict the metadata.
 */
export class CachedSource implements ByteSource {
  private readonly blockSize: number;
  private readonly bypass: number;
  private readonly cache: LruCache<number, Buffer>;
  private readonly inflight = new Map<number, Promise<Buffer>>();

  constructor(
    private readonly inner: ByteSource,
    opts: CachedSourceOptions = {},
  ) {
    this.blockSize = opts.blockSize ?? 256 * 1024;
    this.bypass = opts.bypassBytes ?? 1024 * 1024;
    this.cache = new LruCache(opts.budgetBytes ?? 32 * 1024 * 1024);
  }

  get size(): number {
    return this.inner.size;
  }

  /** Bytes currently held by the cache. */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset >= this.size || length <= 0) return Buffer.alloc(0);
    const n = Math.min(length, this.size - offset);
    if (n >= this.bypass) return this.inner.read(offset, n);
    const bs = this.blockSize;
    const first = Math.floor(offset / bs);
    const last = Math.floor((offset + n - 1) / bs);
    if (first === last) {
      const b = await this.block(first);
      const s = offset - first * bs;
      return b.subarray(s, Math.min(b.length, s + n));
    }
    const parts: Promise<Buffer>[] = [];
    for (let i = first; i <= last; i++) parts.push(this.block(i));
    const blocks = await Promise.all(parts);
    const all = Buffer.concat(blocks);
    const s = offset - first * bs;
    return all.subarray(s, Math.min(all.length, s + n));
  }

  /** Bulk reads (at least `bypassBytes`) go to the disk without copies; small ones via the cache. */
  async readParts(offset: number, length: number): Promise<Buffer[]> {
    if (offset >= this.size || length <= 0) return [];
    const n = Math.min(length, this.size - offset);
    if (n >= this.bypass) return readParts(this.inner, offset, n);
    return [await this.read(offset, n)];
  }

  /** Bulk reads (at least `bypassBytes`) are leased from the disk; small ones come via the cache. */
  async readLeased(offset: number, length: number): Promise<LeasedParts> {
    if (offset >= this.size || length <= 0) return { parts: [], release: () => {} };
    const n = Math.min(length, this.size - offset);
    if (n >= this.bypass) return readLeased(this.inner, offset, n);
    return { parts: [await this.read(offset, n)], release: () => {} };
  }

  private block(i: number): Promise<Buffer> {
    const hit = this.cache.get(i);
    if (hit) return Promise.resolve(hit);
    const pending = this.inflight.get(i);
    if (pending) return pending;
    const p = this.inner
      .read(i * this.blockSize, this.blockSize)
      .then((b) => {
        this.cache.set(i, b, b.length + 64);
        return b;
      })
      .finally(() => this.inflight.delete(i));
    this.inflight.set(i, p);
    return p;
  }
}

import type { ChainLink, DiskExtent, DiskFormat, VirtualDisk } from '../../disk/virtual-disk.js';
import { AppError } from '../../../../shared/errors/app-error.js';
import { LruCache } from '../../core/lru-cache.js';
import { ChunkPool } from '../chunks/chunk-pool.js';
import { readChunk } from '../chunks/chunk-reader.js';
import { ChunkLeases, type ChunkLease, type LeasePool } from './chunk-leases.js';
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

/** A disk's own lease pool (when none was given) is closed after this long without a lease. */
const LEASE_POOL_IDLE_MS = 20_000;

const noop = (): void => {};

/**
 * A snapshot's disk as a VirtualDisk: random access through the fixed index, with a bounded LRU
 * cache of decoded chunks (concurrent reads of one chunk share one load). Every chunk is
 * verified against its digest when loaded. Zero chunks are reported as `zero` extents.
 */
export class SnapshotDisk implements VirtualDisk {
  readonly size: number;
  readonly format: DiskFormat = 'raw';
  readonly chain: ChainLink[];
  private readonly cache: LruCache<number, Promise<Buffer>>;
  private closed = false;
  private readonly leases: ChunkLeases;
  /** Worker pool of this disk's leases when the repository gave none (created on first lease). */
  private ownPool: ChunkPool | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private zeros: Buffer | undefined;

  constructor(
    private readonly layout: RepoLayout,
    private readonly index: FixedIndex,
    private readonly snapshotId: string,
    diskName: string,
    cacheChunks = DEFAULT_CACHE_CHUNKS,
    private readonly onClose?: () => Promise<void>,
    /** Loads + verifies a chunk (default: on this thread; restores pass the worker pool). */
    private readonly loader?: (digest: string) => Promise<Buffer>,
    /** The worker pool's shared slots, for one-pass readers (`chunkInto`). */
    private readonly slots?: SlotLoader,
    /** Makes sure a chunk's file is here before any load (a remote repository fetches it). */
    private readonly ensureChunk?: (digest: string) => Promise<void>,
  ) {
    this.size = index.size;
    this.cache = new LruCache(cacheChunks);
    this.chain = [{ path: `snapshot:${snapshotId}/${diskName}`, format: 'raw' }];
    this.leases = new ChunkLeases(
      () => this.leasePool(),
      (i) => this.index.digestAt(i),
      (e, digest) => this.wrapError(e, digest),
      { onIdle: () => this.armIdle(), ensureChunk },
    );
  }

  /** The pool leases load through: the repository's when it gave one, else this disk's own. */
  private leasePool(): LeasePool {
    const given = this.slots as Partial<LeasePool> | undefined;
    if (given && typeof given.tryAcquireSlot === 'function' && typeof given.load === 'function') return given as LeasePool;
    this.ownPool ??= new ChunkPool({ chunksDir: this.layout.chunks, chunkSize: this.index.chunkSize, level: 1, keys: this.layout.keys });
    return this.ownPool;
  }

  /** After a while without leases: unclaimed read-ahead is dropped and this disk's own pool closed. */
  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.leases.outstanding > 0) return;
      this.leases.dropAhead();
      const own = this.ownPool;
      this.ownPool = undefined;
      void own?.close();
    }, LEASE_POOL_IDLE_MS);
    this.idleTimer.unref?.();
  }

  /**
   * Lease state (tests, diagnostics): leases not yet released, slots this disk holds (leases and
   * read-ahead), and the free / total slots of the pool leases use (when it exists).
   */
  get leaseStats(): { outstanding: number; slotsInUse: number; poolFree?: number; poolSlots?: number } {
    const given = this.slots as Partial<LeasePool & { slotCount: number }> | undefined;
    const pool = this.ownPool ?? (typeof given?.tryAcquireSlot === 'function' ? given : undefined);
    return { outstanding: this.leases.outstanding, slotsInUse: this.leases.slotsInUse, poolFree: pool?.freeSlotCount, poolSlots: pool?.slotCount };
  }

  /**
   * Gives back the slots of chunks read ahead that nobody leased (they are otherwise kept for a
   * sequential reader until it jumps elsewhere, stays idle for a while, or the disk is closed).
   * Slots of loads still running come back as soon as they finish.
   */
  dropReadAhead(): void {
    this.leases.dropAhead();
  }

  /**
   * Chunk `i` for bulk reading, without copies: its verified plain data and `release()`, to call
   * exactly once after the data has been used (e.g. written). Loaded and verified on the worker
   * threads into a page-aligned slot of the pool's arena (both cores work, nothing allocated per
   * chunk); a sequential reader gets the next chunks loaded ahead; concurrent leases of one chunk
   * share one load. A chunk already in the cache and a zero chunk are handed out as they are.
   * Errors: CHUNK_CORRUPT / CHUNK_MISSING naming the chunk and the snapshot.
   */
  chunkLease(i: number): Promise<ChunkLease> {
    if (this.closed) return Promise.reject(new AppError('INTERNAL', 'snapshot disk is closed'));
    const cs = this.index.chunkSize;
    if (!Number.isInteger(i) || i < 0 || i * cs >= this.size) return Promise.reject(new AppError('INTERNAL', `chunk ${i} is outside the disk`));
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (!this.index.digestAt(i)) {
      this.zeros ??= Buffer.alloc(cs);
      return Promise.resolve({ data: this.zeros.subarray(0, Math.min(cs, this.size - i * cs)), release: noop });
    }
    const hit = this.cache.peek(i);
    if (hit) return hit.then((data) => ({ data, release: noop }));
    return this.leases.lease(i);
  }

  private wrapError(e: unknown, digest: string): unknown {
    if (e instanceof AppError) return new AppError(e.code, `${e.message} (snapshot '${this.snapshotId}')`, { cause: e, details: { digest, snapshotId: this.snapshotId } });
    return e;
  }

  /** Chunk size of the underlying index. */
  get chunkSize(): number {
    return this.index.chunkSize;
  }

  /** The plain data of chunk `i` (zero-filled for a zero chunk). */
  chunk(i: number): Promise<Buffer> {
    return this.cache.load(i, () => {
      const digest = this.index.digestAt(i);
      const len = Math.min(this.index.chunkSize, this.size - i * this.index.chunkSize);
      return digest ? this.loadChunk(digest) : Promise.resolve(Buffer.alloc(len));
    });
  }

  /**
   * Chunk `i` for a one-pass reader (export), bypassing the cache: null for a zero chunk, else
   * its verified plain data and `release()`, to call once the data has been used. With the
   * worker pool's slots the data is a view of a page-aligned shared slot (nothing allocated).
   */
  async chunkInto(i: number): Promise<{ data: Buffer; release: () => void } | null> {
    if (this.closed) throw new AppError('INTERNAL', 'snapshot disk is closed');
    const digest = this.index.digestAt(i);
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
    await this.ensureChunk?.(digest);
    if (!this.loader) return readChunk(this.layout, digest, this.snapshotId);
    try {
      return await this.loader(digest);
    } catch (e) {
      throw this.wrapError(e, digest);
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
    const add = (from: number, to: number, kind: 'data' | 'zero') => {
      if (to <= from) return;
      const last = out[out.length - 1];
      if (last && last.kind === kind) last.length += to - from;
      else out.push({ offset: from, length: to - from, kind });
    };
    // only the data chunks are visited: an empty 64 TiB disk is one zero extent, at once
    let pos = offset;
    for (const c of this.index.dataChunks(Math.floor(offset / cs), Math.ceil(end / cs))) {
      const from = Math.max(offset, c.chunk * cs);
      add(pos, from, 'zero');
      pos = Math.min(end, (c.chunk + 1) * cs);
      add(from, pos, 'data');
    }
    add(pos, end, 'zero');
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.leases.dropAhead();
    const own = this.ownPool;
    this.ownPool = undefined;
    await own?.close();
    await this.onClose?.();
  }
}

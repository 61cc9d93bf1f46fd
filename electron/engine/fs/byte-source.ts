import { fsCorrupt } from './fs-error.js';

/**
 * A read-only, random-access range of bytes: a whole disk, a partition, or a file's contents.
 * `read` returns `min(length, size - offset)` bytes (empty at or beyond the end).
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Optional zero-copy read for bulk data: the same bytes as `read` as consecutive buffers that
   * may be views into a cache (callers must not modify them). See {@link readParts}.
   */
  readParts?(offset: number, length: number): Promise<Buffer[]>;
  /**
   * Optional leased read for one-pass bulk copies: the same bytes as `read` as consecutive
   * read-only buffers that may be views of reused memory (a repository snapshot's chunk slots),
   * valid until `release()`. See {@link readLeased}.
   */
  readLeased?(offset: number, length: number): Promise<LeasedParts>;
}

/** Consecutive read-only buffers, valid until `release()` (call it exactly once, after the last use). */
export interface LeasedParts {
  parts: Buffer[];
  release(): void;
}

const noop = (): void => {};

/**
 * The bytes `[offset, offset+length)` of `src` (clamped to its size) as leased buffers: views
 * of memory that is reused once released, so a copy to a file needs no allocation and no copy.
 * Falls back to {@link readParts} (with a release that does nothing). The caller must call
 * `release()` once it has used the buffers (also when it gives up on them).
 */
export async function readLeased(src: ByteSource, offset: number, length: number): Promise<LeasedParts> {
  if (src.readLeased) return src.readLeased(offset, length);
  return { parts: await readParts(src, offset, length), release: noop };
}

/**
 * Waits for all `leases` and joins them into one (parts in the given order, one release). If any
 * fails, the others are released and the first error is thrown: nothing stays leased.
 */
export async function joinLeases(leases: Promise<LeasedParts>[]): Promise<LeasedParts> {
  const got = await Promise.allSettled(leases);
  const failed = got.find((r) => r.status === 'rejected');
  const ok = got.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed) {
    for (const l of ok) l.release();
    throw failed.reason;
  }
  if (ok.length === 1) return ok[0];
  let released = false;
  return {
    parts: ok.flatMap((l) => l.parts),
    release: () => {
      if (released) return;
      released = true;
      for (const l of ok) l.release();
    },
  };
}

/**
 * The bytes `[offset, offset+length)` of `src` (clamped to its size) as consecutive buffers,
 * without copying when the source supports it. The buffers are read-only.
 */
export async function readParts(src: ByteSource, offset: number, length: number): Promise<Buffer[]> {
  if (src.readParts) return src.readParts(offset, length);
  const b = await src.read(offset, length);
  return b.length ? [b] : [];
}

/** Total length of `parts`. */
export function partsLength(parts: Buffer[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** Plain reads of a chunked disk this long or longer are served from chunk leases (see ChunkedDiskSource.read). */
export const BULK_READ_BYTES = 2 * 1024 * 1024;

/** A disk that hands out its decoded chunks (the repository's snapshot disk), by shape. */
export interface ChunkedDisk extends ByteSource {
  readonly chunkSize: number;
  /** The plain data of chunk `i` (shared with the disk's cache: read-only). */
  chunk(i: number): Promise<Buffer>;
  /** Chunk `i` for a one-pass bulk read, valid until `release()` (reused memory; see SnapshotDisk). */
  chunkLease?(i: number): Promise<{ data: Buffer; release(): void }>;
}

/** True when `d` has the ChunkedDisk shape. */
export function isChunkedDisk(d: ByteSource): d is ChunkedDisk {
  const c = d as Partial<ChunkedDisk>;
  return typeof c.chunk === 'function' && typeof c.chunkSize === 'number' && c.chunkSize > 0;
}

/**
 * A chunked disk read without copies: `readParts` returns views of the disk's cached chunks,
 * so a file restored from a repository snapshot is written straight from the decoded chunks.
 */
export class ChunkedDiskSource implements ByteSource {
  constructor(private readonly disk: ChunkedDisk) {}

  get size(): number {
    return this.disk.size;
  }

  /**
   * Bulk reads (at least {@link BULK_READ_BYTES} and two chunks: file contents read by `cat`)
   * are copied out of leased chunks, so their loading and verification run on the worker threads
   * and bulk data does not evict metadata from the disk's chunk cache. Smaller reads (metadata:
   * drivers read at most 1 MiB at a time) go through that cache.
   */
  async read(offset: number, length: number): Promise<Buffer> {
    const bulk = length >= Math.max(BULK_READ_BYTES, 2 * this.disk.chunkSize);
    if (!this.disk.chunkLease || !bulk) return this.disk.read(offset, length);
    const lease = await this.readLeased(offset, length);
    try {
      return Buffer.concat(lease.parts, partsLength(lease.parts));
    } finally {
      lease.release();
    }
  }

  async readParts(offset: number, length: number): Promise<Buffer[]> {
    const end = Math.min(offset + Math.max(0, length), this.size);
    if (offset >= end) return [];
    const cs = this.disk.chunkSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((end - 1) / cs);
    const loads: Promise<Buffer>[] = [];
    for (let i = first; i <= last; i++) loads.push(this.disk.chunk(i));
    return this.cut(await Promise.all(loads), first, offset, end);
  }

  /**
   * Like `readParts`, from the disk's chunk leases when it has them (a repository snapshot:
   * chunks loaded and verified on the worker threads into reused page-aligned slots, bypassing
   * the chunk cache so that bulk data does not evict metadata). Nothing stays leased on error.
   */
  async readLeased(offset: number, length: number): Promise<LeasedParts> {
    const lease = this.disk.chunkLease?.bind(this.disk);
    if (!lease) return { parts: await this.readParts(offset, length), release: noop };
    const end = Math.min(offset + Math.max(0, length), this.size);
    if (offset >= end) return { parts: [], release: noop };
    const cs = this.disk.chunkSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((end - 1) / cs);
    const leases: Promise<{ data: Buffer; release(): void }>[] = [];
    for (let i = first; i <= last; i++) leases.push(lease(i));
    const got = await Promise.allSettled(leases);
    const ok = got.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const l of ok) l.release();
    };
    const failed = got.find((r) => r.status === 'rejected');
    try {
      if (failed) throw failed.reason;
      return {
        parts: this.cut(
          ok.map((l) => l.data),
          first,
          offset,
          end,
        ),
        release,
      };
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Views of `chunks` (chunks first, first+1, …) covering [offset, end). */
  private cut(chunks: Buffer[], first: number, offset: number, end: number): Buffer[] {
    const cs = this.disk.chunkSize;
    const parts: Buffer[] = [];
    for (let k = 0; k < chunks.length; k++) {
      const cStart = (first + k) * cs;
      const from = Math.max(offset, cStart) - cStart;
      const to = Math.min(end - cStart, chunks[k].length);
      if (to < Math.min(end - cStart, cs)) throw fsCorrupt(`chunk ${first + k} of the disk is shorter than expected`);
      if (to > from) parts.push(chunks[k].subarray(from, to));
    }
    return parts;
  }
}

/** Reads exactly `length` bytes or throws FS_CORRUPT naming `what` (metadata reads). */
export async function readExact(src: ByteSource, offset: number, length: number, what: string): Promise<Buffer> {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > src.size) {
    throw fsCorrupt(`${what} lies outside the volume (offset ${offset}, length ${length}, volume ${src.size})`);
  }
  const b = await src.read(offset, length);
  if (b.length !== length) throw fsCorrupt(`${what}: short read (${b.length} of ${length} bytes)`);
  return b;
}

/** A window `[start, start+size)` of another source (a partition of a disk). */
export class SliceSource implements ByteSource {
  constructor(
    private readonly inner: ByteSource,
    private readonly start: number,
    readonly size: number,
  ) {}

  read(offset: number, length: number): Promise<Buffer> {
    if (offset >= this.size || length <= 0) return Promise.resolve(Buffer.alloc(0));
    const n = Math.min(length, this.size - offset);
    return this.inner.read(this.start + offset, n);
  }

  readParts(offset: number, length: number): Promise<Buffer[]> {
    if (offset >= this.size || length <= 0) return Promise.resolve([]);
    return readParts(this.inner, this.start + offset, Math.min(length, this.size - offset));
  }

  readLeased(offset: number, length: number): Promise<LeasedParts> {
    if (offset >= this.size || length <= 0) return Promise.resolve({ parts: [], release: noop });
    return readLeased(this.inner, this.start + offset, Math.min(length, this.size - offset));
  }
}

/** A source over an in-memory buffer (tests, resident data). */
export class BufferSource implements ByteSource {
  constructor(private readonly buf: Buffer) {}
  get size(): number {
    return this.buf.length;
  }
  read(offset: number, length: number): Promise<Buffer> {
    if (offset >= this.buf.length || length <= 0) return Promise.resolve(Buffer.alloc(0));
    return Promise.resolve(this.buf.subarray(offset, Math.min(this.buf.length, offset + length)));
  }
}

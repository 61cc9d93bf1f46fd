import { fsCorrupt } from './fs-error.js';

/**
 * A read-only, random-access range of bytes: a whole disk, a partition, or a file's contents.
 * `read` returns `min(length, size - offset)` bytes (empty at or beyond the end).
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
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

import { AppError } from '../../../../shared/errors/app-error.js';

const DIGEST = 32;
const FP = 16;

/**
 * The chunks of one disk that hold data, in chunk order: chunk number → SHA-256 digest (and,
 * while a backup runs or when the previous snapshot's fingerprints were attached, a 16-byte
 * fingerprint). Every other chunk of the disk is a zero chunk. Sparse on purpose: memory grows
 * with the data (52 bytes per data chunk), never with the virtual size, so an empty 64 TiB disk
 * costs nothing (a dense array of 64 Mi entries would need gigabytes and overflow a JS Set/Map).
 *
 * Entries are appended in increasing chunk order (`append`), possibly with their digest filled
 * in later (`fill`: a backup reserves a place when it hands a chunk to a worker; workers finish
 * out of order). An entry whose digest stays all-zero counts as a zero chunk.
 */
export class ChunkMap {
  private chunksOf = new Uint32Array(0);
  private digestsOf = Buffer.alloc(0);
  private fpsOf: Buffer | undefined;
  private count = 0;
  private static readonly ZERO = Buffer.alloc(DIGEST);

  constructor(
    /** Bytes per chunk. */
    readonly chunkSize: number,
    /** Disk size in bytes. */
    readonly size: number,
  ) {
    if (!(chunkSize > 0) || !Number.isSafeInteger(size) || size < 0 || Math.ceil(size / chunkSize) > 0xffffffff) {
      throw new AppError('INTERNAL', `a disk of ${size} bytes in chunks of ${chunkSize} bytes has too many chunks`);
    }
  }

  /** Chunks of the disk (data and zero). */
  get chunks(): number {
    return Math.ceil(this.size / this.chunkSize);
  }

  /** Entries held (data chunks, plus reserved ones not filled yet). */
  get entries(): number {
    return this.count;
  }

  private grow(): void {
    const cap = Math.max(64, this.chunksOf.length * 2);
    const chunks = new Uint32Array(cap);
    chunks.set(this.chunksOf.subarray(0, this.count));
    const digests = Buffer.alloc(cap * DIGEST);
    this.digestsOf.copy(digests, 0, 0, this.count * DIGEST);
    if (this.fpsOf) {
      const fps = Buffer.alloc(cap * FP);
      this.fpsOf.copy(fps, 0, 0, this.count * FP);
      this.fpsOf = fps;
    }
    this.chunksOf = chunks;
    this.digestsOf = digests;
  }

  /**
   * Appends chunk `i` (greater than every chunk appended before) with its digest and fingerprint
   * (hex or raw; omitted = to be filled). Returns its position for `fill`.
   */
  append(i: number, digest?: string | Buffer, fp?: string | Buffer): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.chunks || (this.count > 0 && i <= this.chunksOf[this.count - 1]!)) {
      throw new AppError('INTERNAL', `chunk ${i} appended out of order or outside the disk (${this.chunks} chunks)`);
    }
    if (this.count === this.chunksOf.length) this.grow();
    const pos = this.count++;
    this.chunksOf[pos] = i;
    if (digest !== undefined || fp !== undefined) this.fill(pos, digest, fp);
    return pos;
  }

  /** Sets the digest (and fingerprint) of the entry at `pos`. */
  fill(pos: number, digest?: string | Buffer, fp?: string | Buffer): void {
    if (digest !== undefined) (typeof digest === 'string' ? Buffer.from(digest, 'hex') : digest).copy(this.digestsOf, pos * DIGEST, 0, DIGEST);
    if (fp !== undefined) {
      this.fpsOf ??= Buffer.alloc(this.chunksOf.length * FP);
      (typeof fp === 'string' ? Buffer.from(fp, 'hex') : fp).copy(this.fpsOf, pos * FP, 0, FP);
    }
  }

  /** Position of chunk `i`, or -1 (binary search). */
  positionOf(i: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunksOf[mid]!;
      if (c === i) return mid;
      if (c < i) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First position whose chunk is ≥ `i`. */
  private lowerBound(i: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.chunksOf[mid]! < i) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private isZeroAt(pos: number): boolean {
    return this.digestsOf.subarray(pos * DIGEST, (pos + 1) * DIGEST).equals(ChunkMap.ZERO);
  }

  /** The hex digest of chunk `i`, or undefined for a zero chunk. */
  digestAt(i: number): string | undefined {
    const pos = this.positionOf(i);
    return pos < 0 || this.isZeroAt(pos) ? undefined : this.digestsOf.toString('hex', pos * DIGEST, (pos + 1) * DIGEST);
  }

  /** The hex fingerprint of chunk `i`, or undefined when none is known. */
  fingerprintAt(i: number): string | undefined {
    const pos = this.positionOf(i);
    if (pos < 0 || !this.fpsOf) return undefined;
    const fp = this.fpsOf.subarray(pos * FP, (pos + 1) * FP);
    return fp.equals(ChunkMap.ZERO.subarray(0, FP)) ? undefined : fp.toString('hex');
  }

  /** Data chunks in `[first, end)` in order, with their raw digest (a view) and fingerprint (a view or undefined). */
  *dataChunks(first = 0, end = this.chunks): Generator<{ chunk: number; digest: Buffer; fp: Buffer | undefined }> {
    for (let pos = this.lowerBound(first); pos < this.count && this.chunksOf[pos]! < end; pos++) {
      if (this.isZeroAt(pos)) continue;
      const fp = this.fpsOf?.subarray(pos * FP, (pos + 1) * FP);
      yield { chunk: this.chunksOf[pos]!, digest: this.digestsOf.subarray(pos * DIGEST, (pos + 1) * DIGEST), fp: fp && !fp.equals(ChunkMap.ZERO.subarray(0, FP)) ? fp : undefined };
    }
  }

  /** Hex digests of every data chunk, in chunk order (repeats included). */
  *digests(): Generator<string> {
    for (const c of this.dataChunks()) yield c.digest.toString('hex');
  }

  /** Dense array of hex digests, null for zero chunks — for small disks and tests only. */
  toArray(): (string | null)[] {
    const out: (string | null)[] = new Array(this.chunks).fill(null);
    for (const c of this.dataChunks()) out[c.chunk] = c.digest.toString('hex');
    return out;
  }
}

import type { ByteSource, LeasedParts } from './byte-source.js';
import { joinLeases, partsLength, readExact, readLeased, readParts } from './byte-source.js';
import { fsCorrupt } from './fs-error.js';

/**
 * A piece of a file mapped onto its volume: the file bytes `[s, e)` stored from volume offset
 * `diskOff`, or zeros when `diskOff` is -1 (a hole, an unwritten extent, bytes past the valid
 * data length).
 */
export interface MappedSpan {
  s: number;
  e: number;
  diskOff: number;
}

/** Shared zeros for holes in `readParts` / `readLeased` (read-only). */
const ZEROS = Buffer.alloc(1024 * 1024);

const noop = (): void => {};

/** Appends `n` zero bytes to `parts` as views of the shared zeros. */
function pushZeros(parts: Buffer[], n: number): void {
  for (let left = n; left > 0; left -= ZEROS.length) parts.push(ZEROS.subarray(0, Math.min(left, ZEROS.length)));
}

/** Throws FS_CORRUPT (naming `what`) when a data span lies outside `vol`: checked before anything is read. */
function checkSpans(vol: ByteSource, spans: MappedSpan[], what: string): void {
  for (const { s, e, diskOff } of spans) {
    if (diskOff < 0) continue;
    if (!Number.isSafeInteger(diskOff) || diskOff + (e - s) > vol.size) {
      throw fsCorrupt(`${what} lies outside the volume (offset ${diskOff}, length ${e - s}, volume ${vol.size})`);
    }
  }
}

/**
 * The file bytes `[offset, offset+n)` described by `spans` (consecutive, in order, covering the
 * range exactly) copied into one new buffer; holes stay zero.
 */
export async function copySpans(vol: ByteSource, spans: MappedSpan[], offset: number, n: number, what: string): Promise<Buffer> {
  checkSpans(vol, spans, what);
  const out = Buffer.alloc(n);
  const jobs: Promise<void>[] = [];
  for (const { s, e, diskOff } of spans) {
    if (diskOff < 0) continue;
    jobs.push(readExact(vol, diskOff, e - s, what).then((b) => void b.copy(out, s - offset)));
  }
  await Promise.all(jobs);
  return out;
}

/**
 * The same bytes as {@link copySpans} without copying: views of the volume's buffers (leased
 * when `leased` and the volume offers leases, e.g. a repository snapshot's chunk slots) and of
 * shared zeros. Every span is checked before anything is fetched, and on any error every lease
 * taken is given back.
 */
export function gatherSpans(vol: ByteSource, spans: MappedSpan[], leased: boolean, what: string): Promise<LeasedParts> {
  checkSpans(vol, spans, what);
  const fetch = leased ? (o: number, l: number) => readLeased(vol, o, l) : async (o: number, l: number): Promise<LeasedParts> => ({ parts: await readParts(vol, o, l), release: noop });
  const pieces: Promise<LeasedParts>[] = [];
  let zeros: Buffer[] | undefined; // consecutive holes share one piece
  for (const { s, e, diskOff } of spans) {
    if (diskOff < 0) {
      if (!zeros) {
        zeros = [];
        pieces.push(Promise.resolve({ parts: zeros, release: noop }));
      }
      pushZeros(zeros, e - s);
      continue;
    }
    zeros = undefined;
    const len = e - s;
    pieces.push(
      fetch(diskOff, len).then((got) => {
        if (partsLength(got.parts) !== len) {
          got.release();
          throw fsCorrupt(`${what}: short read`);
        }
        return got;
      }),
    );
  }
  if (pieces.length === 0) return Promise.resolve({ parts: [], release: noop });
  return joinLeases(pieces);
}

/**
 * A file stream whose bytes map onto its volume through `spans` (ext block runs, FAT cluster
 * chains, NTFS data runs): `read` copies, `readParts` / `readLeased` give views of the volume's
 * buffers and shared zeros. Subclasses only say how a range maps.
 */
export abstract class MappedStream implements ByteSource {
  constructor(
    protected readonly vol: ByteSource,
    readonly size: number,
    /** What the errors name ("ext file data", "file data", "ntfs data run"). */
    private readonly what: string,
  ) {}

  /** The stream bytes [offset, offset+n) (within the size), cut into consecutive spans. */
  protected abstract spans(offset: number, n: number): MappedSpan[];

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset >= this.size || length <= 0) return Buffer.alloc(0);
    const n = Math.min(length, this.size - offset);
    return copySpans(this.vol, this.spans(offset, n), offset, n, this.what);
  }

  async readParts(offset: number, length: number): Promise<Buffer[]> {
    if (offset >= this.size || length <= 0) return [];
    const n = Math.min(length, this.size - offset);
    return (await gatherSpans(this.vol, this.spans(offset, n), false, this.what)).parts;
  }

  async readLeased(offset: number, length: number): Promise<LeasedParts> {
    if (offset >= this.size || length <= 0) return { parts: [], release: noop };
    const n = Math.min(length, this.size - offset);
    return gatherSpans(this.vol, this.spans(offset, n), true, this.what);
  }
}

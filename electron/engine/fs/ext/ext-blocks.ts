import type { ByteSource } from '../byte-source.js';
import { readExact } from '../byte-source.js';
import { ensure } from '../fs-error.js';
import { MappedStream, type MappedSpan } from '../mapped-spans.js';

/** `count` logical blocks from `logical` stored at physical `physical` (0 = hole / unwritten). */
export interface BlockRun {
  logical: number;
  physical: number;
  count: number;
}

/** What the block mappers need from the volume. */
export interface BlockDevice {
  readonly src: ByteSource;
  readonly blockSize: number;
  /** Blocks in the volume: every block pointer must be below it. */
  readonly totalBlocks: number;
}

/** Most mapping blocks (index/indirect) one file may make us read. */
const MAX_MAP_READS = 1 << 20;

const MAX_DEPTH = 5;
const MAX_RUNS = 4_000_000;

/** Maps an extent tree rooted in i_block (unwritten extents become holes). */
export async function mapExtents(dev: BlockDevice, iblock: Buffer, nblocks: number): Promise<BlockRun[]> {
  const runs: BlockRun[] = [];
  const visited = new Set<number>();
  const walk = async (node: Buffer, depthLeft: number): Promise<void> => {
    ensure(node.length >= 12 && node.readUInt16LE(0) === 0xf30a, 'ext: bad extent header');
    const entries = node.readUInt16LE(2);
    const depth = node.readUInt16LE(6);
    ensure(depth <= depthLeft && 12 + entries * 12 <= node.length, 'ext: bad extent node');
    for (let i = 0; i < entries; i++) {
      const e = 12 + i * 12;
      if (depth === 0) {
        const lblk = node.readUInt32LE(e);
        let len = node.readUInt16LE(e + 4);
        let unwritten = false;
        if (len > 32768) {
          len -= 32768;
          unwritten = true;
        }
        const phys = node.readUInt16LE(e + 6) * 2 ** 32 + node.readUInt32LE(e + 8);
        if (lblk >= nblocks) continue;
        ensure(unwritten || (phys > 0 && phys + len <= dev.totalBlocks), 'ext: extent points outside the volume');
        runs.push({ logical: lblk, physical: unwritten ? 0 : phys, count: Math.min(len, nblocks - lblk) });
        ensure(runs.length <= MAX_RUNS, 'ext: too many extents');
      } else {
        const child = node.readUInt32LE(e + 4) + node.readUInt16LE(e + 8) * 2 ** 32;
        ensure(child > 0 && child < dev.totalBlocks, 'ext: extent index points outside the volume');
        ensure(!visited.has(child), 'ext: extent tree loops');
        ensure(visited.size < MAX_MAP_READS, 'ext: extent tree too large');
        visited.add(child);
        const b = await readExact(dev.src, child * dev.blockSize, dev.blockSize, 'ext extent block');
        await walk(b, depth - 1);
      }
    }
  };
  await walk(iblock, MAX_DEPTH);
  runs.sort((a, b) => a.logical - b.logical);
  return runs;
}

/** Maps the classic ext2/3 block map (12 direct, single/double/triple indirect; 0 = hole). */
export async function mapIndirect(dev: BlockDevice, iblock: Buffer, nblocks: number): Promise<BlockRun[]> {
  const runs: BlockRun[] = [];
  const per = dev.blockSize / 4;
  let reads = 0;
  const push = (logical: number, physical: number) => {
    if (physical === 0 || logical >= nblocks) return;
    ensure(physical < dev.totalBlocks, 'ext: block pointer outside the volume');
    const l = runs[runs.length - 1];
    if (l && l.logical + l.count === logical && l.physical + l.count === physical) l.count++;
    else runs.push({ logical, physical, count: 1 });
  };
  for (let i = 0; i < 12; i++) push(i, iblock.readUInt32LE(i * 4));
  let logical = 12;
  const walk = async (blk: number, level: number): Promise<void> => {
    const span = per ** level;
    if (blk === 0) {
      logical += span;
      return;
    }
    ensure(blk < dev.totalBlocks && ++reads <= MAX_MAP_READS, 'ext: indirect block pointer outside the volume');
    const b = await readExact(dev.src, blk * dev.blockSize, dev.blockSize, 'ext indirect block');
    for (let i = 0; i < per && logical < nblocks; i++) {
      const c = b.readUInt32LE(i * 4);
      if (level === 1) {
        push(logical, c);
        logical++;
      } else await walk(c, level - 1);
    }
  };
  for (let lvl = 1; lvl <= 3 && logical < nblocks; lvl++) await walk(iblock.readUInt32LE((11 + lvl) * 4), lvl);
  return runs;
}

/**
 * Reads a file through its block runs; unmapped blocks (holes, unwritten extents) read as zeros.
 * `readParts` / `readLeased` give the same bytes without copying (views of the volume's buffers
 * — for a repository snapshot its leased chunk slots — and of shared zeros).
 */
export class ExtFileStream extends MappedStream {
  constructor(
    src: ByteSource,
    private readonly bs: number,
    private readonly runs: BlockRun[],
    size: number,
  ) {
    super(src, size, 'ext file data');
  }

  /**
   * The file bytes [offset, offset+n) cut at run boundaries, in order and without overlap (where
   * runs of a damaged map overlap, the first one wins); gaps between runs are holes.
   */
  protected spans(offset: number, n: number): MappedSpan[] {
    const end = offset + n;
    const out: MappedSpan[] = [];
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if ((this.runs[m].logical + this.runs[m].count) * this.bs <= offset) lo = m + 1;
      else hi = m;
    }
    let pos = offset;
    for (let i = lo; i < this.runs.length && pos < end; i++) {
      const r = this.runs[i];
      const rs = r.logical * this.bs;
      if (rs >= end) break;
      const s = Math.max(rs, pos);
      const e = Math.min(rs + r.count * this.bs, end);
      if (e <= s) continue;
      if (s > pos) out.push({ s: pos, e: s, diskOff: -1 });
      out.push({ s, e, diskOff: r.physical === 0 ? -1 : r.physical * this.bs + (s - rs) });
      pos = e;
    }
    if (pos < end) out.push({ s: pos, e: end, diskOff: -1 });
    return out;
  }
}

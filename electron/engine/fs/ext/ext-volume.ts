import type { ByteSource } from '../byte-source.js';
import { BufferSource, readExact } from '../byte-source.js';
import { ensure, fsCorrupt } from '../fs-error.js';
import type { FileContent, FsNode, GuestFilesystem } from '../guest-fs.js';
import { LruCache } from '../../core/lru-cache.js';
import { ExtFileStream, mapExtents, mapIndirect, type BlockRun } from './ext-blocks.js';

/** A parsed inode. */
export interface ExtInode {
  ino: number;
  mode: number;
  size: number;
  flags: number;
  mtimeMs?: number;
  block: Buffer;
  /** Raw inode bytes (for in-inode extended attributes). */
  raw: Buffer;
}

const INCOMPAT_FILETYPE = 0x2;
const INCOMPAT_RECOVER = 0x4;
const INCOMPAT_META_BG = 0x10;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_ENCRYPT = 0x10000;
const KNOWN_INCOMPAT = 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x80 | 0x200 | 0x400 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000;
const FL_INLINE = 0x10000000;
const FL_EXTENTS = 0x80000;
const MAX_DIR_BYTES = 64 * 1024 * 1024;

/**
 * Read-only ext2/3/4 driver: 32/64-bit group descriptors (meta_bg too), block maps and
 * extent trees (unwritten extents read as zeros, holes as zeros), inline data, linear and
 * htree directories (read linearly), fast and slow symlinks. Warns on an unreplayed journal.
 */
export class ExtVolume implements GuestFilesystem {
  fsType = 'ext2';
  readonly caseInsensitive = false;
  readonly warnings: string[] = [];
  blockSize = 0;
  private inodeSize = 0;
  private inodesPerGroup = 0;
  private inodeCount = 0;
  private groupCount = 0;
  private descSize = 32;
  private incompat = 0;
  private firstMetaBg = 0;
  private firstDataBlock = 0;
  private blocksPerGroup = 0;
  private blockCount = 0;

  /** Blocks in the volume (bounds every block pointer). */
  get totalBlocks(): number {
    return this.blockCount;
  }
  private readonly gdCache = new LruCache<number, Buffer>(1024 * 1024);
  private readonly inodes = new LruCache<number, ExtInode>(8 * 1024 * 1024);
  private readonly itCache = new LruCache<number, Buffer>(4 * 1024 * 1024);

  private constructor(readonly src: ByteSource) {}

  /** Opens the ext volume at the start of `src`. */
  static async open(src: ByteSource): Promise<ExtVolume> {
    const v = new ExtVolume(src);
    await v.init();
    return v;
  }

  private async init(): Promise<void> {
    const sb = await readExact(this.src, 1024, 1024, 'ext superblock');
    ensure(sb.readUInt16LE(0x38) === 0xef53, 'not an ext superblock');
    const logBs = sb.readUInt32LE(0x18);
    ensure(logBs <= 6, 'ext: bad block size');
    this.blockSize = 1024 << logBs;
    this.inodeCount = sb.readUInt32LE(0);
    this.blocksPerGroup = sb.readUInt32LE(0x20);
    this.inodesPerGroup = sb.readUInt32LE(0x28);
    this.firstDataBlock = sb.readUInt32LE(0x14);
    const rev = sb.readUInt32LE(0x4c);
    this.inodeSize = rev === 0 ? 128 : sb.readUInt16LE(0x58);
    const compat = sb.readUInt32LE(0x5c);
    this.incompat = sb.readUInt32LE(0x60);
    const roCompat = sb.readUInt32LE(0x64);
    this.blockCount = sb.readUInt32LE(0x04) + (this.incompat & INCOMPAT_64BIT ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
    ensure(this.inodeSize >= 128 && this.inodeSize <= this.blockSize && (this.inodeSize & (this.inodeSize - 1)) === 0, 'ext: bad inode size');
    ensure(this.inodesPerGroup > 0 && this.blocksPerGroup > 0 && this.blocksPerGroup <= 8 * this.blockSize, 'ext: bad group geometry');
    this.groupCount = Math.ceil((this.blockCount - this.firstDataBlock) / this.blocksPerGroup);
    ensure(this.groupCount > 0 && this.groupCount < 2 ** 32, 'ext: bad group count');
    ensure(this.inodeCount <= this.groupCount * this.inodesPerGroup, 'ext: inode count exceeds the groups');
    if (this.incompat & INCOMPAT_64BIT) {
      this.descSize = sb.readUInt16LE(0xfe);
      ensure(this.descSize >= 64 && this.descSize <= 1024 && (this.descSize & (this.descSize - 1)) === 0, 'ext: bad descriptor size');
    }
    this.firstMetaBg = sb.readUInt32LE(0x104);
    const hasJournal = (compat & 0x4) !== 0;
    const extents = (this.incompat & 0x40) !== 0;
    this.fsType = extents || this.incompat & (INCOMPAT_64BIT | 0x200) || roCompat & 0x8 ? 'ext4' : hasJournal ? 'ext3' : 'ext2';
    if (this.incompat & INCOMPAT_RECOVER) this.warnings.push('ext journal needs recovery (not replayed): recent changes may be missing or metadata may lag');
    if (this.incompat & ~KNOWN_INCOMPAT) this.warnings.push(`ext: unknown incompatible features 0x${(this.incompat & ~KNOWN_INCOMPAT).toString(16)}; some files may read wrongly`);
    if (this.incompat & INCOMPAT_ENCRYPT) this.warnings.push('ext: volume uses encryption; encrypted files cannot be read');
  }

  /** Whether directory entries carry a file type byte. */
  get hasFileType(): boolean {
    return (this.incompat & INCOMPAT_FILETYPE) !== 0;
  }

  private async groupDesc(g: number): Promise<Buffer> {
    ensure(g >= 0 && g < this.groupCount, `ext: group ${g} out of range`);
    const perBlock = this.blockSize / this.descSize;
    const bi = Math.floor(g / perBlock);
    let blk: number;
    if (this.incompat & INCOMPAT_META_BG && bi >= this.firstMetaBg) {
      blk = bi * perBlock * this.blocksPerGroup + this.firstDataBlock + (this.hasSuper(bi * perBlock) ? 1 : 0);
    } else blk = this.firstDataBlock + 1 + bi;
    let b = this.gdCache.get(blk);
    if (!b) {
      b = await readExact(this.src, blk * this.blockSize, this.blockSize, 'ext group descriptors');
      this.gdCache.set(blk, b, b.length);
    }
    const o = (g % perBlock) * this.descSize;
    return b.subarray(o, o + this.descSize);
  }

  private hasSuper(g: number): boolean {
    if (g <= 1) return true;
    for (const base of [3, 5, 7]) {
      let x = base;
      while (x < g) x *= base;
      if (x === g) return true;
    }
    return false;
  }

  /** Inode bytes through a cache of 64 KiB windows of the inode tables (directory listings read many). */
  private async inodeBytes(off: number, ino: number): Promise<Buffer> {
    const W = 64 * 1024;
    const w = Math.floor(off / W);
    let win = this.itCache.get(w);
    if (!win) {
      win = await this.src.read(w * W, W);
      this.itCache.set(w, win, win.length);
    }
    const s = off - w * W;
    if (s + this.inodeSize <= win.length) return win.subarray(s, s + this.inodeSize);
    return readExact(this.src, off, this.inodeSize, `ext inode ${ino}`);
  }

  /** Reads inode `ino`. */
  async inode(ino: number): Promise<ExtInode> {
    const hit = this.inodes.get(ino);
    if (hit) return hit;
    ensure(ino >= 1 && ino <= this.inodeCount, `ext: inode ${ino} out of range`);
    const g = Math.floor((ino - 1) / this.inodesPerGroup);
    const idx = (ino - 1) % this.inodesPerGroup;
    const gd = await this.groupDesc(g);
    const table = gd.readUInt32LE(8) + (this.descSize >= 64 ? gd.readUInt32LE(0x28) * 2 ** 32 : 0);
    ensure(table > 0 && table < this.blockCount, `ext: inode table of group ${g} outside the volume`);
    const raw = Buffer.from(await this.inodeBytes(table * this.blockSize + idx * this.inodeSize, ino));
    const mode = raw.readUInt16LE(0);
    const size = raw.readUInt32LE(4) + raw.readUInt32LE(0x6c) * 2 ** 32;
    ensure(Number.isSafeInteger(size), `ext: inode ${ino} size too large`);
    const mtimeSec = raw.readInt32LE(0x10);
    let mtimeMs = mtimeSec * 1000;
    const extra = this.inodeSize > 128 ? raw.readUInt16LE(0x80) : 0;
    if (extra >= 12 && 128 + extra <= raw.length) {
      const x = raw.readUInt32LE(0x88);
      mtimeMs = (mtimeSec + (x & 3) * 2 ** 32) * 1000 + Math.floor((x >>> 2) / 1e6);
    }
    const node: ExtInode = { ino, mode, size, flags: raw.readUInt32LE(0x20), mtimeMs, block: raw.subarray(0x28, 0x28 + 60), raw };
    this.inodes.set(ino, node, raw.length + 128);
    return node;
  }

  /** The block runs of an inode (extents or block map). */
  async blockRuns(ino: ExtInode): Promise<BlockRun[]> {
    const nblocks = Math.ceil(ino.size / this.blockSize);
    if (ino.flags & FL_EXTENTS) return mapExtents(this, ino.block, nblocks);
    return mapIndirect(this, ino.block, nblocks);
  }

  /** Inline data: the 60 bytes of i_block plus the `system.data` in-inode xattr. */
  private inlineData(ino: ExtInode): Buffer {
    const parts = [ino.block];
    const extra = ino.raw.length > 128 ? ino.raw.readUInt16LE(0x80) : 0;
    let p = 128 + extra;
    if (p + 4 <= ino.raw.length && ino.raw.readUInt32LE(p) === 0xea020000) {
      const base = p + 4;
      p = base;
      for (let guard = 0; guard < 256 && p + 16 <= ino.raw.length; guard++) {
        const nameLen = ino.raw[p];
        if (nameLen === 0 && ino.raw.readUInt32LE(p) === 0) break;
        const idx = ino.raw[p + 1];
        const voff = ino.raw.readUInt16LE(p + 2);
        const vsize = ino.raw.readUInt32LE(p + 8);
        const name = ino.raw.toString('latin1', p + 16, p + 16 + nameLen);
        if (idx === 7 && name === 'data' && base + voff + vsize <= ino.raw.length) parts.push(ino.raw.subarray(base + voff, base + voff + vsize));
        p += (16 + nameLen + 3) & ~3;
      }
    }
    return Buffer.concat(parts).subarray(0, ino.size);
  }

  /** The bytes of an inode as a stream. */
  async content(ino: ExtInode): Promise<FileContent> {
    if (ino.flags & FL_INLINE) return new BufferSource(this.inlineData(ino));
    const runs = await this.blockRuns(ino);
    return new ExtFileStream(this.src, this.blockSize, runs, ino.size);
  }

  async root(): Promise<FsNode> {
    const ino = await this.inode(2);
    ensure((ino.mode & 0xf000) === 0x4000, 'ext: root inode is not a directory');
    return this.node(ino, '');
  }

  private async node(ino: ExtInode, name: string): Promise<FsNode> {
    const fmt = ino.mode & 0xf000;
    const type = fmt === 0x4000 ? 'dir' : fmt === 0x8000 ? 'file' : fmt === 0xa000 ? 'symlink' : 'other';
    const n: FsNode = { name, type, size: type === 'file' ? ino.size : type === 'symlink' ? ino.size : 0, mtimeMs: ino.mtimeMs, key: `ext:${ino.ino}`, ref: ino };
    if (type === 'symlink') {
      try {
        let t: Buffer;
        if (ino.flags & FL_INLINE) t = this.inlineData(ino);
        else if (ino.size < 60 && !(ino.flags & FL_EXTENTS))
          t = ino.block.subarray(0, ino.size); // fast symlink
        else t = await (await this.content(ino)).read(0, Math.min(ino.size, 65536));
        n.target = t.toString('utf8');
      } catch {
        /* unreadable target: shown without one */
      }
    }
    return n;
  }

  async readdir(dir: FsNode): Promise<FsNode[]> {
    const ino = dir.ref as ExtInode;
    ensure(ino.size <= MAX_DIR_BYTES, 'ext: directory too large');
    let data: Buffer;
    let start = 0;
    if (ino.flags & FL_INLINE) {
      data = this.inlineData(ino);
      start = 4; // parent inode number, then entries
    } else data = await (await this.content(ino)).read(0, ino.size);
    const out: FsNode[] = [];
    const names: { ino: number; name: string }[] = [];
    const bs = ino.flags & FL_INLINE ? data.length : this.blockSize;
    for (let blk = 0; blk * bs < data.length; blk++) {
      const bEnd = Math.min(data.length, (blk + 1) * bs);
      let p = blk === 0 ? start : blk * bs;
      while (p + 8 <= bEnd) {
        const inum = data.readUInt32LE(p);
        const recLen = data.readUInt16LE(p + 4);
        const nameLen = data[p + 6];
        if (recLen < 8 || p + recLen > bEnd) break;
        if (inum !== 0 && 8 + nameLen <= recLen) {
          const name = data.toString('utf8', p + 8, p + 8 + nameLen);
          if (name !== '.' && name !== '..') names.push({ ino: inum, name });
        }
        p += recLen;
      }
    }
    for (const e of names) {
      try {
        out.push(await this.node(await this.inode(e.ino), e.name));
      } catch {
        out.push({ name: e.name, type: 'other', size: 0, key: `ext:${e.ino}`, ref: undefined });
      }
    }
    return out;
  }

  async open(node: FsNode, stream?: string): Promise<FileContent> {
    if (stream) throw fsCorrupt('ext has no alternate data streams');
    const ino = node.ref as ExtInode | undefined;
    ensure(ino, `ext: ${node.name} cannot be read`);
    return this.content(ino);
  }
}

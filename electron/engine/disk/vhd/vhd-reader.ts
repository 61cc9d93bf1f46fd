import { AppError } from '../../../../shared/errors/app-error.js';
import { checkRange, corrupt, MAX_VIRTUAL_SIZE } from '../core/disk-error.js';
import type { FileSource } from '../core/file-source.js';
import { LruCache } from '../../core/lru-cache.js';
import { MappedDisk } from '../core/mapped-disk.js';
import type { OpenContext } from '../core/open-context.js';
import { RunList, type Layer, type Run } from '../core/run.js';
import { FlatLayer } from '../raw/raw-reader.js';
import type { VirtualDisk } from '../virtual-disk.js';

/** VHD disk types (footer DiskType). */
export const VHD_TYPE = { fixed: 2, dynamic: 3, differencing: 4 } as const;

/** The fields of a VHD footer we use. */
export interface VhdFooter {
  dataOffset: bigint;
  currentSize: number;
  diskType: number;
  uuid: string;
}

/** One's-complement byte sum of `b` with the 4 checksum bytes at `at` skipped. */
export function vhdChecksum(b: Buffer, at: number): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) if (i < at || i >= at + 4) sum += b[i];
  return ~sum >>> 0;
}

/** Parses a 512-byte footer; undefined when the cookie or checksum is wrong. */
export function parseFooter(b: Buffer, file: string): VhdFooter | undefined {
  if (b.toString('latin1', 0, 8) !== 'conectix') return undefined;
  if (vhdChecksum(b, 64) !== b.readUInt32BE(64)) return undefined;
  return {
    dataOffset: b.readBigUInt64BE(16),
    currentSize: checkRange(file, 'vhd footer', 'current size', b.readBigUInt64BE(48), MAX_VIRTUAL_SIZE),
    diskType: b.readUInt32BE(60),
    uuid: b.toString('hex', 68, 84),
  };
}

/** A VHD disk; `uuid` is what a child's parent UUID must name. */
export class VhdDisk extends MappedDisk {
  /** Footer unique id (hex). */
  uuid = '';
}

class VhdSparseLayer implements Layer {
  private readonly bitmaps = new LruCache<number, Promise<Buffer>>(64);

  constructor(
    private readonly src: FileSource,
    private readonly bat: Buffer,
    private readonly blockSize: number,
    private readonly bitmapBytes: number,
    private readonly differencing: boolean,
  ) {}

  async map(offset: number, length: number): Promise<Run[]> {
    const out = new RunList();
    const end = offset + length;
    for (let at = offset; at < end;) {
      const block = Math.floor(at / this.blockSize);
      const inBlock = at - block * this.blockSize;
      const n = Math.min(this.blockSize - inBlock, end - at);
      const sector = this.bat.readUInt32BE(block * 4);
      if (sector === 0xffffffff) out.push({ kind: 'absent', length: n });
      else {
        const dataStart = sector * 512 + this.bitmapBytes;
        if (dataStart + inBlock + n > this.src.size) corrupt(this.src.path, 'block allocation table', `block ${block} points to sector ${sector}, past the end of the file`, { block, sector });
        if (!this.differencing) out.push({ kind: 'data', length: n, source: this.src, sourceOffset: dataStart + inBlock });
        else {
          const bitmap = await this.bitmaps.load(block, () => this.src.readStrict(sector * 512, this.bitmapBytes, `sector bitmap of block ${block}`));
          for (let p = inBlock; p < inBlock + n;) {
            const s = Math.floor(p / 512);
            const m = Math.min((s + 1) * 512, inBlock + n) - p;
            // VHD bitmaps are MSB-first.
            if ((bitmap[s >>> 3] >> (7 - (s & 7))) & 1) out.push({ kind: 'data', length: m, source: this.src, sourceOffset: dataStart + p });
            else out.push({ kind: 'absent', length: m });
            p += m;
          }
        }
      }
      at += n;
    }
    return out.runs;
  }
}

/** Opens a VHD (fixed, dynamic, differencing). Takes ownership of `src`. */
export async function openVhd(src: FileSource, ctx: OpenContext): Promise<VhdDisk> {
  try {
    return await openVhdInner(src, ctx);
  } catch (e) {
    await src.close().catch(() => {});
    throw e;
  }
}

async function openVhdInner(src: FileSource, ctx: OpenContext): Promise<VhdDisk> {
  const file = src.path;
  if (src.size < 512) corrupt(file, 'vhd footer', 'file too small');
  let footer = parseFooter(await src.readStrict(src.size - 512, 512, 'vhd footer'), file);
  if (!footer) {
    const tail511 = await src.readStrict(src.size - 511, 511, 'vhd footer');
    footer = parseFooter(Buffer.concat([tail511, Buffer.alloc(1)]), file);
  }
  if (!footer) footer = parseFooter(await src.readStrict(0, 512, 'vhd footer copy'), file);
  if (!footer) corrupt(file, 'vhd footer', 'no footer with a valid cookie and checksum');
  const size = footer.currentSize;
  const link = (subformat: string) => ({ path: file, format: 'vhd' as const, subformat });
  if (footer.diskType === VHD_TYPE.fixed) {
    if (size > src.size) corrupt(file, 'vhd footer', `current size ${size} exceeds the file size`);
    const d = new VhdDisk({ size, format: 'vhd', subformat: 'fixed', link: link('fixed'), layer: new FlatLayer(src, 0), files: [src] });
    d.uuid = footer.uuid;
    return d;
  }
  if (footer.diskType !== VHD_TYPE.dynamic && footer.diskType !== VHD_TYPE.differencing) corrupt(file, 'vhd footer', `unknown disk type ${footer.diskType}`);
  const dhOff = checkRange(file, 'vhd footer', 'data offset', footer.dataOffset, src.size - 1024);
  const dh = await src.readStrict(dhOff, 1024, 'dynamic disk header');
  if (dh.toString('latin1', 0, 8) !== 'cxsparse') corrupt(file, 'dynamic disk header', 'bad cookie (expected cxsparse)');
  if (vhdChecksum(dh, 36) !== dh.readUInt32BE(36)) corrupt(file, 'dynamic disk header', 'checksum mismatch');
  const batOff = checkRange(file, 'dynamic disk header', 'table offset', dh.readBigUInt64BE(16), src.size);
  const entries = dh.readUInt32BE(28);
  const blockSize = dh.readUInt32BE(32);
  if (blockSize < 512 || blockSize > 256 * 1024 * 1024 || (blockSize & (blockSize - 1)) !== 0) corrupt(file, 'dynamic disk header', `block size ${blockSize} is invalid`);
  if (entries * blockSize < size) corrupt(file, 'dynamic disk header', `${entries} blocks of ${blockSize} bytes do not cover ${size} bytes`);
  const neededEntries = Math.ceil(size / blockSize);
  const bat = await src.readStrict(batOff, neededEntries * 4, 'block allocation table');
  const bitmapBytes = Math.ceil(blockSize / 512 / 8 / 512) * 512;
  const differencing = footer.diskType === VHD_TYPE.differencing;
  let parent: VirtualDisk | undefined;
  if (differencing) parent = await openVhdParent(src, dh, ctx);
  const subformat = differencing ? 'differencing' : 'dynamic';
  const d = new VhdDisk({ size, format: 'vhd', subformat, link: link(subformat), layer: new VhdSparseLayer(src, bat, blockSize, bitmapBytes, differencing), parent, files: [src] });
  d.uuid = footer.uuid;
  return d;
}

async function openVhdParent(src: FileSource, dh: Buffer, ctx: OpenContext): Promise<VirtualDisk> {
  const file = src.path;
  const parentUuid = dh.toString('hex', 40, 56);
  const nameBe = Buffer.from(dh.subarray(64, 576));
  nameBe.swap16();
  const unicodeName = nameBe.toString('utf16le').replace(/\0.*$/s, '');
  const refs: string[] = [];
  for (let i = 0; i < 8; i++) {
    const o = 576 + i * 24;
    const code = dh.toString('latin1', o, o + 4);
    const len = dh.readUInt32BE(o + 8);
    const off = dh.readBigUInt64BE(o + 16);
    if (!['W2ru', 'W2ku', 'Wi2r', 'Wi2k'].includes(code) || len === 0 || len > 64 * 1024) continue;
    const at = checkRange(file, 'parent locator', 'data offset', off, src.size - len);
    const raw = await src.readStrict(at, len, 'parent locator');
    const text = (code.startsWith('W2') ? raw.toString('utf16le') : raw.toString('utf8')).replace(/\0.*$/s, '');
    if (text) refs.push(text);
  }
  if (unicodeName) refs.push(unicodeName);
  if (refs.length === 0) corrupt(file, 'dynamic disk header', 'differencing disk names no parent');
  let lastError: unknown;
  for (const ref of refs) {
    try {
      const parent = await ctx.openParent(ref, file);
      if (parent instanceof VhdDisk && parent.uuid !== parentUuid) {
        await parent.close();
        throw new AppError('DISK_PARENT_MISMATCH', `vhd '${file}' expects parent id ${parentUuid} but '${parent.chain[0].path}' has ${parent.uuid}`, {
          details: { file, structure: 'dynamic disk header parent uuid' },
        });
      }
      return parent;
    } catch (e) {
      lastError = e;
      if (!(e instanceof AppError && e.code === 'DISK_PARENT_MISSING')) throw e;
    }
  }
  throw lastError;
}

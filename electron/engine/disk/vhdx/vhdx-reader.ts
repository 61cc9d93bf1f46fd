import { AppError } from '../../../../shared/errors/app-error.js';
import { corrupt, diskError, MAX_VIRTUAL_SIZE } from '../core/disk-error.js';
import type { FileSource } from '../core/file-source.js';
import { LruCache } from '../../core/lru-cache.js';
import { MappedDisk } from '../core/mapped-disk.js';
import type { OpenContext } from '../core/open-context.js';
import { RunList, type Layer, type Run } from '../core/run.js';
import type { VirtualDisk } from '../virtual-disk.js';
import { replayLog } from './vhdx-log.js';
import { MiB, parseParentLocator, readCurrentHeader, readMetadata, readRegionTable, VHDX_GUID } from './vhdx-structures.js';

/** Payload block states (MS-VHDX §2.5.1.1). */
export const PAYLOAD = { notPresent: 0, undefined: 1, zero: 2, unmapped: 3, unmappedV095: 5, fullyPresent: 6, partiallyPresent: 7 } as const;

const KNOWN_METADATA = new Set<string>([
  VHDX_GUID.fileParameters,
  VHDX_GUID.virtualDiskSize,
  VHDX_GUID.virtualDiskId,
  VHDX_GUID.logicalSectorSize,
  VHDX_GUID.physicalSectorSize,
  VHDX_GUID.parentLocator,
]);

/** A VHDX disk; `dataWriteGuid` is what a child's parent_linkage must name. */
export class VhdxDisk extends MappedDisk {
  /** The header's DataWriteGuid, upper-case without braces. */
  dataWriteGuid = '';
  /** Logical sector size (512 or 4096). */
  logicalSectorSize = 512;
  /** Payload block size in bytes. */
  blockSize = 0;
}

/** The BAT-driven layer of a VHDX file. */
class VhdxLayer implements Layer {
  private readonly bitmaps = new LruCache<number, Promise<Buffer>>(8);
  private readonly sectorsPerBlock: number;

  constructor(
    private readonly src: FileSource,
    private readonly bat: Buffer,
    private readonly blockSize: number,
    private readonly chunkRatio: number,
    private readonly sectorSize: number,
    private readonly hasParent: boolean,
  ) {
    this.sectorsPerBlock = blockSize / sectorSize;
  }

  private entry(index: number): { state: number; offset: number } {
    const o = index * 8;
    if (o + 8 > this.bat.length) corrupt(this.src.path, 'block allocation table', `entry ${index} is past the end of the table`);
    const lo = this.bat.readUInt32LE(o);
    const hi = this.bat.readUInt32LE(o + 4);
    return { state: lo & 7, offset: (hi * 4096 + (lo >>> 20)) * MiB };
  }

  async map(offset: number, length: number): Promise<Run[]> {
    const out = new RunList();
    const end = offset + length;
    let at = offset;
    while (at < end) {
      const block = Math.floor(at / this.blockSize);
      const inBlock = at - block * this.blockSize;
      const n = Math.min(this.blockSize - inBlock, end - at);
      const { state, offset: fileOff } = this.entry(block + Math.floor(block / this.chunkRatio));
      switch (state) {
        case PAYLOAD.fullyPresent:
          this.pushData(out, block, fileOff, inBlock, n);
          break;
        case PAYLOAD.notPresent:
          out.push({ kind: 'absent', length: n });
          break;
        case PAYLOAD.undefined:
        case PAYLOAD.zero:
        case PAYLOAD.unmapped:
        case PAYLOAD.unmappedV095:
          out.push({ kind: 'zero', length: n });
          break;
        case PAYLOAD.partiallyPresent:
          if (!this.hasParent) corrupt(this.src.path, 'block allocation table', `block ${block} is partially present in a disk without a parent`);
          await this.pushPartial(out, block, fileOff, inBlock, n);
          break;
        default:
          corrupt(this.src.path, 'block allocation table', `block ${block} has invalid state ${state}`);
      }
      at += n;
    }
    return out.runs;
  }

  private pushData(out: RunList, block: number, fileOff: number, inBlock: number, n: number): void {
    if (fileOff < MiB || fileOff + inBlock + n > this.src.size) {
      corrupt(this.src.path, 'block allocation table', `block ${block} points to offset ${fileOff}, outside the file`, { block, offset: fileOff });
    }
    out.push({ kind: 'data', length: n, source: this.src, sourceOffset: fileOff + inBlock });
  }

  private async pushPartial(out: RunList, block: number, fileOff: number, inBlock: number, n: number): Promise<void> {
    const chunk = Math.floor(block / this.chunkRatio);
    const sb = this.entry((chunk + 1) * this.chunkRatio + chunk);
    if (sb.state !== 6) corrupt(this.src.path, 'sector bitmap', `block ${block} is partially present but its sector bitmap block is missing`);
    const bitmap = await this.bitmaps.load(chunk, () => this.src.readStrict(sb.offset, MiB, `sector bitmap of chunk ${chunk}`));
    const ss = this.sectorSize;
    const firstSectorInChunk = (block % this.chunkRatio) * this.sectorsPerBlock;
    for (let at = inBlock; at < inBlock + n;) {
      const sector = Math.floor(at / ss);
      const m = Math.min((sector + 1) * ss, inBlock + n) - at;
      const bit = firstSectorInChunk + sector;
      if ((bitmap[bit >>> 3] >> (bit & 7)) & 1) this.pushData(out, block, fileOff, at, m);
      else out.push({ kind: 'absent', length: m });
      at += m;
    }
  }
}

/** Opens a VHDX file (fixed, dynamic or differencing). Takes ownership of `src`. */
export async function openVhdx(src: FileSource, ctx: OpenContext): Promise<VhdxDisk> {
  try {
    return await openVhdxInner(src, ctx);
  } catch (e) {
    await src.close().catch(() => {});
    throw e;
  }
}

async function openVhdxInner(src: FileSource, ctx: OpenContext): Promise<VhdxDisk> {
  const file = src.path;
  const sig = await src.readStrict(0, 8, 'file identifier');
  if (sig.toString('latin1') !== 'vhdxfile') corrupt(file, 'file identifier', 'bad signature (expected vhdxfile)');
  const header = await readCurrentHeader(src);
  if (!header.logGuidNull) {
    const { pages, end } = await replayLog(src, header);
    src.setOverlay(pages, end);
  }
  const regions = await readRegionTable(src);
  for (const r of regions) {
    if (r.required && r.guid !== VHDX_GUID.bat && r.guid !== VHDX_GUID.metadata) {
      throw diskError('DISK_UNSUPPORTED', file, `vhdx '${file}' requires unknown region ${r.guid}`, { structure: 'region table' });
    }
  }
  const batRegion = regions.find((r) => r.guid === VHDX_GUID.bat);
  const metaRegion = regions.find((r) => r.guid === VHDX_GUID.metadata);
  if (!batRegion || !metaRegion) corrupt(file, 'region table', 'missing the BAT or metadata region');
  const meta = await readMetadata(src, metaRegion);
  for (const m of meta.values()) {
    if (m.isRequired && !m.isUser && !KNOWN_METADATA.has(m.guid)) throw diskError('DISK_UNSUPPORTED', file, `vhdx '${file}' requires unknown metadata item ${m.guid}`, { structure: 'metadata table' });
  }
  const item = (guid: string, min: number): Buffer => {
    const v = meta.get(guid)?.value;
    if (!v || v.length < min) corrupt(file, 'metadata', `missing or short item ${guid}`);
    return v;
  };
  const fp = item(VHDX_GUID.fileParameters, 8);
  const blockSize = fp.readUInt32LE(0);
  const hasParent = (fp.readUInt32LE(4) & 2) !== 0;
  if (blockSize < MiB || blockSize > 256 * MiB || (blockSize & (blockSize - 1)) !== 0) corrupt(file, 'file parameters', `block size ${blockSize} is invalid`);
  const sizeBig = item(VHDX_GUID.virtualDiskSize, 8).readBigUInt64LE(0);
  if (sizeBig > BigInt(MAX_VIRTUAL_SIZE)) corrupt(file, 'virtual disk size', `size ${sizeBig} is absurd`);
  const size = Number(sizeBig);
  const lss = item(VHDX_GUID.logicalSectorSize, 4).readUInt32LE(0);
  if (lss !== 512 && lss !== 4096) corrupt(file, 'logical sector size', `value ${lss} is not 512 or 4096`);
  if (size % lss !== 0) corrupt(file, 'virtual disk size', `size ${size} is not a multiple of the sector size`);
  const chunkRatio = (2 ** 23 * lss) / blockSize;
  const dataBlocks = Math.ceil(size / blockSize);
  const batEntries = hasParent ? Math.ceil(dataBlocks / chunkRatio) * (chunkRatio + 1) : dataBlocks + Math.floor(Math.max(0, dataBlocks - 1) / chunkRatio);
  if (batEntries * 8 > batRegion.length) corrupt(file, 'block allocation table', `region holds ${batRegion.length} bytes but ${batEntries} entries are needed`);
  const bat = await src.readStrict(batRegion.offset, batEntries * 8, 'block allocation table');

  let parent: VirtualDisk | undefined;
  if (hasParent) {
    const loc = parseParentLocator(item(VHDX_GUID.parentLocator, 20), file);
    const linkage = (loc.get('parent_linkage') ?? '').replace(/[{}]/g, '').toUpperCase();
    const refs = ['relative_path', 'absolute_win32_path', 'volume_path'].map((k) => loc.get(k)).filter((v): v is string => !!v);
    if (refs.length === 0) corrupt(file, 'parent locator', 'no parent path');
    let lastError: unknown;
    for (const ref of refs) {
      try {
        parent = await ctx.openParent(ref, file);
        break;
      } catch (e) {
        lastError = e;
        if (!(e instanceof AppError && e.code === 'DISK_PARENT_MISSING')) throw e;
      }
    }
    if (!parent) throw lastError;
    if (parent instanceof VhdxDisk && linkage && parent.dataWriteGuid !== linkage) {
      await parent.close();
      throw new AppError(
        'DISK_PARENT_MISMATCH',
        `vhdx '${file}' expects a parent with data write guid {${linkage}} but '${parent.chain[0].path}' has {${parent.dataWriteGuid}}; the parent was modified`,
        {
          details: { file, structure: 'parent locator parent_linkage', expected: linkage, actual: parent.dataWriteGuid },
        },
      );
    }
  }
  const subformat = hasParent ? 'differencing' : isFixed(bat, dataBlocks, chunkRatio, src.size, size) ? 'fixed' : 'dynamic';
  const disk = new VhdxDisk({
    size,
    format: 'vhdx',
    subformat,
    link: { path: file, format: 'vhdx', subformat },
    layer: new VhdxLayer(src, bat, blockSize, chunkRatio, lss, hasParent),
    parent,
    files: [src],
  });
  disk.dataWriteGuid = header.dataWriteGuid;
  disk.logicalSectorSize = lss;
  disk.blockSize = blockSize;
  return disk;
}

/**
 * A fixed VHDX has no NOT_PRESENT payload block and a file at least as large as the disk (QEMU
 * keeps zero blocks of fixed images in the ZERO state without an offset, so offsets don't tell).
 */
function isFixed(bat: Buffer, dataBlocks: number, chunkRatio: number, fileSize: number, size: number): boolean {
  if (fileSize < size) return false;
  for (let b = 0; b < dataBlocks; b++) {
    if ((bat.readUInt32LE((b + Math.floor(b / chunkRatio)) * 8) & 7) === PAYLOAD.notPresent) return false;
  }
  return true;
}

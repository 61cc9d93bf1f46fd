import { AppError } from '../../../../shared/errors/app-error.js';
import { corrupt, diskError } from '../core/disk-error.js';
import { FileSource } from '../core/file-source.js';
import { MappedDisk } from '../core/mapped-disk.js';
import type { OpenContext } from '../core/open-context.js';
import { RunList, type Layer, type Run } from '../core/run.js';
import { FlatLayer } from '../raw/raw-reader.js';
import type { VirtualDisk } from '../virtual-disk.js';
import { MAX_DESCRIPTOR_BYTES, looksLikeDescriptor, parseDescriptor, type VmdkDescriptor } from './vmdk-descriptor.js';
import { VMDK_FLAG_COMPRESSED, VmdkSparseExtent } from './vmdk-sparse-extent.js';

/** One extent placed in the disk's address space. */
interface PlacedExtent {
  start: number;
  size: number;
  layer: Layer | 'zero';
}

/** The extents of a descriptor laid end to end. */
class ExtentsLayer implements Layer {
  constructor(private readonly extents: PlacedExtent[]) {}

  async map(offset: number, length: number): Promise<Run[]> {
    const out = new RunList();
    const end = offset + length;
    let at = offset;
    for (const e of this.extents) {
      if (at >= end) break;
      const eEnd = e.start + e.size;
      if (eEnd <= at) continue;
      const n = Math.min(eEnd, end) - at;
      if (e.layer === 'zero') out.push({ kind: 'zero', length: n });
      else for (const r of await e.layer.map(at - e.start, n)) out.push(r);
      at += n;
    }
    if (at < end) out.push({ kind: 'zero', length: end - at });
    return out.runs;
  }
}

/** A VMDK disk; `cid` is the content id its children's parentCID must match. */
export class VmdkDisk extends MappedDisk {
  /** Content id (lower-case hex) from the descriptor. */
  cid = 'ffffffff';
}

const SUPPORTED_SPARSE = new Set(['SPARSE']);
const SUPPORTED_FLAT = new Set(['FLAT', 'VMFS']);

/**
 * Opens a VMDK (descriptor file or sparse file with an embedded descriptor) with its extents
 * and, for a delta disk, its parent chain. Takes ownership of `source`.
 */
export async function openVmdk(source: FileSource, ctx: OpenContext): Promise<VmdkDisk> {
  const files: FileSource[] = [source];
  try {
    return await openVmdkInner(source, ctx, files);
  } catch (e) {
    for (const f of files) await f.close().catch(() => {});
    throw e;
  }
}

async function openVmdkInner(source: FileSource, ctx: OpenContext, files: FileSource[]): Promise<VmdkDisk> {
  const file = source.path;
  const magic = await source.readStrict(0, Math.min(4, source.size), 'file header');
  let desc: VmdkDescriptor;
  let placed: PlacedExtent[];
  let subformat: string;
  if (magic.length === 4 && magic.toString('latin1') === 'KDMV') {
    const ext = await VmdkSparseExtent.open(source);
    const h = ext.header;
    desc = { version: 1, cid: 'ffffffff', parentCid: 'ffffffff', createType: '', extents: [], fields: {} };
    if (h.descriptorOffset > 0 && h.descriptorSize > 0) {
      const bytes = Math.min(h.descriptorSize * 512, MAX_DESCRIPTOR_BYTES);
      const text = (await source.readStrict(h.descriptorOffset * 512, bytes, 'embedded descriptor')).toString('utf8');
      desc = parseDescriptor(text, file);
    }
    if (h.capacity === 0) throw diskError('DISK_UNSUPPORTED', file, `vmdk '${file}' has a zero-capacity sparse header (ESXi descriptor layout), which is not supported`);
    subformat = desc.createType || ((h.flags & VMDK_FLAG_COMPRESSED) !== 0 ? 'streamOptimized' : 'monolithicSparse');
    const declared = desc.extents.reduce((s, e) => s + e.sectors, 0);
    const size = (declared > 0 ? Math.min(declared, h.capacity) : h.capacity) * 512;
    placed = [{ start: 0, size, layer: ext }];
  } else if (magic.length === 4 && magic.toString('latin1') === 'COWD') {
    throw diskError('DISK_UNSUPPORTED', file, `vmdk '${file}' is an ESX vmfsSparse (COWD) extent, which is not supported`);
  } else {
    if (source.size > MAX_DESCRIPTOR_BYTES) throw diskError('DISK_FORMAT_UNKNOWN', file, `'${file}' is neither a sparse vmdk nor a descriptor (too large for a descriptor)`);
    const text = (await source.readStrict(0, source.size, 'descriptor')).toString('utf8');
    if (!looksLikeDescriptor(text)) throw diskError('DISK_FORMAT_UNKNOWN', file, `'${file}' is not a vmdk descriptor`);
    desc = parseDescriptor(text, file);
    subformat = desc.createType || 'custom';
    placed = await openExtents(desc, file, ctx, files);
  }
  const size = placed.reduce((s, e) => s + e.size, 0);
  if (!Number.isSafeInteger(size)) corrupt(file, 'descriptor', 'extent sizes overflow');
  let parent: VirtualDisk | undefined;
  if (desc.parentCid !== 'ffffffff' || desc.parentFileNameHint) {
    if (!desc.parentFileNameHint) corrupt(file, 'descriptor', `delta disk has parentCID ${desc.parentCid} but no parentFileNameHint`);
    parent = await ctx.openParent(desc.parentFileNameHint, file);
    if (parent instanceof VmdkDisk && parent.cid !== desc.parentCid) {
      await parent.close();
      throw new AppError(
        'DISK_PARENT_MISMATCH',
        `vmdk '${file}' expects parent content id ${desc.parentCid} but '${parent.chain[0].path}' has ${parent.cid}; the parent was modified after the snapshot`,
        {
          details: { file, structure: 'descriptor parentCID', parent: parent.chain[0].path, expected: desc.parentCid, actual: parent.cid },
        },
      );
    }
  }
  const disk = new VmdkDisk({
    size,
    format: 'vmdk',
    subformat,
    link: { path: file, format: 'vmdk', subformat, ...(files.length > 1 ? { extents: files.slice(1).map((f) => f.path) } : {}) },
    layer: placed.length === 1 && placed[0].start === 0 && placed[0].layer !== 'zero' ? placed[0].layer : new ExtentsLayer(placed),
    parent,
    files,
  });
  disk.cid = desc.cid;
  return disk;
}

async function openExtents(desc: VmdkDescriptor, file: string, ctx: OpenContext, files: FileSource[]): Promise<PlacedExtent[]> {
  if (desc.extents.length === 0) corrupt(file, 'descriptor', 'no extent lines');
  if (desc.extents.length > 100_000) corrupt(file, 'descriptor', 'too many extent lines');
  const placed: PlacedExtent[] = [];
  let start = 0;
  for (const e of desc.extents) {
    const size = e.sectors * 512;
    if (e.type === 'ZERO') placed.push({ start, size, layer: 'zero' });
    else if (SUPPORTED_FLAT.has(e.type) || SUPPORTED_SPARSE.has(e.type)) {
      if (!e.file) corrupt(file, 'descriptor extent line', `${e.type} extent without a file name`);
      const path = await ctx.resolver.resolve(e.file, file);
      const src = await ctx.openSource(path);
      files.push(src);
      if (SUPPORTED_FLAT.has(e.type)) placed.push({ start, size, layer: new FlatLayer(src, e.offset * 512) });
      else placed.push({ start, size, layer: await VmdkSparseExtent.open(src) });
    } else {
      throw diskError('DISK_UNSUPPORTED', file, `vmdk '${file}' uses a ${e.type} extent, which is not supported`, { structure: 'descriptor extent line' });
    }
    start += size;
  }
  return placed;
}

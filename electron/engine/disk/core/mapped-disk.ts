import { AppError } from '../../../../shared/errors/app-error.js';
import type { ChainLink, DiskExtent, DiskFormat, ExtentKind, VirtualDisk } from '../virtual-disk.js';
import type { FileSource } from './file-source.js';
import type { Layer, Run } from './run.js';

/** A VirtualDisk that can read straight into a caller's buffer (avoids a copy per layer). */
export interface DirectReadDisk extends VirtualDisk {
  /** Reads `[offset, offset+length)` (inside the disk) into `buf` at `pos`. */
  readInto(buf: Buffer, pos: number, offset: number, length: number): Promise<void>;
}

/** True when `d` implements `readInto`. */
export function isDirectReadDisk(d: VirtualDisk): d is DirectReadDisk {
  return typeof (d as Partial<DirectReadDisk>).readInto === 'function';
}

/** Reads `[offset, offset+length)` of `disk` into `buf` at `pos`, zero beyond its end. */
export async function readDiskInto(disk: VirtualDisk, buf: Buffer, pos: number, offset: number, length: number): Promise<void> {
  const inside = Math.max(0, Math.min(length, disk.size - offset));
  if (inside > 0) {
    if (isDirectReadDisk(disk)) await disk.readInto(buf, pos, offset, inside);
    else (await disk.read(offset, inside)).copy(buf, pos);
  }
  if (inside < length) buf.fill(0, pos + inside, pos + length);
}

/** Appends an extent, merging with the previous one of the same kind. */
export function pushExtent(out: DiskExtent[], offset: number, length: number, kind: ExtentKind): void {
  if (length <= 0) return;
  const last = out[out.length - 1];
  if (last && last.kind === kind && last.offset + last.length === offset) last.length += length;
  else out.push({ offset, length, kind });
}

/** What a MappedDisk is made of. */
export interface MappedDiskParts {
  size: number;
  format: DiskFormat;
  subformat?: string;
  /** This file's link (the chain is this link followed by the parent's chain). */
  link: ChainLink;
  layer: Layer;
  parent?: VirtualDisk;
  /** Files to close with the disk. */
  files: FileSource[];
}

/**
 * The generic VirtualDisk over a format's Layer: reads data runs from the file, zero runs as
 * zeros and absent runs from the parent (or zeros). Format readers only implement `map()`.
 */
export class MappedDisk implements DirectReadDisk {
  readonly size: number;
  readonly format: DiskFormat;
  readonly subformat?: string;
  readonly chain: ChainLink[];
  private closed = false;

  constructor(private readonly parts: MappedDiskParts) {
    this.size = parts.size;
    this.format = parts.format;
    this.subformat = parts.subformat;
    this.chain = [parts.link, ...(parts.parent?.chain ?? [])];
  }

  /** The parent disk, if any. */
  get parent(): VirtualDisk | undefined {
    return this.parts.parent;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.checkOpen();
    checkArgs(offset, length);
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buf = Buffer.allocUnsafe(n);
    if (n > 0) await this.readInto(buf, 0, offset, n);
    return buf;
  }

  async readInto(buf: Buffer, pos: number, offset: number, length: number): Promise<void> {
    this.checkOpen();
    const runs = await this.parts.layer.map(offset, length);
    let at = offset;
    let p = pos;
    for (const r of runs) {
      await this.readRun(r, buf, p, at);
      at += r.length;
      p += r.length;
    }
    if (at !== offset + length) throw new AppError('INTERNAL', `layer map of '${this.parts.link.path}' covered ${at - offset} of ${length} bytes`);
  }

  private async readRun(r: Run, buf: Buffer, p: number, at: number): Promise<void> {
    switch (r.kind) {
      case 'data':
        await r.source.readInto(buf, p, r.length, r.sourceOffset);
        return;
      case 'zero':
        buf.fill(0, p, p + r.length);
        return;
      case 'absent':
        if (this.parts.parent) await readDiskInto(this.parts.parent, buf, p, at, r.length);
        else buf.fill(0, p, p + r.length);
        return;
      case 'bytes': {
        const data = await r.load();
        const end = Math.min(data.length, r.at + r.length);
        const copied = Math.max(0, end - r.at);
        if (copied > 0) data.copy(buf, p, r.at, end);
        if (copied < r.length) buf.fill(0, p + copied, p + r.length);
        return;
      }
    }
  }

  async extents(offset = 0, length = this.size - offset): Promise<DiskExtent[]> {
    this.checkOpen();
    checkArgs(offset, length);
    const n = Math.max(0, Math.min(length, this.size - offset));
    const out: DiskExtent[] = [];
    if (n === 0) return out;
    const runs = await this.parts.layer.map(offset, n);
    let at = offset;
    for (const r of runs) {
      if (r.kind === 'data' || r.kind === 'bytes') pushExtent(out, at, r.length, 'data');
      else if (r.kind === 'zero') pushExtent(out, at, r.length, 'zero');
      else await this.parentExtents(out, at, r.length);
      at += r.length;
    }
    return out;
  }

  private async parentExtents(out: DiskExtent[], at: number, length: number): Promise<void> {
    const parent = this.parts.parent;
    const inside = parent ? Math.max(0, Math.min(length, parent.size - at)) : 0;
    if (parent && inside > 0) for (const e of await parent.extents(at, inside)) pushExtent(out, e.offset, e.length, e.kind);
    pushExtent(out, at + inside, length - inside, 'unallocated');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.parts.files) await f.close().catch(() => {});
    await this.parts.parent?.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new AppError('INTERNAL', `disk '${this.parts.link.path}' is closed`);
  }
}

/** Rejects negative or non-integer offsets/lengths. */
export function checkArgs(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new AppError('INVALID_REQUEST', `invalid disk range offset=${offset} length=${length}`);
  }
}

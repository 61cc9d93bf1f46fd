import { open, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../../../shared/errors/app-error.js';

/**
 * Just enough VMDK to build a twin: read a disk's content id and capacity, and write an empty
 * hosted-sparse (`monolithicSparse`) child whose parent is that disk. Layout and fields follow
 * reference vmware-workstation.md §3.2–3.4 (VMware's open-vmdk header, QEMU's create layout).
 * Nothing here copies data: a child of a 1 TiB disk is a few megabytes of empty tables.
 */

/** What a twin needs to know about the disk its child will point at. */
export interface VmdkParentInfo {
  /** Content id (`CID=`), 8 lowercase hex digits. */
  cid: string;
  /** Virtual size in 512-byte sectors (header capacity or the sum of the extents). */
  capacitySectors: number;
  createType: string;
  /** `ddb.*` entries of the parent (adapter type, geometry) to carry over. */
  ddb: Record<string, string>;
}

const SECTOR = 512;
const MAGIC_KDMV = 0x564d444b;
const MAX_DESCRIPTOR_BYTES = 64 * 1024;

/** Reads the CID, capacity and type of a VMDK (sparse with embedded descriptor, or a text descriptor). */
export async function readVmdkParentInfo(path: string): Promise<VmdkParentInfo> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new AppError('DISK_PARENT_MISSING', `unable to open disk '${path}': ${(cause as Error).message}`, { cause, details: { path } });
  }
  try {
    const head = Buffer.alloc(SECTOR);
    const { bytesRead } = await fh.read(head, 0, SECTOR, 0);
    if (bytesRead >= 4 && head.readUInt32LE(0) === MAGIC_KDMV) {
      const capacity = Number(head.readBigUInt64LE(12));
      const descOff = Number(head.readBigUInt64LE(28));
      const descSize = Number(head.readBigUInt64LE(36));
      if (descOff === 0 || descSize === 0 || descSize * SECTOR > MAX_DESCRIPTOR_BYTES) {
        throw new AppError('DISK_UNSUPPORTED', `disk '${path}' has no embedded descriptor; open its descriptor file instead`);
      }
      const desc = Buffer.alloc(descSize * SECTOR);
      await fh.read(desc, 0, desc.length, descOff * SECTOR);
      const text = desc.toString('utf8').replace(/\0.*$/s, '');
      return { ...parseDescriptor(text, path), capacitySectors: capacity };
    }
    if (bytesRead >= 4 && head.subarray(0, 4).toString('latin1') === 'COWD') {
      throw new AppError('DISK_UNSUPPORTED', `disk '${path}' is an ESX vmfsSparse delta; workstation twins need hosted disks`);
    }
    const buf = Buffer.alloc(MAX_DESCRIPTOR_BYTES);
    const r = await fh.read(buf, 0, buf.length, 0);
    // QEMU pads a rewritten descriptor file with NULs; the text ends at the first one.
    const raw = buf.subarray(0, r.bytesRead);
    const nul = raw.indexOf(0);
    const text = (nul >= 0 ? raw.subarray(0, nul) : raw).toString('utf8');
    if (!/^\s*#\s*Disk DescriptorFile/i.test(text) && !/createType\s*=/i.test(text)) {
      throw new AppError('DISK_FORMAT_UNKNOWN', `'${path}' is neither a vmdk descriptor nor a hosted sparse vmdk`);
    }
    const info = parseDescriptor(text, path);
    if (info.capacitySectors <= 0) throw new AppError('DISK_CORRUPT', `vmdk descriptor '${path}' lists no extents`);
    return info;
  } finally {
    await fh.close();
  }
}

function parseDescriptor(text: string, path: string): VmdkParentInfo {
  const cid = /^\s*CID\s*=\s*([0-9a-fA-F]{1,8})\s*$/im.exec(text)?.[1];
  if (!cid) throw new AppError('DISK_CORRUPT', `vmdk descriptor of '${path}' has no CID`);
  const createType = /^\s*createType\s*=\s*"([^"]*)"/im.exec(text)?.[1] ?? 'unknown';
  let capacity = 0;
  for (const m of text.matchAll(/^\s*(RW|RDONLY|NOACCESS)\s+(\d+)\s+\w+/gim)) capacity += Number(m[2]);
  const ddb: Record<string, string> = {};
  for (const m of text.matchAll(/^\s*(ddb\.(?:adapterType|geometry\.\w+|virtualHWVersion))\s*=\s*"([^"]*)"/gim)) ddb[m[1]!] = m[2]!;
  return { cid: cid.toLowerCase().padStart(8, '0'), capacitySectors: capacity, createType, ddb };
}

/** Options of writeSparseChild. */
export interface SparseChildOptions {
  /** Where the child goes (a new file; an existing one is refused). */
  path: string;
  /** `parentFileNameHint`: the parent's path, absolute or relative to the child's folder. */
  parentHint: string;
  parent: VmdkParentInfo;
}

/**
 * Writes an empty monolithicSparse VMDK whose reads fall through to `parent` (parentCID = the
 * parent's CID). Refuses hints containing `"` or line breaks (the descriptor cannot quote them).
 */
export async function writeSparseChild(opts: SparseChildOptions): Promise<void> {
  if (/["\r\n\x00]/.test(opts.parentHint)) {
    throw new AppError('PATH_UNSAFE', `disk path '${opts.parentHint}' contains a quote or line break, which a vmdk descriptor cannot hold; rename the vm folder`);
  }
  const capacity = opts.parent.capacitySectors;
  const grain = 128;
  const gtes = 512;
  const gtCount = Math.ceil(capacity / (gtes * grain));
  const gdSectors = Math.ceil((gtCount * 4) / SECTOR);
  const gtSectors = (gtes * 4) / SECTOR;
  const descOffset = 1;
  const descSize = 20;
  const rgdOffset = descOffset + descSize;
  const rgtStart = rgdOffset + gdSectors;
  const gdOffset = rgtStart + gtCount * gtSectors;
  const gtStart = gdOffset + gdSectors;
  const overhead = Math.ceil((gtStart + gtCount * gtSectors) / grain) * grain;

  const header = Buffer.alloc(SECTOR);
  header.writeUInt32LE(MAGIC_KDMV, 0);
  header.writeUInt32LE(1, 4); // version
  header.writeUInt32LE(0b11, 8); // valid newline test + redundant grain directory
  header.writeBigUInt64LE(BigInt(capacity), 12);
  header.writeBigUInt64LE(BigInt(grain), 20);
  header.writeBigUInt64LE(BigInt(descOffset), 28);
  header.writeBigUInt64LE(BigInt(descSize), 36);
  header.writeUInt32LE(gtes, 44);
  header.writeBigUInt64LE(BigInt(rgdOffset), 48);
  header.writeBigUInt64LE(BigInt(gdOffset), 56);
  header.writeBigUInt64LE(BigInt(overhead), 64);
  header.writeUInt8(0, 72);
  header.write('\n \r\n', 73, 'latin1');

  const cid = randomBytes(4).toString('hex');
  const ddb = { 'ddb.virtualHWVersion': '4', 'ddb.adapterType': 'lsilogic', ...opts.parent.ddb };
  const desc = [
    '# Disk DescriptorFile',
    'version=1',
    'encoding="UTF-8"',
    `CID=${cid}`,
    `parentCID=${opts.parent.cid}`,
    'createType="monolithicSparse"',
    `parentFileNameHint="${opts.parentHint}"`,
    '',
    '# Extent description',
    `RW ${capacity} SPARSE "${basename(opts.path)}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    ...Object.entries(ddb).map(([k, v]) => `${k} = "${v}"`),
    '',
  ].join('\n');
  const descBuf = Buffer.from(desc, 'utf8');
  if (descBuf.length > descSize * SECTOR) {
    throw new AppError('PATH_UNSAFE', `disk path '${opts.parentHint}' is too long for a vmdk descriptor`);
  }

  const gd = Buffer.alloc(gdSectors * SECTOR);
  const rgd = Buffer.alloc(gdSectors * SECTOR);
  for (let i = 0; i < gtCount; i++) {
    gd.writeUInt32LE(gtStart + i * gtSectors, i * 4);
    rgd.writeUInt32LE(rgtStart + i * gtSectors, i * 4);
  }

  await writeFile(opts.path, Buffer.alloc(0), { flag: 'wx' });
  const fh = await open(opts.path, 'r+');
  try {
    await fh.truncate(overhead * SECTOR);
    await fh.write(header, 0, SECTOR, 0);
    await fh.write(descBuf, 0, descBuf.length, descOffset * SECTOR);
    await fh.write(rgd, 0, rgd.length, rgdOffset * SECTOR);
    await fh.write(gd, 0, gd.length, gdOffset * SECTOR);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

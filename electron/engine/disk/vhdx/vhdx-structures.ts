import { crc32c } from '../core/crc32c.js';
import { checkRange, corrupt } from '../core/disk-error.js';
import type { FileSource } from '../core/file-source.js';
import { guidToString, isNullGuid } from '../core/guid.js';

/** Well-known VHDX GUIDs (MS-VHDX §2.2–2.6). */
export const VHDX_GUID = {
  bat: '2DC27766-F623-4200-9D64-115E9BFD4A08',
  metadata: '8B7CA206-4790-4B9A-B8FE-575F050F886E',
  fileParameters: 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B',
  virtualDiskSize: '2FA54224-CD1B-4876-B211-5DBED83BF4B8',
  virtualDiskId: 'BECA12AB-B2E6-4523-93EF-C309E000C746',
  logicalSectorSize: '8141BF1D-A96F-4709-BA47-F233A8FAAB5F',
  physicalSectorSize: 'CDA348C7-445D-4471-9CC9-E9885251C556',
  parentLocator: 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C',
  parentLocatorType: 'B04AEFB7-D19E-4A81-B789-25B8E9445913',
} as const;

/** VHDX layout constants. */
export const KiB64 = 64 * 1024;
export const MiB = 1024 * 1024;
export const HEADER_OFFSETS = [64 * 1024, 128 * 1024];
export const REGION_OFFSETS = [192 * 1024, 256 * 1024];

/** A VHDX header (MS-VHDX §2.2.2). */
export interface VhdxHeader {
  sequenceNumber: bigint;
  fileWriteGuid: string;
  dataWriteGuid: string;
  logGuid: string;
  logGuidNull: boolean;
  logGuidBytes: Buffer;
  logVersion: number;
  version: number;
  logLength: number;
  logOffset: number;
  /** Which copy (0 or 1) is current. */
  index: number;
}

/** Parses one 4 KiB header; undefined when its signature or checksum is wrong. */
export function parseHeader(b: Buffer, index: number): VhdxHeader | undefined {
  if (b.toString('latin1', 0, 4) !== 'head') return undefined;
  const stored = b.readUInt32LE(4);
  const copy = Buffer.from(b);
  copy.writeUInt32LE(0, 4);
  if (crc32c(copy) !== stored) return undefined;
  return {
    sequenceNumber: b.readBigUInt64LE(8),
    fileWriteGuid: guidToString(b, 16),
    dataWriteGuid: guidToString(b, 32),
    logGuid: guidToString(b, 48),
    logGuidNull: isNullGuid(b, 48),
    logGuidBytes: Buffer.from(b.subarray(48, 64)),
    logVersion: b.readUInt16LE(64),
    version: b.readUInt16LE(66),
    logLength: b.readUInt32LE(68),
    logOffset: Number(b.readBigUInt64LE(72) > BigInt(Number.MAX_SAFE_INTEGER) ? -1n : b.readBigUInt64LE(72)),
    index,
  };
}

/** Reads both headers and returns the current one (valid, highest sequence number). */
export async function readCurrentHeader(src: FileSource): Promise<VhdxHeader> {
  const found: VhdxHeader[] = [];
  for (let i = 0; i < 2; i++) {
    if (src.size < HEADER_OFFSETS[i] + 4096) continue;
    const h = parseHeader(await src.readStrict(HEADER_OFFSETS[i], 4096, `header ${i + 1}`), i);
    if (h) found.push(h);
  }
  if (found.length === 0) corrupt(src.path, 'vhdx headers', 'neither header has a valid signature and checksum');
  found.sort((a, b) => (a.sequenceNumber > b.sequenceNumber ? -1 : a.sequenceNumber < b.sequenceNumber ? 1 : 0));
  const h = found[0];
  if (h.version !== 1) corrupt(src.path, `header ${h.index + 1}`, `unsupported version ${h.version}`);
  return h;
}

/** One region table entry. */
export interface RegionEntry {
  guid: string;
  offset: number;
  length: number;
  required: boolean;
}

/** Reads the region table (first valid copy). */
export async function readRegionTable(src: FileSource): Promise<RegionEntry[]> {
  for (let i = 0; i < 2; i++) {
    const b = await src.readStrict(REGION_OFFSETS[i], KiB64, `region table ${i + 1}`);
    if (b.toString('latin1', 0, 4) !== 'regi') continue;
    const stored = b.readUInt32LE(4);
    b.writeUInt32LE(0, 4);
    if (crc32c(b) !== stored) continue;
    const count = b.readUInt32LE(8);
    if (count > 2047) corrupt(src.path, `region table ${i + 1}`, `entry count ${count} exceeds 2047`);
    const out: RegionEntry[] = [];
    for (let e = 0; e < count; e++) {
      const o = 16 + e * 32;
      out.push({
        guid: guidToString(b, o),
        offset: checkRange(src.path, 'region table entry', 'file offset', b.readBigUInt64LE(o + 16), src.size),
        length: b.readUInt32LE(o + 24),
        required: (b.readUInt32LE(o + 28) & 1) !== 0,
      });
    }
    return out;
  }
  return corrupt(src.path, 'region tables', 'neither region table has a valid signature and checksum');
}

/** One metadata table entry with its value bytes. */
export interface MetadataItem {
  guid: string;
  isUser: boolean;
  isRequired: boolean;
  value: Buffer;
}

/** Reads the metadata table and every item's value (items are small; each is capped at 1 MiB). */
export async function readMetadata(src: FileSource, region: RegionEntry): Promise<Map<string, MetadataItem>> {
  if (region.length < KiB64) corrupt(src.path, 'metadata region', `length ${region.length} is smaller than its 64 KiB table`);
  const t = await src.readStrict(region.offset, KiB64, 'metadata table');
  if (t.toString('latin1', 0, 8) !== 'metadata') corrupt(src.path, 'metadata table', 'bad signature');
  const count = t.readUInt16LE(10);
  if (count > 2047) corrupt(src.path, 'metadata table', `entry count ${count} exceeds 2047`);
  const items = new Map<string, MetadataItem>();
  for (let e = 0; e < count; e++) {
    const o = 32 + e * 32;
    const guid = guidToString(t, o);
    const off = t.readUInt32LE(o + 16);
    const len = t.readUInt32LE(o + 20);
    const flags = t.readUInt32LE(o + 24);
    if (len > MiB || (len > 0 && (off < KiB64 || off + len > region.length))) corrupt(src.path, 'metadata table', `item ${guid} lies outside the metadata region`);
    const value = len === 0 ? Buffer.alloc(0) : await src.readStrict(region.offset + off, len, `metadata item ${guid}`);
    items.set(guid, { guid, isUser: (flags & 1) !== 0, isRequired: (flags & 4) !== 0, value });
  }
  return items;
}

/** Parses the parent locator item into its key/value pairs. */
export function parseParentLocator(value: Buffer, file: string): Map<string, string> {
  if (value.length < 20) corrupt(file, 'parent locator', 'too short');
  const type = guidToString(value, 0);
  if (type !== VHDX_GUID.parentLocatorType) corrupt(file, 'parent locator', `unknown locator type ${type}`);
  const count = value.readUInt16LE(18);
  if (20 + count * 12 > value.length) corrupt(file, 'parent locator', `${count} entries do not fit`);
  const out = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const o = 20 + i * 12;
    const ko = value.readUInt32LE(o);
    const vo = value.readUInt32LE(o + 4);
    const kl = value.readUInt16LE(o + 8);
    const vl = value.readUInt16LE(o + 10);
    if (ko + kl > value.length || vo + vl > value.length) corrupt(file, 'parent locator', `entry ${i} lies outside the item`);
    out.set(value.toString('utf16le', ko, ko + kl), value.toString('utf16le', vo, vo + vl));
  }
  return out;
}

import { ensure, fsCorrupt, u64 } from '../fs-error.js';
import { utf16le } from '../guest-fs.js';

/** Attribute type codes used by the reader. */
export const AT = {
  STANDARD_INFORMATION: 0x10,
  ATTRIBUTE_LIST: 0x20,
  FILE_NAME: 0x30,
  VOLUME_INFORMATION: 0x70,
  DATA: 0x80,
  INDEX_ROOT: 0x90,
  INDEX_ALLOCATION: 0xa0,
  BITMAP: 0xb0,
  REPARSE_POINT: 0xc0,
  END: 0xffffffff,
} as const;

/** One run of a runlist: `length` clusters at `lcn` (-1 = sparse) starting at `vcn`. */
export interface Run {
  vcn: number;
  lcn: number;
  length: number;
}

/** A parsed attribute (one segment, for non-resident attributes split across records). */
export interface NtfsAttr {
  type: number;
  name: string;
  flags: number;
  id: number;
  nonResident: boolean;
  /** Resident value. */
  value?: Buffer;
  startVcn: number;
  endVcn: number;
  runs: Run[];
  /** Sizes, meaningful only in the VCN-0 segment. */
  allocSize: number;
  dataSize: number;
  initSize: number;
  compUnit: number;
}

/** A parsed FILE record. */
export interface MftRecord {
  index: number;
  seq: number;
  flags: number;
  linkCount: number;
  /** MFT index of the base record (0 for base records). */
  base: number;
  attrs: NtfsAttr[];
}

/** Record signatures as little-endian numbers. */
const MAGIC: Record<string, number> = { FILE: 0x454c4946, INDX: 0x58444e49 };

/**
 * Applies the update-sequence fixups of a FILE/INDX record in place (512-byte strides) and
 * checks the signature. Throws FS_CORRUPT on a torn or malformed record.
 */
export function applyFixups(buf: Buffer, magic: string, what: string): void {
  // messages are built only on failure (this runs for every record of a listing)
  if (!(buf.length >= 48 && buf.readUInt32LE(0) === MAGIC[magic])) throw fsCorrupt(`${what}: missing ${magic} signature`);
  const usaOff = buf.readUInt16LE(4);
  const usaCount = buf.readUInt16LE(6);
  const strides = buf.length / 512;
  if (!(usaCount >= 1 && usaCount - 1 <= strides && usaOff % 2 === 0 && usaOff + usaCount * 2 <= buf.length)) throw fsCorrupt(`${what}: bad update sequence array`);
  const usn = buf.readUInt16LE(usaOff);
  for (let i = 1; i < usaCount; i++) {
    const end = i * 512 - 2;
    if (buf.readUInt16LE(end) !== usn) throw fsCorrupt(`${what}: torn write (update sequence mismatch in sector ${i - 1})`);
    buf.writeUInt16LE(buf.readUInt16LE(usaOff + i * 2), end);
  }
}

/** Parses a runlist starting at `off` (until the 0 terminator or `end`). */
export function parseRuns(b: Buffer, off: number, end: number, startVcn: number): Run[] {
  const runs: Run[] = [];
  let vcn = startVcn;
  let lcn = 0;
  let p = off;
  while (p < end) {
    const h = b[p];
    if (h === 0) break;
    const ls = h & 0x0f;
    const os = h >> 4;
    ensure(ls >= 1 && ls <= 8 && os <= 8 && p + 1 + ls + os <= end, 'ntfs runlist entry is malformed');
    const len = b.readUIntLE(p + 1, Math.min(ls, 6));
    ensure(ls <= 6 || b.subarray(p + 7, p + 1 + ls).every((x) => x === 0), 'ntfs run length too large');
    ensure(len > 0, 'ntfs run of zero length');
    if (os === 0) {
      runs.push({ vcn, lcn: -1, length: len });
    } else {
      ensure(os <= 6, 'ntfs run offset field too wide');
      const delta = b.readIntLE(p + 1 + ls, os);
      lcn += delta;
      ensure(lcn >= 0 && Number.isSafeInteger(lcn), 'ntfs run points before the volume start');
      runs.push({ vcn, lcn, length: len });
    }
    vcn += len;
    ensure(Number.isSafeInteger(vcn), 'ntfs runlist too long');
    p += 1 + ls + os;
    ensure(runs.length <= 1_000_000, 'ntfs runlist has too many runs');
  }
  return runs;
}

/** The (frozen, shared) runlist of resident attributes. */
const NO_RUNS: Run[] = Object.freeze([]) as unknown as Run[];

function badRecord(index: number, why: string): Error {
  return fsCorrupt(`mft record ${index}: ${why}`);
}

/**
 * Parses a FILE record whose fixups were already applied. `buf` must be a private copy: resident
 * values are views into it.
 */
export function parseRecord(buf: Buffer, index: number): MftRecord {
  // messages are built only on failure, and no closure per call (this runs for every record of a listing)
  const flags = buf.readUInt16LE(22);
  const firstAttr = buf.readUInt16LE(20);
  const used = Math.min(buf.readUInt32LE(24), buf.length);
  if (!(firstAttr >= 24 && firstAttr < used)) throw badRecord(index, `bad first attribute offset`);
  const rec: MftRecord = {
    index,
    seq: buf.readUInt16LE(16),
    flags,
    linkCount: buf.readUInt16LE(18),
    base: buf.readUInt32LE(32) + buf.readUInt16LE(36) * 0x100000000,
    attrs: [],
  };
  let p = firstAttr;
  for (let guard = 0; guard < 4096 && p + 8 <= used; guard++) {
    const type = buf.readUInt32LE(p);
    if (type === AT.END) break;
    const len = buf.readUInt32LE(p + 4);
    if (!(len >= 16 && len % 8 === 0 && p + len <= used)) throw badRecord(index, `attribute at ${p} has a bad length`);
    // fields are read at p + x straight from the record (no per-attribute Buffer view)
    const nonRes = buf[p + 8] !== 0;
    const nameLen = buf[p + 9];
    const nameOff = buf.readUInt16LE(p + 10);
    if (!(nameLen === 0 || nameOff + nameLen * 2 <= len)) throw badRecord(index, `attribute name outside the attribute`);
    const attr: NtfsAttr = {
      type,
      name: nameLen ? utf16le(buf, p + nameOff, nameLen) : '',
      flags: buf.readUInt16LE(p + 12),
      id: buf.readUInt16LE(p + 14),
      nonResident: nonRes,
      startVcn: 0,
      endVcn: -1,
      runs: NO_RUNS,
      allocSize: 0,
      dataSize: 0,
      initSize: 0,
      compUnit: 0,
    };
    if (!nonRes) {
      if (!(len >= 24)) throw badRecord(index, `resident attribute too short`);
      const vlen = buf.readUInt32LE(p + 16);
      const voff = buf.readUInt16LE(p + 20);
      if (!(voff + vlen <= len)) throw badRecord(index, `resident value outside the attribute`);
      attr.value = buf.subarray(p + voff, p + voff + vlen); // views into the record's private copy
      attr.dataSize = attr.initSize = attr.allocSize = vlen;
    } else {
      if (!(len >= 64)) throw badRecord(index, `non-resident attribute too short`);
      const what = `mft record ${index}`;
      attr.startVcn = u64(buf, p + 16, what);
      attr.endVcn = buf.readInt32LE(p + 28) < 0 ? -1 : u64(buf, p + 24, what);
      const runOff = buf.readUInt16LE(p + 32);
      attr.compUnit = buf.readUInt16LE(p + 34);
      if (!(attr.compUnit <= 16)) throw badRecord(index, `bad compression unit`);
      attr.allocSize = u64(buf, p + 40, what);
      attr.dataSize = u64(buf, p + 48, what);
      attr.initSize = u64(buf, p + 56, what);
      if (!(runOff >= 64 && runOff <= len)) throw badRecord(index, `runlist outside the attribute`);
      attr.runs = parseRuns(buf.subarray(p, p + len), runOff, len, attr.startVcn);
    }
    rec.attrs.push(attr);
    p += len;
  }
  return rec;
}

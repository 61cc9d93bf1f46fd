import { ensure, fsCorrupt } from '../fs-error.js';
import { utf16le } from '../guest-fs.js';
import { AT, applyFixups } from './ntfs-record.js';
import type { NtfsFile, NtfsVolume } from './ntfs-volume.js';

/** One filename entry of a directory index. */
export interface IndexEntry {
  ref: number;
  seq: number;
  name: string;
  namespace: number;
}

const MAX_ENTRIES = 5_000_000;

/**
 * Lists the `$I30` index of a directory: the entries of `$INDEX_ROOT` plus every in-use INDX
 * block of `$INDEX_ALLOCATION` (per `$BITMAP`; unused blocks hold stale entries). DOS-only
 * names (namespace 2) are skipped.
 */
export async function listIndex(vol: NtfsVolume, f: NtfsFile): Promise<IndexEntry[]> {
  const root = f.attrs.find((a) => a.type === AT.INDEX_ROOT && a.name === '$I30');
  if (!root?.value) return [];
  const out: IndexEntry[] = [];
  const rv = root.value;
  ensure(rv.length >= 32, `ntfs: index root of record ${f.index} too short`);
  parseNode(rv, 16, out, `index root of record ${f.index}`);
  const alloc = vol.streamOf(f, AT.INDEX_ALLOCATION, '$I30');
  if (!alloc) return out;
  const ibs = rv.readUInt32LE(8) || vol.indexBlockSize;
  ensure(ibs >= 512 && ibs <= 65536 && ibs % 512 === 0, `ntfs: bad index block size in record ${f.index}`);
  const bmp = vol.streamOf(f, AT.BITMAP, '$I30');
  const bitmap = bmp ? await bmp.read(0, Math.min(bmp.size, 1024 * 1024)) : undefined;
  // A directory's index cannot be larger than the volume, and only blocks its $BITMAP marks can
  // be in use: both bound the walk whatever a damaged size field claims.
  ensure(alloc.size <= vol.src.size, `ntfs: index allocation of record ${f.index} is larger than the volume`);
  const blocks = Math.min(Math.floor(alloc.size / ibs), bitmap ? bitmap.length * 8 : Number.MAX_SAFE_INTEGER);
  const batch = Math.max(1, Math.floor((1024 * 1024) / ibs));
  for (let b0 = 0; b0 < blocks; b0 += batch) {
    const nb = Math.min(batch, blocks - b0);
    const buf = await alloc.read(b0 * ibs, nb * ibs);
    for (let k = 0; k < nb; k++) {
      const b = b0 + k;
      if (bitmap && (b >> 3 >= bitmap.length || (bitmap[b >> 3] & (1 << (b & 7))) === 0)) continue;
      const blk = Buffer.from(buf.subarray(k * ibs, (k + 1) * ibs));
      if (blk.length < ibs || blk.toString('latin1', 0, 4) !== 'INDX') continue;
      applyFixups(blk, 'INDX', `index block ${b} of record ${f.index}`);
      parseNode(blk, 0x18, out, `index block ${b} of record ${f.index}`);
      ensure(out.length <= MAX_ENTRIES, 'ntfs: directory index too large');
    }
  }
  return out;
}

/** Parses the entries of an index node whose header starts at `hdr`. */
function parseNode(buf: Buffer, hdr: number, out: IndexEntry[], what: string): void {
  ensure(hdr + 16 <= buf.length, `${what}: node header outside the block`);
  const start = hdr + buf.readUInt32LE(hdr);
  const end = Math.min(buf.length, hdr + buf.readUInt32LE(hdr + 4));
  ensure(start >= hdr + 16 && start <= end, `${what}: bad entry offsets`);
  let p = start;
  for (let guard = 0; guard < 100_000 && p + 16 <= end; guard++) {
    const len = buf.readUInt16LE(p + 8);
    const keyLen = buf.readUInt16LE(p + 10);
    const flags = buf.readUInt16LE(p + 12);
    if (!(len >= 16 && len % 8 === 0 && p + len <= end)) throw fsCorrupt(`${what}: entry at ${p} has a bad length`);
    if (flags & 0x2) break;
    if (keyLen >= 66 && 16 + keyLen <= len) {
      const k = p + 16;
      const nameLen = buf[k + 64];
      const ns = buf[k + 65];
      if (66 + nameLen * 2 <= keyLen && ns !== 2) {
        out.push({ ref: buf.readUInt32LE(p) + buf.readUInt16LE(p + 4) * 0x100000000, seq: buf.readUInt16LE(p + 6), name: utf16le(buf, k + 66, nameLen), namespace: ns });
      }
    }
    p += len;
  }
}

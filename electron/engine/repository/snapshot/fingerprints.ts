import type { GuestId } from '../../../../shared/domain/guest-id.js';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ChunkMap } from '../index/chunk-map.js';
import { decodeFixedIndex } from '../index/fixed-index.js';
import type { RepoLayout } from '../layout.js';
import { isSnapshotId } from '../layout.js';
import { readObject, snapshotObjectName } from '../crypto/sealed-files.js';
import { decodeManifest, manifestGuestId, type ManifestDisk } from './manifest.js';

/**
 * Chunk fingerprints: how a backup knows, without SHA-256, that a chunk has not changed since the
 * previous snapshot of the same disk.
 *
 * Every backup records, beside each disk's fixed index, a fingerprint file `disks/<name>.fp`: per
 * chunk, two XXH64 hashes of its plain data under two 64-bit seeds derived from the repository's
 * secret id (128 bits; XXH64 runs ~4× faster than SHA-256 here, even with SHA extensions). The next
 * backup of that disk fingerprints each chunk it reads; when the fingerprint equals the previous
 * snapshot's at the same offset, it reuses that snapshot's SHA-256 digest (after touching the
 * chunk file, the GC mark every dedup hit makes) instead of hashing the chunk again. A changed
 * chunk is hashed, deduplicated and stored as always, so every stored chunk is still named by the
 * SHA-256 of its content and verified by it on every read.
 *
 * What this trusts: an accidental match of two 128-bit fingerprints (≈ 2⁻¹²⁸ per chunk, far
 * below the disk's own undetected error rate). The seeds never leave the host, so a guest cannot
 * craft a colliding chunk for them. Borg's and restic's "files cache" check much less: a file
 * whose size and mtime are unchanged is not read at all. Anything unexpected (no previous
 * snapshot, another chunk size, a damaged file, a missing chunk) falls back to full hashing.
 *
 * File format (version 2, sparse: only chunks that have a fingerprint; version 1, dense, is still read):
 *   0   'TSFPRT02'  magic (8 bytes)
 *   8   u32 LE      chunk size
 *   12  u32 LE      entries
 *   16  entries × 20  u32 LE chunk number ‖ XXH64(seed 1) LE ‖ XXH64(seed 2) LE; chunk numbers increasing
 *   end 32 bytes    SHA-256 of everything before it
 * Version 1 ('TSFPRT01'): `count` × 16 fingerprints, one per chunk, 16 zero bytes = none.
 */
const MAGIC_V1 = Buffer.from('TSFPRT01', 'ascii');
const MAGIC_V2 = Buffer.from('TSFPRT02', 'ascii');
const HEADER = 16;
const FP = 16;
const ENTRY = 20;

/** Fingerprint file of a disk index (`disks/<name>.fidx` → `disks/<name>.fp`). */
export function fingerprintPath(indexRel: string): string {
  return indexRel.replace(/\.fidx$/, '.fp');
}

/** The two XXH64 seeds of a repository, derived from its id (never stored). */
export function fingerprintSeeds(repoId: string): [bigint, bigint] {
  const h = createHash('sha256').update(`twinsnap chunk fingerprint\0${repoId}`).digest();
  return [h.readBigUInt64LE(0), h.readBigUInt64LE(8)];
}

/** Encodes the fingerprints a chunk map holds (data chunks that have one). */
export function encodeFingerprints(map: ChunkMap): Buffer {
  let count = 0;
  for (const c of map.dataChunks()) if (c.fp) count++; // two passes: no array of entries
  const buf = Buffer.alloc(HEADER + count * ENTRY + 32);
  MAGIC_V2.copy(buf, 0);
  buf.writeUInt32LE(map.chunkSize, 8);
  buf.writeUInt32LE(count, 12);
  let k = 0;
  for (const c of map.dataChunks()) {
    if (!c.fp) continue;
    buf.writeUInt32LE(c.chunk, HEADER + k * ENTRY);
    c.fp.copy(buf, HEADER + k * ENTRY + 4);
    k++;
  }
  createHash('sha256')
    .update(buf.subarray(0, buf.length - 32))
    .digest()
    .copy(buf, buf.length - 32);
  return buf;
}

/** A decoded fingerprint file: the chunks that have a fingerprint, in increasing chunk order. */
export interface DecodedFingerprints {
  chunkSize: number;
  /** Entries, each a chunk number and its 16-byte fingerprint (a view of the file's bytes). */
  entries(): Generator<{ chunk: number; fp: Buffer }>;
}

/** Decodes a fingerprint file of either version; undefined when it is malformed (the caller then hashes everything). */
export function decodeFingerprints(buf: Buffer): DecodedFingerprints | undefined {
  const v1 = buf.subarray(0, 8).equals(MAGIC_V1);
  if (buf.length < HEADER + 32 || (!v1 && !buf.subarray(0, 8).equals(MAGIC_V2))) return undefined;
  const chunkSize = buf.readUInt32LE(8);
  const n = buf.readUInt32LE(12);
  const entry = v1 ? FP : ENTRY;
  if (buf.length !== HEADER + n * entry + 32) return undefined;
  if (
    !createHash('sha256')
      .update(buf.subarray(0, buf.length - 32))
      .digest()
      .equals(buf.subarray(buf.length - 32))
  )
    return undefined;
  const none = Buffer.alloc(FP);
  return {
    chunkSize,
    *entries() {
      for (let k = 0; k < n; k++) {
        const at = HEADER + k * entry;
        const fp = buf.subarray(v1 ? at : at + 4, at + entry);
        if (!fp.equals(none)) yield { chunk: v1 ? k : buf.readUInt32LE(at), fp };
      }
    },
  };
}

/** What a backup may reuse from the previous snapshot of a disk: its data chunks with digest and fingerprint. */
export interface PreviousChunks {
  snapshotId: string;
  size: number;
  /** The previous index with the fingerprints attached. */
  chunks: ChunkMap;
}

/**
 * How many of the newest snapshots to look through for the guest's previous one: a weekly guest
 * among fifty backed up four times a day is ~1 400 snapshots back. Reading a manifest costs
 * ~0.1–0.2 ms, and only a guest's first backup (nothing to find) reads them all.
 */
const SEARCH_LIMIT = 2000;

/** Length of the time part of a snapshot id (`20261122T154500Z`). */
const ID_SECOND = 16;

/**
 * The newest committed snapshot of the guest `guestId` that has disk `diskName` (by freeze time; ids only
 * order to the second), if it was written with chunk size `chunkSize` and a fingerprint file;
 * else undefined. Damaged manifests, indexes or fingerprint files are skipped (the backup then
 * hashes everything, and `verify` reports the damage).
 */
export async function previousChunks(layout: RepoLayout, ids: string[], guestId: GuestId, diskName: string, chunkSize: number): Promise<PreviousChunks | undefined> {
  const newest = ids.filter(isSnapshotId).sort().reverse().slice(0, SEARCH_LIMIT);
  let best: { id: string; time: number; disk: ManifestDisk } | undefined;
  for (const id of newest) {
    // an id names its second: once past the best one's second, nothing newer can follow
    if (best && id.slice(0, ID_SECOND) !== best.id.slice(0, ID_SECOND)) break;
    try {
      const m = decodeManifest((await readObject(layout, 'manifest', snapshotObjectName(id, 'manifest.json'), layout.manifest(id))).toString('utf8'), id);
      const disk = manifestGuestId(m) === guestId ? m.disks.find((d) => d.name === diskName) : undefined;
      const time = Date.parse(m.time);
      if (disk && (!best || time > best.time)) best = { id, time, disk };
    } catch {
      // unreadable or forgotten meanwhile: look further back
    }
  }
  if (!best || best.disk.chunkSize !== chunkSize) return undefined;
  try {
    const dir = layout.snapshot(best.id);
    const fpRel = fingerprintPath(best.disk.index);
    const [ib, fb] = await Promise.all([
      readObject(layout, 'index', snapshotObjectName(best.id, best.disk.index), join(dir, best.disk.index)),
      readObject(layout, 'fingerprints', snapshotObjectName(best.id, fpRel), join(dir, fpRel)).catch(() => undefined),
    ]);
    if (!fb || createHash('sha256').update(ib).digest('hex') !== best.disk.indexSha256) return undefined;
    const idx = decodeFixedIndex(ib, `${best.id}/${diskName}`);
    const fp = decodeFingerprints(fb);
    if (!fp || fp.chunkSize !== chunkSize) return undefined;
    // fingerprints go with the index's data chunks (both in chunk order); one without an index entry is ignored
    const chunks = new ChunkMap(idx.chunkSize, idx.size);
    const fps = fp.entries();
    let next = fps.next();
    for (const c of idx.dataChunks()) {
      while (!next.done && next.value.chunk < c.chunk) next = fps.next();
      chunks.append(c.chunk, c.digest, !next.done && next.value.chunk === c.chunk ? next.value.fp : undefined);
    }
    return { snapshotId: best.id, size: idx.size, chunks };
  } catch {
    return undefined;
  }
}

/**
 * Changed-chunk detection by fingerprint (repository/snapshot/fingerprints.ts): a second backup
 * reuses the previous digest of every unchanged chunk without SHA-256, and must still record
 * exactly the name of every chunk of the disk. The oracle is an independent SHA-256 (HMAC-SHA256
 * under the key in an encrypted repository) of each MiB of the image, and a full verify +
 * byte-identical export. The backups run on both kinds of repository.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Repository } from '../../electron/engine/repository/repository.js';
import { REPO_KINDS, chunkNameOracle, initTestRepository } from '../helpers/test-repository.js';
import { ChunkMap } from '../../electron/engine/repository/index/chunk-map.js';
import { decodeFingerprints, encodeFingerprints, fingerprintSeeds, previousChunks } from '../../electron/engine/repository/snapshot/fingerprints.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';
import { nameGuestId } from '../../shared/domain/guest-id.js';

const MiB = 1024 * 1024;
let dir: string;
let repo: Repository;

/**
 * The name of every MiB of the file (null for an all-zero MiB): what the index must hold —
 * SHA-256, or in an encrypted repository HMAC-SHA256 under its chunk-name key (computed here).
 */
function expectedDigests(file: string): (string | null)[] {
  const name = chunkNameOracle(repo);
  const b = readFileSync(file);
  const out: (string | null)[] = [];
  for (let off = 0; off < b.length; off += MiB) {
    const c = b.subarray(off, Math.min(off + MiB, b.length));
    out.push(c.every((x) => x === 0) ? null : name(c));
  }
  return out;
}

function patch(file: string, offset: number, data: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, data, 0, data.length, offset);
  closeSync(fd);
}

async function backup(img: string, guest = 'fp') {
  const disk = await RawFileDisk.open(img);
  try {
    const s = await repo.createSnapshot({ guest, consistency: 'cold', disks: [{ name: 'disk0', disk }] });
    const m = await repo.readManifest(s.id);
    return { id: s.id, disk: m.disks[0]!, digests: (await repo.readIndex(m, 'disk0')).toArray() };
  } finally {
    await disk.close();
  }
}

async function exportMatches(id: string, img: string): Promise<boolean> {
  const out = join(dir, `export-${id}.img`);
  await repo.exportDisk(id, 'disk0', { to: out, format: 'raw' });
  const same = readFileSync(out).equals(readFileSync(img));
  rmSync(out);
  return same;
}

describe('fingerprint file', () => {
  it('round-trips and rejects any damage', () => {
    const fps = [null, 'a'.repeat(32), '0123456789abcdef'.repeat(2), null];
    const map = new ChunkMap(MiB, 4 * MiB);
    fps.forEach((fp, i) => fp && map.append(i, 'f'.repeat(64), fp));
    const buf = encodeFingerprints(map);
    const decoded = decodeFingerprints(buf);
    expect(decoded?.chunkSize).toBe(MiB);
    expect([...decoded!.entries()].map((e) => [e.chunk, e.fp.toString('hex')])).toEqual([
      [1, fps[1]],
      [2, fps[2]],
    ]);
    for (const at of [0, 9, 20, buf.length - 1]) {
      const bad = Buffer.from(buf);
      bad[at]! ^= 1;
      expect(decodeFingerprints(bad), `flip at ${at}`).toBeUndefined();
    }
    expect(decodeFingerprints(buf.subarray(0, buf.length - 1))).toBeUndefined();
  });

  it('seeds depend on the repository id', () => {
    expect(fingerprintSeeds('a')).not.toEqual(fingerprintSeeds('b'));
    expect(fingerprintSeeds('a')).toEqual(fingerprintSeeds('a'));
  });
});

// the backups run on a plain and on an encrypted repository (sealed fingerprint files, HMAC chunk names)
describe.each(REPO_KINDS)('%s repository', (kind) => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ts-fp-'));
    repo = await initTestRepository(join(dir, 'repo'), kind, { workers: 2 });
  });
  afterAll(async () => {
    await repo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('the previous snapshot of a disk', () => {
    it('is the newest by freeze time, also among snapshots of the same second (ids order only to the second)', async () => {
      const img = join(dir, 'same-second.img');
      writeFileSync(img, randomBytes(MiB));
      const t = Date.UTC(2026, 10, 22, 12, 0, 0);
      const ids: string[] = [];
      for (const ms of [100, 900, 500]) {
        const disk = await RawFileDisk.open(img);
        try {
          ids.push((await repo.createSnapshot({ guest: 'same-second', consistency: 'cold', timeMs: t + ms, disks: [{ name: 'disk0', disk }] })).id);
        } finally {
          await disk.close();
        }
      }
      for (let k = 0; k < 3; k++) {
        // whatever order the ids' random suffixes give, the 900 ms one is the newest
        const shuffled = [...ids].sort(() => Math.random() - 0.5);
        expect((await previousChunks(repo.layout, shuffled, nameGuestId('same-second'), 'disk0', MiB))?.snapshotId).toBe(ids[1]);
      }
      expect(await previousChunks(repo.layout, await repo.snapshotIds(), nameGuestId('same-second'), 'disk1', MiB)).toBeUndefined();
      expect(await previousChunks(repo.layout, await repo.snapshotIds(), nameGuestId('same-second'), 'disk0', 2 * MiB)).toBeUndefined();
    });
  });

  describe('a second backup of a changed disk', () => {
    it('reuses the digests of unchanged chunks only, and records the name (SHA-256, or HMAC when encrypted) of every chunk', async () => {
      const img = join(dir, 'a.img');
      writeFileSync(img, Buffer.concat([randomBytes(6 * MiB), Buffer.alloc(2 * MiB), randomBytes(MiB / 2)]));
      const first = await backup(img);
      expect(first.disk.unchangedChunks).toBeUndefined();
      expect(first.digests).toEqual(expectedDigests(img));

      // one byte in chunk 1, 64 KiB in chunk 4, a chunk made of zeros made data, one chunk zeroed
      patch(img, MiB + 12345, Buffer.from([0x5a ^ readFileSync(img)[MiB + 12345]!]));
      patch(img, 4 * MiB + 65536, randomBytes(65536));
      patch(img, 6 * MiB + 10, Buffer.from('now data'));
      patch(img, 2 * MiB, Buffer.alloc(MiB));
      const second = await backup(img);
      const want = expectedDigests(img);
      expect(second.digests).toEqual(want);
      // data chunks 0..5 + 6 + 8 (tail); chunk 2 is zero now; changed: 1, 4, 6 → reused: 0, 3, 5, 8
      expect(second.disk.unchangedChunks).toBe(4);
      expect(second.digests[0]).toBe(first.digests[0]);
      expect(second.digests[1]).not.toBe(first.digests[1]);

      const third = await backup(img);
      expect(third.digests).toEqual(want);
      expect(third.disk.unchangedChunks).toBe(want.filter(Boolean).length);
      expect(third.disk.newBytes).toBe(0);

      const v = await repo.verify({ full: true });
      expect(v.ok).toBe(true);
      expect(await exportMatches(third.id, img)).toBe(true);
    });

    it('stores a chunk again when the reused chunk file has gone missing', async () => {
      const img = join(dir, 'b.img');
      writeFileSync(img, randomBytes(3 * MiB));
      const first = await backup(img, 'fp-missing');
      const lost = first.digests[1]!;
      unlinkSync(join(dir, 'repo', 'chunks', lost.slice(0, 2), lost.slice(2, 4), lost));
      const second = await backup(img, 'fp-missing');
      expect(second.digests).toEqual(expectedDigests(img));
      expect(second.disk.unchangedChunks).toBe(2);
      expect(second.disk.newBytes).toBeGreaterThan(MiB);
      expect(readFileSync(join(dir, 'repo', 'chunks', lost.slice(0, 2), lost.slice(2, 4), lost)).length).toBeGreaterThan(MiB);
      expect(await exportMatches(second.id, img)).toBe(true);
    });

    it('hashes everything when the previous fingerprint file is damaged, and is still right', async () => {
      const img = join(dir, 'c.img');
      writeFileSync(img, randomBytes(3 * MiB));
      const first = await backup(img, 'fp-damaged');
      const fpFile = join(dir, 'repo', 'snapshots', first.id, 'disks', 'disk0.fp');
      const b = readFileSync(fpFile);
      b[20]! ^= 0xff;
      writeFileSync(fpFile, b);
      patch(img, 0, randomBytes(100));
      const second = await backup(img, 'fp-damaged');
      expect(second.disk.unchangedChunks).toBeUndefined();
      expect(second.digests).toEqual(expectedDigests(img));
    });

    it('reuses nothing across guests, and handles a grown disk whose old tail chunk was partial', async () => {
      const img = join(dir, 'd.img');
      writeFileSync(img, randomBytes(2 * MiB + MiB / 2));
      await backup(img, 'fp-grow');
      const other = await backup(img, 'fp-other-guest');
      expect(other.disk.unchangedChunks).toBeUndefined();
      // grow: the old partial tail chunk now holds more data at the same offset
      const fd = openSync(img, 'r+');
      writeSync(fd, randomBytes(MiB), 0, MiB, 2 * MiB + MiB / 2);
      closeSync(fd);
      const grown = await backup(img, 'fp-grow');
      expect(grown.digests).toEqual(expectedDigests(img));
      expect(grown.disk.unchangedChunks).toBe(2);
      expect(await exportMatches(grown.id, img)).toBe(true);
    });
  });
});

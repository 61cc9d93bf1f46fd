/**
 * Reliability: flipped bytes in chunks, indexes and manifests, and missing chunks. verify must
 * name exactly the damaged snapshots; restoring a damaged one fails loudly and leaves nothing;
 * the others still restore byte-identical (sha256 oracle).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Repository } from '../../electron/engine/repository/repository.js';
import { REPO_KINDS, initTestRepository } from '../helpers/test-repository.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let dir: string;
let repo: Repository;
/** guest → [snapshot id, source image sha] */
let snaps: Record<string, { id: string; sha: string }>;
let shared: Buffer;

function flip(file: string, at?: number): void {
  const b = readFileSync(file);
  const pos = at ?? Math.floor(b.length / 2);
  b[pos] = b[pos]! ^ 0x5a;
  writeFileSync(file, b);
}

/** A chunk's name in `repo`: SHA-256, or HMAC-SHA256 under the key of an encrypted repository. */
const chunkNameOf = (b: Buffer) => repo.layout.keys?.chunkName(b) ?? sha(b);

async function digestsOf(id: string): Promise<string[]> {
  return [...(await repo.referencedDigests(id))];
}

// every test runs on a plain and on an encrypted repository
describe.each(REPO_KINDS)('%s repository', (kind) => {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ts-dmg-'));
    repo = await initTestRepository(join(dir, 'repo'), kind, { workers: 2 });
    shared = randomBytes(MiB);
    snaps = {};
    for (const g of ['a', 'b', 'c', 'd']) {
      // each guest: one shared chunk, two own chunks, a zero chunk
      const img = Buffer.concat([shared, randomBytes(2 * MiB), Buffer.alloc(MiB)]);
      const f = join(dir, `${g}.img`);
      writeFileSync(f, img);
      const disk = await RawFileDisk.open(f);
      const s = await repo.createSnapshot({
        guest: g,
        consistency: 'crash',
        pauseMs: 40,
        configFiles: [{ name: `${g}.vmx`, data: `displayName = "${g}"` }],
        disks: [{ name: 'disk', disk, fileName: `${g}.img`, sourceFormat: 'raw' }],
      });
      await disk.close();
      snaps[g] = { id: s.id, sha: sha(img) };
    }
  });
  afterEach(async () => {
    await repo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ownChunk(g: string): Promise<string> {
    const sharedDigest = chunkNameOf(shared);
    return (await digestsOf(snaps[g]!.id)).find((d) => d !== sharedDigest)!;
  }

  async function expectRestores(g: string): Promise<void> {
    const to = join(dir, `restore-${g}-${randomBytes(2).toString('hex')}`);
    await repo.restoreSnapshot(snaps[g]!.id, { to });
    expect(sha(readFileSync(join(to, `${g}.img`)))).toBe(snaps[g]!.sha);
  }

  async function expectRestoreFails(g: string, code: string): Promise<void> {
    const to = join(dir, `restore-${g}-${randomBytes(2).toString('hex')}`);
    await expect(repo.restoreSnapshot(snaps[g]!.id, { to })).rejects.toMatchObject({ code });
    expect(existsSync(to)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith(`restore-${g}`))).toEqual([]);
  }

  describe('damage detection', () => {
    it('a flipped byte in a chunk: full verify names its snapshot, restore of it fails, others restore', async () => {
      const c = await ownChunk('a');
      flip(repo.layout.chunk(c));
      expect((await repo.verify()).ok).toBe(true); // fast verify only checks presence
      const v = await repo.verify({ full: true });
      expect(v.damaged).toEqual([snaps.a!.id]);
      expect(v.details[0]!.problems.join()).toContain(c);
      await expectRestoreFails('a', 'CHUNK_CORRUPT');
      for (const g of ['b', 'c', 'd']) await expectRestores(g);
    });

    it('a damaged shared chunk names every snapshot that uses it', async () => {
      flip(repo.layout.chunk(chunkNameOf(shared)), 20);
      const v = await repo.verify({ full: true });
      expect(v.damaged).toEqual(
        Object.values(snaps)
          .map((s) => s.id)
          .sort(),
      );
    });

    it('a flipped byte in a chunk header or a truncated chunk is caught too', async () => {
      flip(repo.layout.chunk(await ownChunk('b')), 5);
      const f = repo.layout.chunk(await ownChunk('c'));
      writeFileSync(f, readFileSync(f).subarray(0, 100));
      expect((await repo.verify({ full: true })).damaged).toEqual([snaps.b!.id, snaps.c!.id].sort());
    });

    it('a missing chunk: fast verify names its snapshot; restore fails with CHUNK_MISSING', async () => {
      unlinkSync(repo.layout.chunk(await ownChunk('c')));
      expect((await repo.verify()).damaged).toEqual([snaps.c!.id]);
      await expectRestoreFails('c', 'CHUNK_MISSING');
      await expectRestores('d');
    });

    it.each([8, 40, -10])('a flipped byte at %i in an index names its snapshot (fast verify)', async (pos) => {
      const f = join(repo.layout.snapshot(snaps.b!.id), 'disks', 'disk.fidx');
      const len = readFileSync(f).length;
      flip(f, pos < 0 ? len + pos : pos);
      expect((await repo.verify()).damaged).toEqual([snaps.b!.id]);
      await expectRestoreFails('b', 'MANIFEST_CORRUPT');
      await expectRestores('a');
    });

    it.each(['"guest"', '"size"', '"consistency"', 'digest'])('a flipped byte near %s in a manifest names its snapshot', async (needle) => {
      const f = repo.layout.manifest(snaps.d!.id);
      const text = readFileSync(f, 'latin1');
      flip(f, text.indexOf(needle) + needle.length + 3);
      const v = await repo.verify();
      expect(v.damaged).toEqual([snaps.d!.id]);
      await expectRestoreFails('d', 'MANIFEST_CORRUPT');
      await expectRestores('c');
    });

    it('a damaged configuration file is reported and blocks a whole-VM restore', async () => {
      flip(join(repo.layout.snapshot(snaps.a!.id), 'config', 'a.vmx'), 2);
      expect((await repo.verify()).damaged).toEqual([snaps.a!.id]);
      await expectRestoreFails('a', 'MANIFEST_CORRUPT');
    });

    it('several kinds of damage at once are all named, undamaged snapshots are not', async () => {
      flip(repo.layout.chunk(await ownChunk('a')));
      flip(join(repo.layout.snapshot(snaps.b!.id), 'disks', 'disk.fidx'), 50);
      flip(repo.layout.manifest(snaps.c!.id), 30);
      const v = await repo.verify({ full: true });
      expect(v.damaged).toEqual([snaps.a!.id, snaps.b!.id, snaps.c!.id].sort());
      await expectRestores('d');
    });
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferSource } from '../../electron/engine/fs/byte-source.js';
import { mountVolume } from '../../electron/engine/fs/mount.js';
import { SnapshotBrowser } from '../../electron/engine/fs/snapshot-browser.js';
import { ensureFsFixtures, type FsFixtures } from '../fixtures/fs/fs-fixtures.js';
import { REPO_KINDS, snapshotDisksOf } from '../helpers/test-repository.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let fx: FsFixtures;
let b: SnapshotBrowser;
const tmp = makeTempDir('twinsnap-fs-features-');

beforeAll(() => {
  fx = ensureFsFixtures();
}, 600_000);
afterAll(() => tmp.cleanup());

/** Sets the dirty bit of $VOLUME_INFORMATION in an in-memory copy of an NTFS volume. */
function markNtfsDirty(img: Buffer): Buffer {
  const out = Buffer.from(img);
  const cs = out.readUInt16LE(11) * out[13];
  const rsRaw = out.readInt8(64);
  const rs = rsRaw > 0 ? rsRaw * cs : 2 ** -rsRaw;
  const rec = Number(out.readBigUInt64LE(48)) * cs + 3 * rs;
  for (let p = rec + out.readUInt16LE(rec + 20); out.readUInt32LE(p) !== 0xffffffff; p += out.readUInt32LE(p + 4)) {
    if (out.readUInt32LE(p) === 0x70) {
      const v = p + out.readUInt16LE(p + 20);
      out[v + 10] |= 1;
      return out;
    }
  }
  throw new Error('no $VOLUME_INFORMATION');
}

// browsing reads the NTFS disk back from a plain and from an encrypted repository it was backed up into
describe.each(REPO_KINDS)('ntfs details, %s repository', { timeout: 120_000 }, (kind) => {
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const src = await snapshotDisksOf(kind, join(tmp.path, kind), [{ name: 'vm', path: fx.ntfs }]);
    close = src.close;
    b = new SnapshotBrowser([{ name: 'vm', disk: src.disks.get('vm')! }]);
  }, 120_000);
  afterAll(async () => close?.());

  it('lists the 10 000-entry folder (index allocation) completely and in order', async () => {
    const l = await b.list('vm/p0/many');
    expect(l.entries).toHaveLength(10000);
    expect(new Set(l.entries.map((e) => e.name)).size).toBe(10000);
    expect(l.entries.find((e) => e.name === 'file01000.txt')).toMatchObject({ type: 'file', size: 11 });
  });

  it('looks names up case-insensitively, exposes ADS, links and reparse points', async () => {
    expect((await b.read('vm/p0/HELLO.TXT')).data.toString()).toBe('hello world\n');
    const ads = await b.stat('vm/p0/ads.txt');
    expect(ads.streams?.sort()).toEqual(['big', 'secret']);
    expect((await b.stat('vm/p0/ads.txt:big')).size).toBe(70_000);
    expect((await b.stat('vm/p0/manyads.txt')).streams).toHaveLength(30);
    expect((await b.read('vm/p0/manyads.txt:s29')).data.toString()).toBe('stream 29 '.repeat(20));
    expect(await b.stat('vm/p0/winlink')).toMatchObject({ type: 'symlink', target: 'C:\\Windows\\notepad.exe' });
    expect(await b.stat('vm/p0/rel-link')).toMatchObject({ type: 'symlink', target: 'hello.txt' });
    const links = await b.list('vm/p0/links');
    expect(links.entries).toHaveLength(41);
    expect(new Set(links.entries.map((e) => e.size))).toEqual(new Set([150]));
    expect((await b.read('vm/p0/ユニコード/😀 émoji.txt')).data.toString()).toBe('emoji\n');
    expect((await b.list('vm/p0')).entries.some((e) => e.name.startsWith('$'))).toBe(false);
  });

  it('reads sparse, compressed and partial ranges', async () => {
    const sp = await b.read('vm/p0/sparse.bin', 5 * 1024 * 1024 - 4, 12);
    expect(sp.data.subarray(0, 4).every((x) => x === 0)).toBe(true);
    expect(sp.data.subarray(4).toString()).toBe('data in ');
    const c = await b.read('vm/p0/comp/compressible.txt', 100_000, 200);
    expect(c.data.toString()).toContain('the quick brown fox');
    const tail = await b.read('vm/p0/comp/sparse-compressed.bin', 3 * 1024 * 1024, 10);
    expect(tail.data.toString()).toBe('endendende');
    const end = await b.read('vm/p0/hello.txt', 100, 10);
    expect(end).toMatchObject({ size: 12, eof: true });
    expect(end.data.length).toBe(0);
    await expect(b.read('vm/p0/docs')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(b.read('vm/p0/nothing/here')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(b.read('vm/p0/ads.txt:nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('finds with a glob and a limit', async () => {
    expect(await b.find('file0999?.txt', 100)).toHaveLength(10);
    expect(await b.find('*.txt', 3)).toHaveLength(3);
    expect((await b.find('bottom.txt')).map((e) => e.path)).toEqual([`vm/p0/deep/${Array.from({ length: 25 }, (_, i) => `level${String(i).padStart(2, '0')}`).join('/')}/bottom.txt`]);
  });
});

describe('ntfs volume state', { timeout: 120_000 }, () => {
  it('warns when the volume is dirty (unreplayed $LogFile) but still browses it', async () => {
    const clean = await mountVolume(new BufferSource(readFileSync(fx.partNtfs)), 'd/p1');
    expect(clean.warnings).toEqual([]);
    const dirty = await mountVolume(new BufferSource(markNtfsDirty(readFileSync(fx.partNtfs))), 'd/p1');
    expect(dirty.supported).toBe(true);
    expect(dirty.warnings.join()).toMatch(/marked dirty.*may be missing/);
    expect((await dirty.fs!.readdir(await dirty.fs!.root())).map((e) => e.name)).toContain('hello.txt');
  });
});

describe('ntfs valid data length', { timeout: 120_000 }, () => {
  it('reads bytes past the initialized size as zeros', async () => {
    const orig = readFileSync(fx.partNtfs);
    const m = await mountVolume(new BufferSource(orig), 'x');
    const fs = m.fs!;
    const docs = (await fs.readdir(await fs.root())).find((e) => e.name === 'docs')!;
    const sub = (await fs.readdir(docs)).find((e) => e.name === 'sub dir')!;
    const node = (await fs.readdir(sub)).find((e) => e.name === 'random.bin')!;
    const want = await (await fs.open(node)).read(0, 4096);
    const idx = Number(node.key.split(':')[1]);
    const img = Buffer.from(orig);
    const cs = img.readUInt16LE(11) * img[13];
    const rec = Number(img.readBigUInt64LE(48)) * cs + idx * 1024;
    let patched = false;
    for (let p = rec + img.readUInt16LE(rec + 20); img.readUInt32LE(p) !== 0xffffffff; p += img.readUInt32LE(p + 4)) {
      if (img.readUInt32LE(p) === 0x80 && img[p + 8] === 1) {
        img.writeBigUInt64LE(1000n, p + 56);
        patched = true;
      }
    }
    expect(patched).toBe(true);
    const m2 = await mountVolume(new BufferSource(img), 'x');
    const fs2 = m2.fs!;
    const d2 = (await fs2.readdir(await fs2.root())).find((e) => e.name === 'docs')!;
    const s2 = (await fs2.readdir(d2)).find((e) => e.name === 'sub dir')!;
    const n2 = (await fs2.readdir(s2)).find((e) => e.name === 'random.bin')!;
    expect(n2.size).toBe(300_000);
    const got = await (await fs2.open(n2)).read(0, 4096);
    expect(got.subarray(0, 1000).equals(want.subarray(0, 1000))).toBe(true);
    expect(got.subarray(1000).every((x) => x === 0)).toBe(true);
    expect(want.subarray(1000).every((x) => x === 0)).toBe(false);
  });
});

describe('ext and exfat details', { timeout: 120_000 }, () => {
  it('warns on an ext journal that needs recovery', async () => {
    const img = Buffer.from(readFileSync(fx.partExt4));
    expect((await mountVolume(new BufferSource(img), 'x')).warnings).toEqual([]);
    img.writeUInt32LE(img.readUInt32LE(1024 + 0x60) | 0x4, 1024 + 0x60);
    const m = await mountVolume(new BufferSource(img), 'x');
    expect(m.supported).toBe(true);
    expect(m.warnings.join()).toMatch(/journal needs recovery/);
  });

  it('warns on a dirty exfat volume', async () => {
    const img = Buffer.from(readFileSync(fx.partExfat));
    img[106] |= 2;
    expect((await mountVolume(new BufferSource(img), 'x')).warnings.join()).toMatch(/exfat volume is marked dirty/);
  });

  it('a garbage volume is listed as unknown, never an error', async () => {
    const m = await mountVolume(new BufferSource(Buffer.alloc(1 << 20, 0x5a)), 'x');
    expect(m).toMatchObject({ fsType: 'unknown', supported: false });
    const ntfsBroken = Buffer.from(readFileSync(fx.partNtfs).subarray(0, 1 << 20));
    ntfsBroken.writeBigUInt64LE(10n ** 12n, 48); // $MFT far outside the volume
    const nb = await mountVolume(new BufferSource(ntfsBroken), 'x');
    expect(nb).toMatchObject({ fsType: 'ntfs', supported: false });
    expect(nb.warnings.join()).toMatch(/could not be opened/);
  });
});

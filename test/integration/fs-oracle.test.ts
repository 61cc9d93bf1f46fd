import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotBrowser } from '../../electron/engine/fs/snapshot-browser.js';
import { ensureFsFixtures, type FsFixtures } from '../fixtures/fs/fs-fixtures.js';
import { REPO_KINDS, snapshotDisksOf } from '../helpers/test-repository.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { debugfsNames, mmlsPartitions, tskHash, tskList, tskName } from './fs-oracle-helpers.js';

let fx: FsFixtures;
let browser: SnapshotBrowser;
let ntfsSize = 0;
const tmp = makeTempDir('twinsnap-fs-oracle-');
afterAll(() => tmp.cleanup());

/** The ext volumes as stand-alone images, for debugfs. */
const EXT_PART: Record<string, string> = { 'gpt/p3': 'part-ext4.img', 'mbr/p5': 'part-ext2.img', 'mbr/p6': 'part-ext4i.img' };

const imgOf = (disk: string) => ({ ntfs: fx.ntfs, gpt: fx.gpt, mbr: fx.mbr, gpt4k: fx.gpt4k })[disk as 'ntfs']!;

async function sha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of browser.stream(path)) h.update(c);
  return h.digest('hex');
}

// The file systems are read from the snapshot disks of a plain and of an encrypted repository the
// images were backed up into (every chunk through the index, decryption and the chunk cache); the
// TSK oracle's answers are the same for both and computed once (fs-oracle-helpers.ts memoizes them).
describe.each(REPO_KINDS)('%s repository', (kind) => {
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    fx = ensureFsFixtures();
    const names = ['ntfs', 'gpt', 'mbr', 'gpt4k'] as const;
    const src = await snapshotDisksOf(
      kind,
      join(tmp.path, kind),
      names.map((name) => ({ name, path: imgOf(name) })),
    );
    close = src.close;
    ntfsSize = src.disks.get('ntfs')!.size;
    browser = new SnapshotBrowser(names.map((name) => ({ name, disk: src.disks.get(name)! })));
  }, 600_000);
  afterAll(async () => close?.());

  describe('partition tables match mmls', () => {
    it.each([
      ['gpt', 512, ['p1', 'p2', 'p3', 'p4', 'p5']],
      ['mbr', 512, ['p1', 'p2', 'p5', 'p6']],
      ['gpt4k', 4096, ['p1']],
    ] as const)('%s', async (disk, ss, names) => {
      const table = await browser.partitions(disk);
      expect(table.sectorSize).toBe(ss);
      expect(table.partitions.map((p) => p.name)).toEqual(names);
      const rows = mmlsPartitions(imgOf(disk), ss).filter((r) => !/Meta|Unallocated|Extended|Table|Safety|GPT/.test(r.desc));
      expect(table.partitions.map((p) => [p.offset / ss, p.size / ss])).toEqual(rows.map((r) => [r.start, r.length]));
    });

    it('a whole-disk filesystem is p0 and unknown filesystems are listed, not errors', async () => {
      expect((await browser.list('ntfs')).entries).toMatchObject([{ name: 'p0', fsType: 'ntfs', supported: true, size: ntfsSize }]);
      const gpt = await browser.list('gpt');
      expect(gpt.entries.map((e) => [e.name, e.fsType, e.supported])).toEqual([
        ['p1', 'ntfs', true],
        ['p2', 'fat32', true],
        ['p3', 'ext4', true],
        ['p4', 'exfat', true],
        ['p5', 'xfs', false],
      ]);
      expect(gpt.warnings.join('\n')).toMatch(/p5: xfs is not supported yet/);
      expect((await browser.list('gpt/p5')).entries).toEqual([]);
    });
  });

  const VOLUMES: [string, string][] = [
    ['ntfs', 'p0'],
    ['gpt', 'p1'],
    ['gpt', 'p2'],
    ['gpt', 'p3'],
    ['gpt', 'p4'],
    ['mbr', 'p1'],
    ['mbr', 'p2'],
    ['mbr', 'p5'],
    ['mbr', 'p6'],
    ['gpt4k', 'p1'],
  ];

  describe('every file matches The Sleuth Kit (fls -r -m, icat)', () => {
    it.each(VOLUMES)(
      '%s/%s: names, types, sizes, mtimes and SHA-256',
      async (disk, part) => {
        const table = await browser.partitions(disk);
        const p = table.partitions.find((x) => x.name === part)!;
        const ss = table.sectorSize;
        const off = p.offset / ss;
        const img = imgOf(disk);
        const tsk = new Map(tskList(img, off, ss).map((e) => [e.path, e]));
        const root = `${disk}/${part}`;
        const ours = new Map<string, { type: string; size: number; mtime?: string }>();
        const fsType = (await browser.stat(root)).fsType!;
        for await (const { entry } of browser.walk(root)) {
          const rel = tskName(entry.path.slice(root.length));
          ours.set(rel, { type: entry.type, size: entry.size, mtime: entry.mtime });
          for (const s of entry.streams ?? []) {
            const st = await browser.stat(`${entry.path}:${s}`);
            ours.set(`${rel}:${s}`, { type: 'file', size: st.size });
          }
        }
        // TSK reads an htree's index blocks as if they held entries and now and then shows a phantom
        // name; where it lists what we do not, e2fsprogs' own reader (debugfs) has the last word
        const extImg = EXT_PART[root];
        for (const path of [...tsk.keys()].filter((p) => !ours.has(p) && extImg)) {
          const cut = path.lastIndexOf('/');
          if (!debugfsNames(join(fx.dir, extImg), path.slice(0, cut) || '/').has(path.slice(cut + 1))) tsk.delete(path);
        }
        expect([...ours.keys()].sort()).toEqual([...tsk.keys()].sort());
        let hashed = 0;
        for (const [path, o] of ours) {
          const t = tsk.get(path)!;
          const want = { d: 'dir', r: 'file', l: 'symlink' }[t.type];
          if (o.type === 'symlink' && fsType === 'ntfs') expect(t.type).toBe('r');
          else expect(`${path} ${o.type}`).toBe(`${path} ${want}`);
          if (o.type !== 'dir') expect(`${path} ${o.size}`).toBe(`${path} ${t.size}`);
          if (o.mtime && !fsType.startsWith('fat')) {
            // exFAT: TSK ignores the 10 ms increment field (up to 1.99 s), we add it as the spec says
            const secs = Math.floor(Date.parse(o.mtime) / 1000);
            if (fsType === 'exfat') expect(secs - t.mtime, path).toBeOneOf([0, 1]);
            else expect(`${path} ${secs}`).toBe(`${path} ${t.mtime}`);
          }
          const big = /\/(many\/file|htree\/entry-with-a-longish-name-)(\d{5})/.exec(path);
          const sampled = !big || Number(big[2]) % 500 === 0; // huge folders: every 500th file
          if (o.type === 'file' && sampled && !path.includes('hostile/')) {
            expect(`${path} ${await sha(root + path.replace(/\^/g, '?'))}`).toBe(`${path} ${tskHash(img, off, t.inode, ss)}`);
            hashed++;
          }
        }
        expect(hashed).toBeGreaterThan(5);
      },
      240_000,
    );
  });
});

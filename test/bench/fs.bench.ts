/**
 * File-level restore benchmark: a sparse NTFS disk (4 GiB; 1 GiB with --quick) holding a
 * 10 000-entry folder and a big file of random data (1 GiB; 128 MiB with --quick), imported
 * into a repository. Measures, through the repository's snapshot disk: the first listing of the
 * folder (fresh browser, includes partition scan and mount), extraction of the big file to a
 * file, and the peak RSS; `icat` on the raw image extracts the same file in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDisk } from '../../electron/engine/disk/open-disk.js';
import { restoreFiles } from '../../electron/engine/fs/restore-files.js';
import { SnapshotBrowser } from '../../electron/engine/fs/snapshot-browser.js';
import { initRepository } from '../../electron/engine/repository/repository.js';
import type { BenchFn, BenchRow } from './bench-row.js';

function buildImage(img: string, mnt: string, diskMiB: number, fileMiB: number): void {
  execFileSync('truncate', ['-s', `${diskMiB}M`, img]);
  execFileSync('mkntfs', ['-q', '-F', '-Q', '-c', '4096', img], { stdio: 'ignore' });
  mkdirSync(mnt, { recursive: true });
  execFileSync('ntfs-3g', [img, mnt]);
  try {
    execFileSync('python3', [
      '-c',
      `import os,sys
m=sys.argv[1]; os.mkdir(m+'/many')
for i in range(10000): open(f'{m}/many/file{i:05}.txt','w').write('x'*(i%50))
with open(m+'/big.bin','wb') as f:
  for k in range(int(sys.argv[2])): f.write(os.urandom(1<<20))`,
      mnt,
      String(fileMiB),
    ]);
  } finally {
    execFileSync('umount', [mnt]);
  }
}

export const bench: BenchFn = async ({ scratch, quick }) => {
  const rows: BenchRow[] = [];
  const diskMiB = quick ? 1024 : 4096;
  const fileMiB = quick ? 128 : 1024;
  const img = join(scratch, 'ntfs.img');
  buildImage(img, join(scratch, 'mnt'), diskMiB, fileMiB);

  const repo = await initRepository(join(scratch, 'repo'));
  const src = await openDisk(img);
  const snap = await repo.createSnapshot({ guest: 'bench', consistency: 'cold', disks: [{ name: 'disk0', disk: src, sourceFormat: 'raw' }] });
  await src.close();

  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const base = process.memoryUsage().rss;
  try {
    const disk = await repo.openSnapshotDisk(snap.id, 'disk0', { cacheChunks: 32 });
    const browser = new SnapshotBrowser([{ name: 'disk0', disk }], { blockCacheBytes: 8 * 1024 * 1024 });
    let t = performance.now();
    const listing = await browser.list('disk0/p0/many');
    const listMs = performance.now() - t;
    if (listing.entries.length !== 10000) throw new Error(`listing has ${listing.entries.length} entries`);
    t = performance.now();
    await browser.list('disk0/p0/many');
    const againMs = performance.now() - t;
    rows.push({
      area: 'fs',
      name: `first listing of a 10 000-entry NTFS folder (${diskMiB / 1024} GiB disk, repository snapshot)`,
      ours: listMs,
      unit: 'ms',
      goal: '≤ 300 ms',
      met: listMs <= 300,
      note: `includes partition scan and mount; cached repeat ${againMs.toFixed(1)} ms`,
    });

    const outDir = join(scratch, 'out');
    t = performance.now();
    const res = await restoreFiles(browser, ['disk0/p0/big.bin'], outDir);
    const ourSec = (performance.now() - t) / 1000;
    const bytes = statSync(join(outDir, 'big.bin')).size;
    if (bytes !== fileMiB * 1048576 || res.restored !== 1) throw new Error(`extracted ${bytes} bytes`);
    await disk.close();

    const inode = execFileSync('bash', ['-c', `fls -p "$1" | awk -F'[ :\\t]+' '$NF=="big.bin" {print $2}'`, 'fls', img]).toString().trim();
    t = performance.now();
    const ic = spawnSync('bash', ['-c', `icat "$1" "$2" > "$3"`, 'icat', img, inode, join(scratch, 'icat.bin')]);
    const icatSec = (performance.now() - t) / 1000;
    if (ic.status !== 0 || statSync(join(scratch, 'icat.bin')).size !== bytes) throw new Error('icat failed');
    const mbps = bytes / 1e6 / ourSec;
    const icatMbps = bytes / 1e6 / icatSec;
    rows.push({
      area: 'fs',
      name: `extract a ${fileMiB >= 1024 ? `${fileMiB / 1024} GiB` : `${fileMiB} MiB`} file (repository snapshot → file)`,
      ours: mbps,
      unit: 'MB/s',
      peer: icatMbps,
      peerName: 'icat on the raw image',
      ratio: mbps / icatMbps,
      ratioMeaning: 'ours/icat, higher is better',
      goal: '≥ 300 MB/s',
      met: mbps >= 300,
      note: 'ours reads chunks from the repository (verify + decompress); icat reads the raw image from the page cache',
    });
  } finally {
    clearInterval(sampler);
    await repo.close();
  }
  rows.push({
    area: 'fs',
    name: 'peak RSS while listing and extracting',
    ours: peak / 1048576,
    unit: 'MB',
    goal: '≤ 250 MB',
    met: peak / 1048576 <= 250,
    note: `process RSS (includes the runtime; ${(base / 1048576).toFixed(0)} MB before opening the snapshot)`,
  });
  return rows;
};

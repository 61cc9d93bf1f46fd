/**
 * File-level restore benchmark: a sparse NTFS disk (4 GiB; 1 GiB with --quick) holding a
 * 10 000-entry folder and a big file of random data (1 GiB; 128 MiB with --quick), imported
 * into a repository. Measures, through the repository's snapshot disk: the first listing of the
 * folder (fresh browser, includes partition scan and mount), extraction of the big file to a
 * file, and the peak RSS; `icat` on the raw image extracts the same file in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDisk } from '../../electron/engine/disk/open-disk.js';
import { initRepository } from '../../electron/engine/repository/repository.js';
import type { BenchFn, BenchRow } from './bench-row.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD = join(ROOT, 'test/fixtures/fs/fs-bench-child.ts');

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

  await repo.close();

  // The measurement runs in a fresh process so that its peak RSS is the reader's, not the
  // import's. Ours and icat alternate, twice each, and the best of each counts (peak RSS: the
  // worst; every run is in the note): the kernel's cost of new page-cache pages for a fresh
  // 1 GiB output file varies several-fold on the shared 2-core VM (dd of 1 GiB in 1 MiB writes:
  // 0.3–4 s of system time from one run to the next). Each output is deleted before the next run.
  type Measured = { listMs: number; listCpuMs: number; extractCpuSec: number; againMs: number; entries: number; extractSec: number; bytes: number; maxRssMiB: number };
  const inode = execFileSync('bash', ['-c', `fls -p "$1" | awk -F'[ :\\t]+' '$NF=="big.bin" {print $2}'`, 'fls', img]).toString().trim();
  const ours: Measured[] = [];
  const icats: number[] = [];
  for (let k = 0; k < 2; k++) {
    const out = join(scratch, 'out');
    const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, join(scratch, 'repo'), snap.id, out], { encoding: 'utf8', cwd: ROOT });
    if (child.status !== 0) throw new Error(`measurement failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as Measured;
    if (r.entries !== 10000 || r.bytes !== fileMiB * 1048576) throw new Error(`unexpected measurement ${JSON.stringify(r)}`);
    ours.push(r);
    rmSync(out, { recursive: true, force: true });
    const icatOut = join(scratch, 'icat.bin');
    const t = performance.now();
    const ic = spawnSync('bash', ['-c', `icat "$1" "$2" > "$3"`, 'icat', img, inode, icatOut]);
    icats.push((performance.now() - t) / 1000);
    if (ic.status !== 0 || statSync(icatOut).size !== r.bytes) throw new Error('icat failed');
    rmSync(icatOut, { force: true });
  }
  const best = <T>(xs: T[], key: (x: T) => number) => xs.reduce((a, b) => (key(b) < key(a) ? b : a));
  const fastest = best(ours, (x) => x.extractSec);
  const m = { ...fastest, listMs: best(ours, (x) => x.listMs).listMs, maxRssMiB: Math.max(...ours.map((x) => x.maxRssMiB)) };
  rows.push({
    area: 'fs',
    name: `first listing of a 10 000-entry NTFS folder (${diskMiB / 1024} GiB disk, repository snapshot)`,
    ours: m.listMs,
    unit: 'ms',
    goal: '≤ 300 ms',
    met: m.listMs <= 300,
    note: `fresh process, best of ${ours.length} (${ours.map((x) => x.listMs.toFixed(0)).join(', ')} ms); includes partition scan and mount; CPU time ${m.listCpuMs.toFixed(0)} ms (wall time suffers on a loaded machine); cached repeat ${m.againMs.toFixed(1)} ms`,
  });

  const icatSec = Math.min(...icats);
  const mbps = m.bytes / 1e6 / m.extractSec;
  const icatMbps = m.bytes / 1e6 / icatSec;
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
    note: `best of ${ours.length} alternating runs each (ours ${ours.map((x) => (x.bytes / 1e6 / x.extractSec).toFixed(0)).join(', ')} MB/s; icat ${icats.map((x) => (m.bytes / 1e6 / x).toFixed(0)).join(', ')} MB/s); ours reads chunks from the repository (verify + decompress on the worker threads); icat reads the raw image from the page cache; process CPU ${m.extractCpuSec.toFixed(1)} s (main thread + workers)`,
  });
  rows.push({
    area: 'fs',
    name: 'peak memory (max RSS) of the process listing and extracting',
    ours: m.maxRssMiB,
    unit: 'MB',
    goal: '≤ 250 MB',
    met: m.maxRssMiB <= 250,
    note: `fresh node process incl. the runtime, the TypeScript loader and the chunk workers; worst of ${ours.length} runs`,
  });
  return rows;
};

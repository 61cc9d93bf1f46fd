/**
 * Repository benchmark against restic (Debian package, same data, same run): a disk image that
 * is half random, half zeros (2 GiB; 256 MiB with --quick) is backed up, then 1 % of its 64 KiB
 * blocks are rewritten at random places and it is backed up again (restic with --force, since VM
 * disks always change mtime); then stored bytes (du) of both repositories, and restore
 * (`export-disk --format raw` vs `restic restore`). Both tools run as separate processes (our
 * CLI through tsx, start-up included); peak RSS is read from /proc/<pid>/status (VmHWM).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, readFileSync, readdirSync, writeSync, ftruncateSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchFn, BenchRow } from './bench-row.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MiB = 1024 * 1024;

interface RunStats {
  seconds: number;
  peakRssMB: number;
  stdout: string;
}

/** Runs a command, sampling its peak RSS; rejects on a non-zero exit. */
function measure(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunStats> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(file, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 50);
    c.on('exit', (code) => {
      clearInterval(timer);
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) rej(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
      else res({ seconds, peakRssMB: peak, stdout });
    });
  });
}

function du(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) * 1024;
}

function sha(file: string): string {
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]!;
}

/** The image: first half random, second half zeros (sparse). */
function makeImage(file: string, size: number): void {
  const fd = openSync(file, 'w');
  const buf = Buffer.allocUnsafe(16 * MiB);
  for (let off = 0; off < size / 2; off += buf.length) {
    randomFillSync(buf);
    writeSync(fd, buf, 0, Math.min(buf.length, size / 2 - off), off);
  }
  ftruncateSync(fd, size);
  closeSync(fd);
}

/** Rewrites 1 % of the 64 KiB blocks at random places (deterministic seed-free positions). */
function rewrite(file: string, size: number): number {
  const block = 64 * 1024;
  const blocks = size / block;
  const n = Math.ceil(blocks / 100);
  const fd = openSync(file, 'r+');
  const buf = Buffer.allocUnsafe(block);
  const seen = new Set<number>();
  let x = 12345;
  while (seen.size < n) {
    x = (x * 1103515245 + 12345) % 2147483648;
    seen.add(x % blocks);
  }
  for (const b of seen) {
    randomFillSync(buf);
    writeSync(fd, buf, 0, block, b * block);
  }
  closeSync(fd);
  return n;
}

/** The repository rows (see the file comment). */
export const bench: BenchFn = async ({ scratch, quick }) => {
  const size = (quick ? 256 : 2048) * MiB;
  const img = join(scratch, 'disk.img');
  makeImage(img, size);
  const ours = join(scratch, 'ours');
  const data = join(scratch, 'data');
  const rrepo = join(scratch, 'restic');
  const renv = { RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(scratch, 'restic-cache') };
  const cli = (...a: string[]) => measure(process.execPath, [join(ROOT, 'bin', 'twinsnap.mjs'), '--repo', ours, '--data-dir', data, ...a]);
  await cli('init');
  await measure('restic', ['init', '--repo', rrepo], renv);
  const gib = size / (1024 * MiB);

  const o1 = await cli('import-disk', '--guest', 'bench', img);
  const r1 = await measure('restic', ['backup', '--repo', rrepo, '--quiet', img], renv);
  const changed = rewrite(img, size);
  const o2 = await cli('import-disk', '--guest', 'bench', img);
  const r2 = await measure('restic', ['backup', '--repo', rrepo, '--quiet', '--force', img], renv);
  const storedOurs = du(ours);
  const storedRestic = du(rrepo);

  const snaps = JSON.parse((await cli('--json', 'snapshots')).stdout) as { id: string; disks: { name: string }[] }[];
  const last = snaps[snaps.length - 1]!;
  const outOurs = join(scratch, 'restored.img');
  const o3 = await cli('export-disk', last.id, last.disks[0]!.name, '--format', 'raw', '--to', outOurs);
  const rdir = join(scratch, 'restic-restore');
  mkdirSync(rdir);
  const r3 = await measure('restic', ['restore', '--repo', rrepo, '--quiet', 'latest', '--target', rdir], renv);
  const want = sha(img);
  const restoredRestic = readdirSync(rdir, { recursive: true }).map(String).find((p) => p.endsWith('disk.img'));
  const okOurs = sha(outOurs) === want;
  const okRestic = restoredRestic ? sha(join(rdir, restoredRestic)) === want : false;

  const tp = (s: RunStats) => (size / MiB) / s.seconds;
  const row = (name: string, o: RunStats, r: RunStats, goal: number): BenchRow => ({
    area: 'repository',
    name: `${name} (${gib} GiB)`,
    ours: tp(o),
    unit: 'MiB/s',
    peer: tp(r),
    peerName: 'restic',
    ratio: tp(o) / tp(r),
    ratioMeaning: 'ours/restic, higher is better',
    goal: `≥ ${goal}×`,
    met: tp(o) / tp(r) >= goal,
  });
  const rows: BenchRow[] = [
    row('first backup', o1, r1, 2),
    { ...row(`second backup, ${changed} × 64 KiB rewritten`, o2, r2, 3), note: 'restic --force (re-reads everything, as VM disks always change mtime)' },
    {
      area: 'repository',
      name: 'stored bytes after both backups (du)',
      ours: storedOurs / MiB,
      unit: 'MiB',
      peer: storedRestic / MiB,
      peerName: 'restic',
      ratio: storedOurs / storedRestic,
      ratioMeaning: 'ours/restic, lower is better',
      goal: '≤ 1×',
      met: storedOurs <= storedRestic,
    },
    { ...row('restore (export-disk raw vs restic restore)', o3, r3, 1.5), note: `restored images match the source: ours ${okOurs}, restic ${okRestic}` },
    {
      area: 'repository',
      name: `peak RSS of a backup (${gib} GiB)`,
      ours: Math.max(o1.peakRssMB, o2.peakRssMB),
      unit: 'MB',
      peer: Math.max(r1.peakRssMB, r2.peakRssMB),
      peerName: 'restic',
      goal: '≤ 300 MB (8 GiB)',
      met: Math.max(o1.peakRssMB, o2.peakRssMB) <= 300,
      note: 'memory is bounded by chunks in flight (8 × 1 MiB + one per worker), independent of disk size; the index adds 32 B per MiB',
    },
  ];
  if (!okOurs) throw new Error('our restored image differs from the source');
  return rows;
};

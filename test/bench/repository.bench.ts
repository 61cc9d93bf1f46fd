/**
 * Repository benchmark against restic (Debian package, same data, same run): a disk image that
 * is half random, half zeros (2 GiB; 256 MiB with --quick) is backed up, then 1 % of its 64 KiB
 * blocks are rewritten at random places and it is backed up again (restic with --force, since VM
 * disks always change mtime); then stored bytes (du) of both repositories, and restore
 * (`export-disk --format raw` vs `restic restore`). Both tools run as separate processes, start-up
 * included: our CLI is `node bin/twinsnap.mjs`, which runs the esbuild bundle of the sources (as an
 * installed TwinSnap does; the bench makes sure it is current before each measured run, so a
 * source edited meanwhile by someone else is not rebuilt inside a measurement). Peak RSS is
 * GNU time's (else sampled from /proc/<pid>/status, VmHWM). The whole sequence runs twice over
 * fresh repositories, the tools taking turns going first, and each row keeps each tool's best
 * round (see ROUNDS).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, writeSync, writeFileSync, ftruncateSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchFn, BenchRow } from './bench-row.js';
// @ts-expect-error -- a plain .mjs build script without type declarations
import { buildCliBundle, currentCliBundle } from '../../build/scripts/cli-bundle.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const MiB = 1024 * 1024;

export interface RunStats {
  seconds: number;
  /** user + system CPU seconds (GNU time), NaN when /usr/bin/time is missing. */
  cpuSeconds: number;
  /** The system part of cpuSeconds (page-cache work shows here), NaN without GNU time. */
  sysSeconds: number;
  peakRssMB: number;
  stdout: string;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/**
 * Runs a command; wall time, CPU time and peak RSS come from GNU time when installed (Debian
 * package `time`), else peak RSS is sampled from /proc/<pid>/status (VmHWM). Rejects on failure.
 */
export function measure(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunStats> {
  // start every measured run with no dirty page cache (the image was just written): otherwise
  // whoever syncs first pays for the bench's own writes
  execFileSync('sync');
  const timeOut = join(tmpdir(), `twinsnap-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const [cmd, argv] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S %M', '-o', timeOut, file, ...args]] : [file, args];
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd, argv, { env: { ...process.env, ...env } });
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
    const timer = GNU_TIME ? undefined : setInterval(sample, 50);
    c.on('exit', (code) => {
      clearInterval(timer);
      const seconds = (performance.now() - t0) / 1000;
      let cpuSeconds = NaN;
      let sysSeconds = NaN;
      if (GNU_TIME && existsSync(timeOut)) {
        const [u, sy, m] = readFileSync(timeOut, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        cpuSeconds = u! + sy!;
        sysSeconds = sy!;
        peak = m! / 1024;
        rmSync(timeOut, { force: true });
      }
      if (code !== 0) rej(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
      else res({ seconds, cpuSeconds, sysSeconds, peakRssMB: peak, stdout });
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
export function makeImage(file: string, size: number): void {
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
export function rewrite(file: string, size: number): number {
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

/** What one round measured for both tools (see ROUNDS). */
interface Round {
  /** The same three commands on an encrypted repository (format 2, default scrypt cost). */
  e1: RunStats;
  e2: RunStats;
  e3: RunStats;
  okEncrypted: boolean;
  o1: RunStats;
  r1: RunStats;
  o2: RunStats;
  r2: RunStats;
  o3: RunStats;
  r3: RunStats;
  changed: number;
  storedOurs: number;
  storedRestic: number;
  okOurs: boolean;
  okRestic: boolean;
}

/**
 * Rounds over fresh repositories and a fresh image; each row keeps each tool's best round. On
 * this VM the first process to dirty or fill a gigabyte of fresh page cache pays seconds of
 * system time the next one does not, so the tools take turns going first (round 1: ours first,
 * round 2: restic first) and neither is measured only in the bad slot.
 */
const ROUNDS = 2;

async function round(scratch: string, size: number, k: number): Promise<Round> {
  const dir = join(scratch, `round-${k}`);
  mkdirSync(dir);
  const img = join(dir, 'disk.img');
  makeImage(img, size);
  const ours = join(dir, 'ours');
  const data = join(dir, 'data');
  const rrepo = join(dir, 'restic');
  const renv = { RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(dir, 'restic-cache') };
  const cli = (...a: string[]) => ourCli(ours, data, ...a);
  const pw = join(dir, 'password');
  writeFileSync(pw, 'bench password\n', { mode: 0o600 });
  const enc = (...a: string[]) => ourCli(join(dir, 'encrypted'), join(dir, 'enc-data'), '--password-file', pw, ...a);
  const restic = (...a: string[]) => measure('restic', ['--repo', rrepo, '--quiet', ...a], renv);
  /** Runs ours, ours encrypted and restic, in this round's order (reversed every other round). */
  const both = async (o: () => Promise<RunStats>, r: () => Promise<RunStats>, e: () => Promise<RunStats>): Promise<[RunStats, RunStats, RunStats]> => {
    if (k % 2 === 0) {
      const a = await o();
      const c = await e();
      return [a, await r(), c];
    }
    const b = await r();
    const c = await e();
    return [await o(), b, c];
  };
  await cli('init');
  await enc('init', '--encrypt');
  await restic('init');

  const [o1, r1, e1] = await both(
    () => cli('import-disk', '--guest', 'bench', img),
    () => restic('backup', img),
    () => enc('import-disk', '--guest', 'bench', img),
  );
  const changed = rewrite(img, size);
  const [o2, r2, e2] = await both(
    () => cli('import-disk', '--guest', 'bench', img),
    () => restic('backup', '--force', img),
    () => enc('import-disk', '--guest', 'bench', img),
  );
  const storedOurs = du(ours);
  const storedRestic = du(rrepo);

  const snaps = JSON.parse((await cli('--json', 'snapshots')).stdout) as { id: string; disks: { name: string }[] }[];
  const last = snaps[snaps.length - 1]!;
  const outOurs = join(dir, 'restored.img');
  const rdir = join(dir, 'restic-restore');
  mkdirSync(rdir);
  const encSnaps = JSON.parse((await enc('--json', 'snapshots')).stdout) as { id: string; disks: { name: string }[] }[];
  const encLast = encSnaps[encSnaps.length - 1]!;
  const outEnc = join(dir, 'restored-encrypted.img');
  const [o3, r3, e3] = await both(
    () => cli('export-disk', last.id, last.disks[0]!.name, '--format', 'raw', '--to', outOurs),
    () => restic('restore', 'latest', '--target', rdir),
    () => enc('export-disk', encLast.id, encLast.disks[0]!.name, '--format', 'raw', '--to', outEnc),
  );
  const want = sha(img);
  const restoredRestic = readdirSync(rdir, { recursive: true })
    .map(String)
    .find((p) => p.endsWith('disk.img'));
  const okOurs = sha(outOurs) === want;
  const okEncrypted = sha(outEnc) === want;
  const okRestic = restoredRestic ? sha(join(rdir, restoredRestic)) === want : false;
  rmSync(dir, { recursive: true, force: true });
  return { o1, r1, o2, r2, o3, r3, e1, e2, e3, okEncrypted, changed, storedOurs, storedRestic, okOurs, okRestic };
}

/** Runs our CLI (the current bundle, rebuilt first if a source changed) on one repository. */
export async function ourCli(repo: string, data: string, ...a: string[]): Promise<RunStats> {
  if (!(currentCliBundle as () => string | undefined)()) await (buildCliBundle as () => Promise<string>)();
  return measure(process.execPath, [join(ROOT, 'bin', 'twinsnap.mjs'), '--repo', repo, '--data-dir', data, ...a]);
}

/** The faster of several runs (its CPU time and RSS come with it). */
const best = (runs: RunStats[]): RunStats => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

/** The repository rows (see the file comment). */
export const bench: BenchFn = async ({ scratch, quick }) => {
  const size = (quick ? 256 : 2048) * MiB;
  const gib = size / (1024 * MiB);
  const rounds: Round[] = [];
  for (let k = 0; k < ROUNDS; k++) rounds.push(await round(scratch, size, k));
  const pick = (key: 'o1' | 'r1' | 'o2' | 'r2' | 'o3' | 'r3' | 'e1' | 'e2' | 'e3') => best(rounds.map((r) => r[key]));
  const [e1, e2, e3] = (['e1', 'e2', 'e3'] as const).map(pick) as [RunStats, RunStats, RunStats];
  const [o1, r1, o2, r2, o3, r3] = (['o1', 'r1', 'o2', 'r2', 'o3', 'r3'] as const).map(pick) as [RunStats, RunStats, RunStats, RunStats, RunStats, RunStats];
  const { changed, storedOurs, storedRestic } = rounds[0]!;
  const okOurs = rounds.every((r) => r.okOurs);
  const okRestic = rounds.every((r) => r.okRestic);
  const allRuns = (key: 'o1' | 'r1' | 'o2' | 'r2' | 'o3' | 'r3' | 'e1' | 'e2' | 'e3') => rounds.map((r) => r[key].seconds.toFixed(1)).join(' / ');

  const tp = (s: RunStats) => size / MiB / s.seconds;
  const row = (name: string, o: RunStats, r: RunStats, goal: number, keys: ['o1' | 'o2' | 'o3', 'r1' | 'r2' | 'r3']): BenchRow => ({
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
    note: `CPU time (user+sys) ours ${o.cpuSeconds.toFixed(1)} s, restic ${r.cpuSeconds.toFixed(1)} s; wall ours ${o.seconds.toFixed(1)} s, restic ${r.seconds.toFixed(1)} s (both include start-up; best of ${ROUNDS} rounds, wall per round ours ${allRuns(keys[0])} s, restic ${allRuns(keys[1])} s)`,
  });
  const rows: BenchRow[] = [
    row('first backup', o1, r1, 2, ['o1', 'r1']),
    (() => {
      const r0 = row(`second backup, ${changed} × 64 KiB rewritten (restic --force)`, o2, r2, 3, ['o2', 'r2']);
      return r0;
    })(),
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
    (() => {
      const r0 = row('restore (export-disk raw vs restic restore)', o3, r3, 1.5, ['o3', 'r3']);
      return { ...r0, note: `${r0.note}; restored images match the source: ours ${okOurs}, restic ${okRestic}` };
    })(),
    {
      area: 'repository',
      name: `peak RSS of a backup (${gib} GiB)`,
      ours: Math.max(o1.peakRssMB, o2.peakRssMB),
      unit: 'MB',
      peer: Math.max(r1.peakRssMB, r2.peakRssMB),
      peerName: 'restic',
      goal: '≤ 300 MB',
      met: Math.max(o1.peakRssMB, o2.peakRssMB) <= 300,
      note: 'memory is bounded by the chunk arena shared with the workers (24 × 1 MiB, 8 chunks in flight), independent of disk size; the index adds 36 B per MiB of data (zero chunks cost nothing)',
    },
  ];
  // encrypted repository (format 2), same image and same run: against plain ours and against restic
  const encRow = (name: string, e: RunStats, o: RunStats, r: RunStats, restic: number, keys: ['e1' | 'e2' | 'e3', 'o1' | 'o2' | 'o3']): BenchRow[] => [
    {
      area: 'repository',
      name: `encrypted: ${name} (${gib} GiB)`,
      ours: tp(e),
      unit: 'MiB/s',
      peer: tp(o),
      peerName: 'plain repository',
      ratio: tp(e) / tp(o),
      ratioMeaning: 'encrypted/plain, higher is better',
      goal: '≥ 0.85×',
      met: tp(e) / tp(o) >= 0.85,
      note: `CPU time encrypted ${e.cpuSeconds.toFixed(1)} s (system ${e.sysSeconds.toFixed(1)} s), plain ${o.cpuSeconds.toFixed(1)} s (system ${o.sysSeconds.toFixed(1)} s); wall per round encrypted ${allRuns(keys[0])} s, plain ${allRuns(keys[1])} s`,
    },
    {
      ...row(`encrypted: ${name}`, e, r, restic, [keys[1], keys[1].replace('o', 'r') as 'r1' | 'r2' | 'r3']),
      note: `CPU time encrypted ${e.cpuSeconds.toFixed(1)} s, restic ${r.cpuSeconds.toFixed(1)} s (restic encrypts too)`,
    },
  ];
  rows.push(
    ...encRow('first backup', e1, o1, r1, 2, ['e1', 'o1']),
    ...encRow('second backup', e2, o2, r2, 3, ['e2', 'o2']),
    ...encRow('restore', e3, o3, r3, 1.5, ['e3', 'o3']).map((x) => ({ ...x, note: `${x.note}; restored image matches the source: ${rounds.every((r) => r.okEncrypted)}` })),
    {
      area: 'repository',
      name: `encrypted: peak RSS of a backup (${gib} GiB)`,
      ours: Math.max(e1.peakRssMB, e2.peakRssMB),
      unit: 'MB',
      peer: Math.max(o1.peakRssMB, o2.peakRssMB),
      peerName: 'plain repository',
      goal: '≤ 300 MB',
      met: Math.max(e1.peakRssMB, e2.peakRssMB) <= 300,
      note: 'includes one scrypt unlock (N=2^16, r=8: 64 MiB, freed before the backup starts)',
    },
  );
  if (!quick) {
    // peak RSS on an 8 GiB disk: 1 GiB of random data spread over it, the rest sparse zeros
    const big = join(scratch, 'big.img');
    const fd = openSync(big, 'w');
    const buf = Buffer.allocUnsafe(16 * MiB);
    for (let i = 0; i < 64; i++) {
      randomFillSync(buf);
      writeSync(fd, buf, 0, buf.length, i * 128 * MiB);
    }
    ftruncateSync(fd, 8192 * MiB);
    closeSync(fd);
    const bigRepo = join(scratch, 'big-repo');
    await ourCli(bigRepo, join(scratch, 'big-data'), 'init');
    const o8 = await ourCli(bigRepo, join(scratch, 'big-data'), 'import-disk', '--guest', 'big', big);
    rows.push({
      area: 'repository',
      name: 'peak RSS of a backup (8 GiB, 1 GiB data)',
      ours: o8.peakRssMB,
      unit: 'MB',
      goal: '≤ 300 MB',
      met: o8.peakRssMB <= 300,
      note: `took ${o8.seconds.toFixed(1)} s`,
    });
  }
  rows.push(...(await hugeThinRows(scratch)));
  if (!okOurs) throw new Error('our restored image differs from the source');
  return rows;
};

/**
 * Peak RSS of importing an empty 64 TiB VHDX (Hyper-V's largest) and an empty 16 TiB qcow2, both
 * made by qemu-img: memory must follow the data, not the virtual size (cheap, so also with --quick).
 */
async function hugeThinRows(scratch: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const [format, size] of [
    ['vhdx', '64T'],
    ['qcow2', '16T'],
  ] as const) {
    const img = join(scratch, `empty-${size}.${format}`);
    execFileSync('qemu-img', ['create', '-q', '-f', format, img, size]);
    const repo = join(scratch, `huge-${format}-repo`);
    await ourCli(repo, join(scratch, 'huge-data'), 'init');
    const o = await ourCli(repo, join(scratch, 'huge-data'), 'import-disk', '--guest', `huge-${format}`, img);
    rows.push({
      area: 'repository',
      name: `peak RSS importing an empty ${size.replace('T', ' TiB')} ${format.toUpperCase()} (qemu-img create)`,
      ours: o.peakRssMB,
      unit: 'MB',
      goal: '≤ 300 MB',
      met: o.peakRssMB <= 300,
      note: `took ${o.seconds.toFixed(1)} s (start-up included); the index lists data chunks only, so it does not grow with the virtual size`,
    });
  }
  return rows;
}

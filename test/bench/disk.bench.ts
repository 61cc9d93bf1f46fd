/**
 * Disk conversion benchmark: a 2 GiB image (256 MiB with `quick`), alternating 32 MiB of random
 * data and 32 MiB of zeros, as sparse VMDK, dynamic VHDX and qcow2, converted to raw by
 * TwinSnap (in a child process, to read its peak RSS) and by `qemu-img convert -O raw` in the
 * same run. Reproduce: `npm run bench` (or import and call `bench`).
 */
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../fixtures/disk/disk-fixtures.js';
import type { BenchFn, BenchRow } from './bench-row.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

async function makeSource(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.truncate(size);
    const buf = Buffer.allocUnsafe(8 * MiB);
    for (let at = 0; at < size; at += 64 * MiB) {
      for (let p = 0; p < 32 * MiB && at + p < size; p += buf.length) {
        randomFillSync(buf);
        await fh.write(buf, 0, Math.min(buf.length, size - at - p), at + p);
      }
    }
  } finally {
    await fh.close();
  }
}

async function timed(file: string, args: string[]): Promise<{ seconds: number; stdout: string }> {
  const t = performance.now();
  const { stdout } = await run(file, args, { cwd: REPO_ROOT, maxBuffer: 16 * MiB });
  return { seconds: (performance.now() - t) / 1000, stdout };
}

/** The disk conversion rows. */
export const bench: BenchFn = async ({ scratch, quick }) => {
  const size = quick ? 256 * MiB : 2048 * MiB;
  const dir = join(scratch, 'disk-bench');
  await mkdir(dir, { recursive: true });
  const raw = join(dir, 'source.raw');
  await makeSource(raw, size);
  const rows: BenchRow[] = [];
  const label = quick ? '256 MiB' : '2 GiB';
  const inputs: [string, string, string[]][] = [
    ['sparse VMDK', 'vmdk', ['-o', 'subformat=monolithicSparse']],
    ['dynamic VHDX', 'vhdx', ['-o', 'subformat=dynamic']],
    ['qcow2', 'qcow2', []],
  ];
  const child = join(REPO_ROOT, 'test/fixtures/disk/convert-child.ts');
  for (const [name, fmt, opts] of inputs) {
    const src = join(dir, `source.${fmt}`);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', fmt, ...opts, raw, src]);
    const outQemu = join(dir, `qemu-${fmt}.raw`);
    const outOurs = join(dir, `ours-${fmt}.raw`);
    let best = { qemu: Infinity, ours: Infinity, oursWall: Infinity, rss: 0 };
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      await rm(outQemu, { force: true });
      await rm(outOurs, { force: true });
      // Start each run with no dirty pages left by the previous one (writeback of the other
      // tool's output would otherwise slow down whoever runs second), and alternate the order.
      const runQemu = async () => {
        await run('sync', ['-f', dir]);
        return timed('qemu-img', ['convert', '-f', fmt, '-O', 'raw', src, outQemu]);
      };
      const runOurs = async () => {
        await run('sync', ['-f', dir]);
        return timed(process.execPath, ['--import', 'tsx', child, src, outOurs, 'raw']);
      };
      let q;
      let o;
      if (i % 2 === 0) {
        q = await runQemu();
        o = await runOurs();
      } else {
        o = await runOurs();
        q = await runQemu();
      }
      const r = JSON.parse(o.stdout.trim().split('\n').pop()!) as { seconds: number; maxRssMB: number };
      best = { qemu: Math.min(best.qemu, q.seconds), ours: Math.min(best.ours, r.seconds), oursWall: Math.min(best.oursWall, o.seconds), rss: Math.max(best.rss, r.maxRssMB) };
    }
    const cmp = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', outOurs, outQemu]).then(
      () => true,
      () => false,
    );
    const ratio = best.ours / best.qemu;
    rows.push({
      area: 'disk',
      name: `convert ${label} ${name} → raw`,
      ours: Number(best.ours.toFixed(3)),
      unit: 's',
      peer: Number(best.qemu.toFixed(3)),
      peerName: 'qemu-img convert -O raw',
      ratio: Number(ratio.toFixed(2)),
      ratioMeaning: 'ours/peer time, lower is better',
      goal: '≤ 1.0',
      met: ratio <= 1.0 && cmp,
      note: `output identical: ${cmp}; neither side fsyncs; our process wall time incl. node+tsx start ${best.oursWall.toFixed(2)} s`,
    });
    rows.push({
      area: 'disk',
      name: `peak RSS converting ${label} ${name} → raw`,
      ours: Math.round(best.rss),
      unit: 'MB',
      goal: '≤ 200 MB',
      met: best.rss <= 200,
    });
    await rm(src, { force: true });
    await rm(outQemu, { force: true });
    await rm(outOurs, { force: true });
  }
  await rm(dir, { recursive: true, force: true });
  return rows;
};

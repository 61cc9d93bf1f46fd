/**
 * Offsite benchmark against restic (Debian package, same data, same run), both to the same local
 * Ceph RADOS Gateway (test/harness/s3-gateway): the repository benchmark's image (2 GiB, half
 * random, half zeros; 256 MiB with --quick) is backed up by both tools into local repositories,
 * then `twinsnap offsite copy --to s3://…` is timed against `restic copy` into an S3 repository on
 * the gateway; then 1 % of the 64 KiB blocks are rewritten, both back up again and copy again:
 * our bytes sent are printed (only the changed chunks should travel). Both copies are read back
 * from the bucket and checked: ours by `verify --read-data` through `--repo s3://`, restic's by
 * `restic check --read-data`.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { BenchFn, BenchRow } from './bench-row.js';
import { makeImage, measure, ourCli, rewrite, type RunStats } from './repository.bench.js';
import { newBucket, s3Gateway, stopGatewayIfOwned } from '../helpers/s3-gateway.js';

const MiB = 1024 * 1024;

export const bench: BenchFn = async ({ scratch, quick }) => {
  const size = (quick ? 256 : 2048) * MiB;
  // the gateway this bench starts is stopped at the end (one already running is left alone)
  const runId = (process.env.TWINSNAP_TEST_RUN_ID ??= `bench-${process.pid}`);
  try {
    return await offsiteRows(scratch, size);
  } finally {
    try {
      stopGatewayIfOwned(runId);
    } catch {
      // not ours
    }
  }
};

async function offsiteRows(scratch: string, size: number): Promise<BenchRow[]> {
  const gw = await s3Gateway();
  const s3env = { AWS_ACCESS_KEY_ID: gw.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: gw.AWS_SECRET_ACCESS_KEY, TWINSNAP_S3_ENDPOINT: gw.TWINSNAP_S3_ENDPOINT };
  Object.assign(process.env, s3env);
  const dir = join(scratch, 'offsite');
  mkdirSync(dir);
  const img = join(dir, 'disk.img');
  makeImage(img, size);
  const ours = join(dir, 'ours');
  const data = join(dir, 'data');
  const rlocal = join(dir, 'restic');
  const [bOurs, bRestic] = [await newBucket(gw, 'bench-ours'), await newBucket(gw, 'bench-restic')];
  const rremote = `s3:${gw.TWINSNAP_S3_ENDPOINT}/${bRestic}/repo`;
  const renv = { ...s3env, RESTIC_PASSWORD: 'bench', RESTIC_FROM_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(dir, 'restic-cache') };
  const restic = (...a: string[]) => measure('restic', ['--quiet', ...a], renv);
  const cli = (...a: string[]) => ourCli(ours, data, ...a);
  const copyOurs = async () => {
    const r = await cli('--json', 'offsite', 'copy', '--to', `s3://${bOurs}/repo`);
    return { run: r, sent: JSON.parse(r.stdout) as { bytesSent: number; objectsSent: number } };
  };
  const copyRestic = () => restic('-r', rremote, 'copy', '--from-repo', rlocal);

  await cli('init');
  await restic('-r', rlocal, 'init');
  await restic('-r', rremote, 'init', '--from-repo', rlocal, '--copy-chunker-params');
  await cli('import-disk', '--guest', 'bench', img);
  await restic('-r', rlocal, 'backup', img);
  const o1 = await copyOurs();
  const r1: RunStats = await copyRestic();
  rewrite(img, size);
  await cli('import-disk', '--guest', 'bench', img);
  await restic('-r', rlocal, 'backup', '--force', img);
  const o2 = await copyOurs();
  const r2 = await copyRestic();
  // both copies must read back whole from the bucket
  await ourCli('unused', join(dir, 'dr-data'), '--repo', `s3://${bOurs}/repo`, 'verify', '--read-data');
  await restic('-r', rremote, 'check', '--read-data');

  const gib = (size / (1024 * MiB)).toFixed(size >= 1024 * MiB ? 0 : 2);
  const rows: BenchRow[] = [
    {
      area: 'offsite',
      name: `copy of the ${gib} GiB repository to a local Ceph RGW`,
      ours: o1.run.seconds,
      unit: 's',
      peer: r1.seconds,
      peerName: 'restic copy',
      ratio: r1.seconds / o1.run.seconds,
      ratioMeaning: 'restic/ours, higher is better',
      goal: '≥ 1×',
      met: r1.seconds / o1.run.seconds >= 1,
      note: `first copy sent ${(o1.sent.bytesSent / MiB).toFixed(1)} MiB in ${o1.sent.objectsSent} objects (${(o1.sent.bytesSent / MiB / o1.run.seconds).toFixed(1)} MiB/s, start-up included)`,
    },
    {
      area: 'offsite',
      name: 'second copy after 1 % of 64 KiB blocks rewritten',
      ours: o2.run.seconds,
      unit: 's',
      peer: r2.seconds,
      peerName: 'restic copy',
      ratio: r2.seconds / o2.run.seconds,
      ratioMeaning: 'restic/ours, higher is better',
      note: `bytes sent by the second copy: ${o2.sent.bytesSent} (${(o2.sent.bytesSent / MiB).toFixed(1)} MiB, ${o2.sent.objectsSent} objects)`,
    },
  ];
  return rows;
}

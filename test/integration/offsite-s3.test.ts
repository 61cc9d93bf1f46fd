/**
 * Offsite copies against a real S3 server: a single-node Ceph RADOS Gateway from Debian's
 * packages (test/harness/s3-gateway), shared by the run. The bucket's own listing, object
 * retention and versions (read with the AWS SDK, not through our code) are the oracle for what
 * was sent; `qemu-img compare` and sha256 for what comes back in a disaster recovery; every
 * object downloaded and searched for the image's bytes for an encrypted repository's copy.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, GetObjectCommand, GetObjectRetentionCommand, ListObjectVersionsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createEngine } from '../../electron/engine/engine.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { LockDates } from '../../electron/engine/offsite/lock-dates.js';
import { chunkRel, copyToOffsite } from '../../electron/engine/offsite/offsite-copy.js';
import { S3Destination, s3TargetFrom } from '../../electron/engine/offsite/s3-destination.js';
import { openRepository } from '../../electron/engine/repository/repository.js';
import { repositoryPasswordKey } from '../../electron/engine/service/repository-access.js';
import { repositoryMaintenance } from '../../electron/engine/service/scheduler-service.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { gatewayClient, killGateway, newBucket, radosgwAdmin, releaseGateway, restartGateway, s3Gateway, type GatewayEnv } from '../helpers/s3-gateway.js';

const tmp = makeTempDir('twinsnap-offsite-');
const dataDir = join(tmp.path, 'data');
const repoDir = join(dataDir, 'repository');
let gw: GatewayEnv;
const snaps: string[] = [];
const image1 = join(tmp.path, 'disk.img');
const image2 = join(tmp.path, 'v2', 'disk.img');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The encrypted repository's offsite copy (its local repository and data folder gone), its restore point and the sha256 of secret.bin. */
let encrypted: { to: string; id: string; secretSha: string } | undefined;

const cli = (...args: string[]) => runCliInProcess(dataDir, ['--s3-endpoint', gw.TWINSNAP_S3_ENDPOINT, ...args]);
async function ok(args: string[], dir = dataDir): Promise<string> {
  const r = await runCliInProcess(dir, ['--s3-endpoint', gw.TWINSNAP_S3_ENDPOINT, ...args]);
  expect(r.code, `${args.join(' ')}\n${r.err}`).toBe(0);
  return r.out;
}
const copy = async (...args: string[]) =>
  JSON.parse(await ok(['--json', 'offsite', 'copy', ...args])) as {
    copied: string[];
    objectsSent: number;
    bytesSent: number;
    objectsSkipped: number;
    seconds: number;
    lockedUntil?: string;
    chunksLockedUntil?: string;
    locksExtended: number;
  };

/** The bucket's objects under a prefix (our oracle: the SDK directly, not our listing code). */
async function bucketObjects(bucket: string, prefix: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let token: string | undefined;
  do {
    const r = await gatewayClient(gw).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
    // locks/ holds the copy/prune run markers (one may be left by a killed run)
    for (const o of r.Contents ?? []) if (!o.Key!.startsWith(`${prefix}/locks/`)) out.set(o.Key!.slice(prefix.length + 1), o.Size!);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Files of the local repository that make up committed snapshots (what must be offsite). */
function localObjects(root = repoDir): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(root, p), statSync(p).size);
    }
  };
  walk(join(root, 'chunks'));
  walk(join(root, 'snapshots'));
  out.set('twinsnap-repo.json', statSync(join(root, 'twinsnap-repo.json')).size);
  return out;
}

/** Every published snapshot (manifest present) has every object its manifest names. */
async function noHalfPublished(bucket: string, prefix: string): Promise<number> {
  const objs = await bucketObjects(bucket, prefix);
  let published = 0;
  for (const key of objs.keys()) {
    const m = /^snapshots\/([^/]+)\/manifest\.json$/.exec(key);
    if (!m) continue;
    published++;
    const local = JSON.parse(readFileSync(join(repoDir, key), 'utf8')) as { manifest: { disks: { index: string }[] } };
    for (const d of local.manifest.disks) expect(objs.has(`snapshots/${m[1]}/${d.index}`), `index of ${m[1]}`).toBe(true);
    for (const k of localObjects().keys()) if (k.startsWith(`snapshots/${m[1]}/`)) expect(objs.has(k), k).toBe(true);
    for (const dg of chunksOf(m[1]!)) expect(objs.has(`chunks/${dg.slice(0, 2)}/${dg.slice(2, 4)}/${dg}`), `chunk ${dg} of ${m[1]}`).toBe(true);
  }
  return published;
}

/** Chunk digests of a snapshot, read from its index file (format 2: u32 number + 32-byte digest). */
function chunksOf(id: string, root = repoDir): string[] {
  const dir = join(root, 'snapshots', id, 'disks');
  const out: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.fidx'))) {
    const b = readFileSync(join(dir, f));
    const entries = b.readUInt32LE(24);
    for (let i = 0; i < entries; i++) out.push(b.subarray(32 + i * 36 + 4, 32 + i * 36 + 36).toString('hex'));
  }
  return out;
}

beforeAll(async () => {
  gw = await s3Gateway();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: gw.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: gw.AWS_SECRET_ACCESS_KEY });
  // a 48 MiB ext4 disk holding a 16 MiB random file; version 2 rewrites 1 MiB of its free space
  const files = join(tmp.path, 'files');
  mkdirSync(files);
  writeFileSync(join(files, 'big.bin'), execFileSync('head', ['-c', String(16 << 20), '/dev/urandom'], { maxBuffer: 32 << 20 }));
  writeFileSync(join(files, 'hello.txt'), 'hello from the office\n');
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', files, image1, '48M']);
  mkdirSync(join(tmp.path, 'v2'));
  execFileSync('cp', [image1, image2]);
  execFileSync('dd', ['if=/dev/urandom', `of=${image2}`, 'bs=1M', 'seek=40', 'count=1', 'conv=notrunc', 'status=none']);
  for (const img of [image1, image2]) snaps.push(JSON.parse(await ok(['--json', 'import-disk', '--guest', 'office', img])).id);
}, 300_000);

afterAll(async () => {
  tmp.cleanup();
  await releaseGateway(); // stopped now unless twin-backup.test.ts still uses it
});

describe('offsite copy to a real Ceph RADOS Gateway', { timeout: 120_000 }, () => {
  let bucket = '';

  it('copies only what the bucket lacks, manifest included, and nothing on a re-run', async () => {
    bucket = await newBucket(gw, 'copy');
    const first = await copy('--to', `s3://${bucket}/office`, '--snapshot', snaps[0]!);
    expect(first.copied).toEqual([snaps[0]]);
    const second = await copy('--to', `s3://${bucket}/office`);
    expect(second.copied).toEqual([snaps[1]]);
    // the 1 MiB rewrite: one new chunk (plus the snapshot's index/fingerprint/manifest files)
    expect(second.bytesSent).toBeLessThan(1.2 * 1048576 + 64 * 1024);
    expect(second.objectsSkipped).toBeGreaterThan(10);
    const objs = await bucketObjects(bucket, 'office');
    expect(objs).toEqual(localObjects()); // every file, same size, nothing else
    const third = await copy('--to', `s3://${bucket}/office`);
    expect([third.copied, third.objectsSent, third.bytesSent]).toEqual([[], 0, 0]);
    expect(await noHalfPublished(bucket, 'office')).toBe(2);
    // each copy is a job of its own, listed with the backups (the app's Jobs page)
    const jobs = JSON.parse(await ok(['--json', 'jobs', '--no-logs'])) as { kind: string; status: string; steps: { detail?: string }[] }[];
    const offsite = jobs.filter((j) => j.kind === 'offsite');
    expect(offsite.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(offsite.map((j) => j.steps[0]!.detail).join('\n')).toContain(`1 restore point(s) copied to s3://${bucket}/office`);
  });

  it('Object Lock: every object locked, shared chunks extended, a delete with the same keys fails, status shows protected-until', async () => {
    const b = await newBucket(gw, 'locked', true);
    const s3 = gatewayClient(gw);
    const r1 = await copy('--to', `s3://${b}/office`, '--snapshot', snaps[0]!, '--lock-days', '1');
    const r2 = await copy('--to', `s3://${b}/office`, '--lock-days', '2');
    expect(r2.locksExtended).toBeGreaterThan(10); // r1's chunks were locked for 1 day + 10 %: too short for 2 days
    const until = async (key: string) => (await s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: `office/${key}` }))).Retention!;
    const shared = chunksOf(snaps[0]!).find((dg) => chunksOf(snaps[1]!).includes(dg))!;
    const sharedRet = await until(`chunks/${shared.slice(0, 2)}/${shared.slice(2, 4)}/${shared}`);
    expect(sharedRet.Mode).toBe('COMPLIANCE');
    // extended from r1's date to r2's with the headroom (10 % of the lock period), never shorter than the snapshot
    expect(sharedRet.RetainUntilDate!.toISOString()).toBe(r2.chunksLockedUntil);
    expect(Date.parse(r2.chunksLockedUntil!) - Date.parse(r2.lockedUntil!)).toBe(0.2 * 86_400_000);
    expect((await until(`snapshots/${snaps[0]}/manifest.json`)).RetainUntilDate!.toISOString()).toBe(r1.lockedUntil);
    // a thief with these keys cannot delete a version
    const versions = (await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: `office/snapshots/${snaps[0]}/manifest.json` }))).Versions!;
    await expect(s3.send(new DeleteObjectCommand({ Bucket: b, Key: versions[0]!.Key!, VersionId: versions[0]!.VersionId! }))).rejects.toMatchObject({ name: 'AccessDenied' });
    const status = JSON.parse(await ok(['--json', 'offsite', 'status', '--to', `s3://${b}/office`])) as {
      objectLock: boolean;
      lagSnapshots: number;
      snapshots: { id: string; protectedUntil?: string }[];
    };
    expect(status.objectLock).toBe(true);
    expect(status.lagSnapshots).toBe(0);
    expect(status.snapshots.map((s) => s.protectedUntil)).toEqual([r1.lockedUntil, r2.lockedUntil]);
  });

  it('extends only the locks that end too early: the next day no retention request at all, past the headroom each shared chunk once; locks cover every snapshot', async () => {
    const b = await newBucket(gw, 'relock', true);
    const s3 = gatewayClient(gw);
    const until = async (key: string) => (await s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: key }))).Retention!.RetainUntilDate!.getTime();
    const DAY = 86_400_000;
    const repo = await openRepository(repoDir, {});
    // one copy per call, `at` ms after now (the clock of the copy), retention requests counted by the SDK itself
    const run = async (prefix: string, id: string, at: number) => {
      const dest = new S3Destination(s3TargetFrom(`s3://${b}/${prefix}`, { endpoint: gw.TWINSNAP_S3_ENDPOINT }));
      const commands: string[] = [];
      dest.client.middlewareStack.add((next, context) => async (args) => (commands.push(String(context.commandName)), next(args)), { step: 'initialize', name: 'countCommands' });
      try {
        const lockDates = await LockDates.load(join(tmp.path, `${prefix}.lock-dates.json`));
        const r = await copyToOffsite(repo, dest, { snapshotIds: [id], lock: { mode: 'GOVERNANCE', days: 30 }, lockDates, clock: { ...systemClock, now: () => Date.now() + at } });
        expect(r.copied).toEqual([id]);
        return commands.filter((c) => c === 'PutObjectRetentionCommand').length;
      } finally {
        dest.close();
      }
    };
    try {
      const shared = new Set(chunksOf(snaps[0]!).filter((dg) => chunksOf(snaps[1]!).includes(dg)));
      expect(shared.size).toBeGreaterThan(10);
      // 30 days + 3 days of headroom: the next daily copy finds every shared lock long enough
      await run('daily', snaps[0]!, 0);
      expect(await run('daily', snaps[1]!, DAY)).toBe(0);
      // 4 days later the shared chunks (and the configuration object) end before the new point's 30 days: each extended once
      await run('later', snaps[0]!, 0);
      expect(await run('later', snaps[1]!, 4 * DAY)).toBe(shared.size + 1);
      for (const prefix of ['daily', 'later']) {
        const point = await until(`${prefix}/snapshots/${snaps[1]}/manifest.json`);
        for (const dg of new Set(chunksOf(snaps[1]!))) expect(await until(`${prefix}/${chunkRel(dg)}`), `${prefix} ${dg}`).toBeGreaterThanOrEqual(point);
        expect(await until(`${prefix}/twinsnap-repo.json`)).toBeGreaterThanOrEqual(point);
      }
    } finally {
      await repo.close();
    }
  });

  it('the app sets it up: Test connection names each fault, keys only in the secret store, Copy now is a job, restore points, files and disks restored from the offsite copy', async () => {
    const b = await newBucket(gw, 'app', true);
    const keys = { accessKeyId: gw.AWS_ACCESS_KEY_ID, secretAccessKey: gw.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID; // the app's keys are the ones it was given
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const engine = await createEngine({ dataDir, logger: nullLogger, hypervisors: [] });
    const call = engine.service.call.bind(engine.service);
    const where = { to: `s3://${b}/app`, endpoint: gw.TWINSNAP_S3_ENDPOINT, region: 'us-east-1', pathStyle: true, lockDays: 2 };
    try {
      const refused = async (destination: object, code: string, names: string) => {
        const e = (await call('offsite.test', { destination }).then(
          () => undefined,
          (x: unknown) => x,
        )) as { code?: string; message?: string } | undefined;
        expect(e?.code).toBe(code);
        expect(e?.message).toContain(names);
      };
      await refused({ ...where, ...keys, secretAccessKey: 'not-the-secret' }, 'OFFSITE_AUTH_FAILED', `s3://${b}/app`);
      await refused({ ...where, ...keys, to: `s3://no-such-bucket-${Date.now()}/app` }, 'OFFSITE_BUCKET_NOT_FOUND', 's3://no-such-bucket-');
      const plain = await newBucket(gw, 'app-plain');
      await refused({ ...where, ...keys, to: `s3://${plain}/app` }, 'OFFSITE_NO_OBJECT_LOCK', `s3://${plain}/app`);
      expect(await call('offsite.test', { destination: { ...where, ...keys } })).toMatchObject({ objectLock: true, snapshotsOffsite: 0 });

      const set = await call('offsite.configure', { destination: { ...where, ...keys }, dailyAt: '02:15' });
      expect(set.settings).toEqual({ ...where, lockMode: 'COMPLIANCE', keysStored: true });
      expect(set.dailyAt).toBe('02:15');
      const config = readFileSync(join(dataDir, 'config.json'), 'utf8');
      expect(config).toContain('02:15');
      expect(config).not.toContain(keys.secretAccessKey);
      expect(JSON.stringify(set)).not.toContain(keys.secretAccessKey);

      const { jobId } = await call('offsite.copyNow', {});
      const deadline = Date.now() + 90_000;
      let job = await call('jobs.get', { jobId });
      while (job.status === 'running' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        job = await call('jobs.get', { jobId });
      }
      expect(job).toMatchObject({ kind: 'offsite', trigger: 'manual', status: 'succeeded' });
      const status = await call('offsite.status', {});
      expect(status.snapshots.map((x) => [x.id, x.offsite, Boolean(x.protectedUntil)])).toEqual(snaps.map((id) => [id, true, true]));

      // the offsite copy as a source: its points, the download a restore costs, a file restored from it
      expect((await call('snapshots.list', { source: 'offsite' })).map((x) => x.id)).toEqual(snaps);
      const cost = await call('offsite.estimate', { snapshotId: snaps[1]! });
      expect(cost.bytes).toBeGreaterThan(16 << 20);
      expect((await call('files.list', { snapshotId: snaps[1]!, path: 'disk/p0', source: 'offsite' })).entries.map((e) => e.name)).toContain('hello.txt');
      const out = join(tmp.path, 'app-restored');
      await call('files.restore', { snapshotId: snaps[1]!, paths: ['disk/p0/hello.txt'], to: out, source: 'offsite' });
      expect(readFileSync(join(out, 'hello.txt'), 'utf8')).toBe('hello from the office\n');

      // a disk restore (restore.start, a job) from the offsite copy: the same image, block for block
      const disks = join(tmp.path, 'app-disks');
      const restore = await call('restore.start', { snapshotId: snaps[1]!, mode: 'disks', to: disks, format: 'qcow2', source: 'offsite' });
      let r = await call('jobs.get', { jobId: restore.jobId });
      while (r.status === 'running' && Date.now() < deadline + 60_000) {
        await new Promise((res) => setTimeout(res, 200));
        r = await call('jobs.get', { jobId: restore.jobId });
      }
      expect(r.status, JSON.stringify(r.steps)).toBe('succeeded');
      const exported = readdirSync(disks).filter((n) => n.endsWith('.qcow2'));
      expect(exported).toHaveLength(1);
      execFileSync('qemu-img', ['compare', '-q', image2, join(disks, exported[0]!)]);

      const removed = await call('offsite.remove', {});
      expect(removed.configured).toBe(false);
      expect(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).not.toContain(keys.secretAccessKey);
    } finally {
      await engine.close();
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey });
    }
  });

  it('the scheduled offsite job: configured once, run by the daily maintenance as a scheduled job', async () => {
    const b = await newBucket(gw, 'sched');
    await ok(['offsite', 'schedule', '--to', `s3://${b}/office`, '--limit-rate', '64M']);
    // the scheduler's process has no keys in its environment: it uses the ones saved by `schedule`
    const keys = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const engine = await createEngine({ dataDir });
    try {
      expect(engine.context.config().offsite).toEqual({ to: `s3://${b}/office`, endpoint: gw.TWINSNAP_S3_ENDPOINT, limitRate: 64 << 20 });
      expect(readFileSync(join(dataDir, 'config.json'), 'utf8')).not.toContain(keys.secret!);
      await repositoryMaintenance(engine.context).offsite!();
    } finally {
      await engine.close();
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: keys.id, AWS_SECRET_ACCESS_KEY: keys.secret });
    }
    expect(await bucketObjects(b, 'office')).toEqual(localObjects());
    const jobs = JSON.parse(await ok(['--json', 'jobs', '--no-logs', '--limit', '1'])) as { kind: string; trigger: string; status: string }[];
    expect(jobs[0]).toMatchObject({ kind: 'offsite', trigger: 'scheduled', status: 'succeeded' });
    await ok(['offsite', 'schedule', '--off']);
  });

  it('prune: what the repository forgot leaves the bucket (every version), but never before its lock runs out', async () => {
    // a repository of its own: the same two snapshots, the older one then forgotten locally
    const dir = join(tmp.path, 'prune-data');
    const repo = join(dir, 'repository');
    const ids: string[] = [];
    for (const img of [image1, image2]) ids.push(JSON.parse(await ok(['--json', 'import-disk', '--guest', 'office', img], dir)).id);
    const b = await newBucket(gw, 'prune', true);
    const to = `s3://${b}/office`;
    const lockSeconds = 6;
    const copied = JSON.parse(await ok(['--json', 'offsite', 'copy', '--to', to, '--lock-days', String(lockSeconds / 86400)], dir)) as { lockedUntil: string };
    const before = await bucketObjects(b, 'office');
    expect(before).toEqual(localObjects(repo));
    const onlyOld = new Set(chunksOf(ids[0]!, repo).filter((dg) => !chunksOf(ids[1]!, repo).includes(dg)));
    expect(onlyOld.size).toBeGreaterThan(0);
    await ok(['forget', '--guest', 'office', '--keep-last', '1'], dir);
    const prune = async () =>
      JSON.parse(await ok(['--json', 'offsite', 'prune', '--to', to], dir)) as { removed: string[]; locked: { id: string; until: string }[]; chunksDeleted: number; chunksLocked: number };
    const early = await prune();
    expect(early.removed).toEqual([]);
    expect(early.locked).toEqual([{ id: ids[0], until: copied.lockedUntil }]);
    expect(early.chunksDeleted).toBe(0);
    expect(await bucketObjects(b, 'office')).toEqual(before); // nothing deleted early
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(copied.lockedUntil) - Date.now()) + 1500));
    const late = await prune();
    expect(late.removed).toEqual([ids[0]]);
    expect(late.chunksDeleted).toBe(onlyOld.size);
    const expected = new Map([...before].filter(([k]) => !k.startsWith(`snapshots/${ids[0]}/`) && !onlyOld.has(k.split('/').pop()!)));
    expect(await bucketObjects(b, 'office')).toEqual(expected);
    // gone for good, not hidden behind a delete marker
    const left = await gatewayClient(gw).send(new ListObjectVersionsCommand({ Bucket: b, Prefix: `office/snapshots/${ids[0]}/` }));
    expect([...(left.Versions ?? []), ...(left.DeleteMarkers ?? [])]).toEqual([]);
    // what remains still restores
    expect(JSON.parse(await ok(['--json', '--repo', to, 'verify', '--read-data'], join(tmp.path, 'prune-dr'))).ok).toBe(true);
  });

  it('faults: wrong keys, missing bucket, no Object Lock, full quota — typed errors naming the destination; the next run completes', async () => {
    const b = await newBucket(gw, 'faults');
    const dest = `s3://${b}/office`;
    const fails = async (code: string, args: string[]) => {
      const r = await cli('offsite', 'copy', ...args);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toContain(`[${code}]`);
      expect(r.err).toContain(args[1]!.split('/').slice(0, 3).join('/'));
    };
    const secret = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      await fails('OFFSITE_AUTH_FAILED', ['--to', dest]);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = secret;
    }
    await fails('OFFSITE_BUCKET_NOT_FOUND', ['--to', `s3://no-such-bucket-${Date.now()}/x`]);
    await fails('OFFSITE_NO_OBJECT_LOCK', ['--to', dest, '--lock-days', '1']);
    radosgwAdmin(['quota', 'set', '--quota-scope=bucket', `--bucket=${b}`, '--max-size=6291456']);
    radosgwAdmin(['quota', 'enable', '--quota-scope=bucket', `--bucket=${b}`]);
    await fails('OFFSITE_QUOTA_EXCEEDED', ['--to', dest, '--jobs', '1']);
    expect(await noHalfPublished(b, 'office')).toBe(0);
    expect((await bucketObjects(b, 'office')).size).toBeGreaterThan(0);
    radosgwAdmin(['quota', 'disable', '--quota-scope=bucket', `--bucket=${b}`]);
    expect((await copy('--to', dest)).copied).toEqual(snaps);
    expect(await bucketObjects(b, 'office')).toEqual(localObjects());
  });

  it('resumes after the gateway is killed mid-upload: nothing half-published, nothing sent twice', async () => {
    const b = await newBucket(gw, 'resume');
    const run = cli('--json', 'offsite', 'copy', '--to', `s3://${b}/office`, '--limit-rate', '4M', '--jobs', '2');
    // kill radosgw once some chunks have arrived (a network that drops mid-upload)
    const deadline = Date.now() + 60_000;
    while ([...(await bucketObjects(b, 'office')).keys()].filter((k) => k.startsWith('chunks/')).length < 4) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    killGateway();
    const failed = await run;
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/OFFSITE_UNREACHABLE/);
    expect(failed.err).toContain(`s3://${b}/office`);
    await restartGateway(gw);
    const before = await bucketObjects(b, 'office');
    expect([...before.keys()].some((k) => k.endsWith('manifest.json'))).toBe(false);
    expect(await noHalfPublished(b, 'office')).toBe(0);
    const resumed = await copy('--to', `s3://${b}/office`, '--limit-rate', '4M');
    expect(resumed.copied).toEqual(snaps);
    // exactly what was missing was sent
    const all = localObjects();
    expect(resumed.objectsSent).toBe([...all.keys()].filter((k) => !before.has(k)).length);
    expect(resumed.bytesSent).toBe([...all].filter(([k]) => !before.has(k)).reduce((a, [, s]) => a + s, 0));
    // the bandwidth limit held (one second of burst allowed)
    expect(resumed.seconds).toBeGreaterThanOrEqual(((resumed.bytesSent - (4 << 20)) / (4 << 20)) * 0.9);
    expect(await bucketObjects(b, 'office')).toEqual(all);
  });

  it('disaster recovery from the bucket alone: list, browse, restore a file, export a disk, rebuild the catalog, verify', async () => {
    const bigSha = sha(readFileSync(join(tmp.path, 'files', 'big.bin')));
    rmSync(dataDir, { recursive: true, force: true }); // the office is gone: repository and data folder
    const fresh = join(tmp.path, 'new-install');
    const repo = ['--repo', `s3://${bucket}/office`];
    const run = (...args: string[]) => ok([...repo, ...args], fresh);
    expect((JSON.parse(await run('--json', 'snapshots')) as { id: string }[]).map((s) => s.id)).toEqual(snaps);
    const listing = JSON.parse(await run('--json', 'ls', snaps[1]!, 'disk/p0')) as { entries: { name: string }[] };
    expect(listing.entries.map((e) => e.name)).toEqual(expect.arrayContaining(['big.bin', 'hello.txt']));
    const cat = await runCliInProcess(fresh, ['--s3-endpoint', gw.TWINSNAP_S3_ENDPOINT, ...repo, 'cat', snaps[1]!, 'disk/p0/hello.txt']);
    expect(cat.bytes.toString()).toBe('hello from the office\n');
    await run('restore-files', snaps[1]!, 'disk/p0/big.bin', '--to', join(tmp.path, 'restored'));
    expect(sha(readFileSync(join(tmp.path, 'restored', 'big.bin')))).toBe(bigSha);
    await run('export-disk', snaps[1]!, 'disk', '--to', join(tmp.path, 'disk.qcow2'), '--format', 'qcow2');
    execFileSync('qemu-img', ['compare', '-q', image2, join(tmp.path, 'disk.qcow2')]);
    expect(await run('catalog', 'rebuild')).toMatch(/2 snapshot/);
    expect(JSON.parse(await run('--json', 'verify')).ok).toBe(true);
    expect(JSON.parse(await run('--json', 'verify', '--read-data')).ok).toBe(true);
    const gc = await runCliInProcess(fresh, ['--s3-endpoint', gw.TWINSNAP_S3_ENDPOINT, ...repo, 'gc']);
    expect(gc.err).toContain('[REPO_READ_ONLY]');
  });

  it('an encrypted repository: the bucket holds nothing readable, its keys follow a password change, and the bucket alone with the password restores', { timeout: 240_000 }, async () => {
    const dir = join(tmp.path, 'enc');
    const data = join(dir, 'data');
    const repo = join(dir, 'repository');
    const files = join(dir, 'files');
    mkdirSync(files, { recursive: true });
    const pwFile = (name: string, text: string) => {
      const f = join(tmp.path, name); // outside `dir`, which the disaster takes
      writeFileSync(f, `${text}\n`, { mode: 0o600 });
      return f;
    };
    const pw1 = pwFile('enc-pw1', 'first office password');
    const pw2 = pwFile('enc-pw2', 'second office password');
    // a 8 MiB ext4 disk: 2 MiB of random bytes (32-byte slices of it are the markers: random data
    // is stored as it is when not encrypted, so a plain copy holds them verbatim) and a text file
    const secret = randomBytes(2 << 20);
    writeFileSync(join(files, 'secret.bin'), secret);
    const textMarker = `TWINSNAP-PLAINTEXT-${randomBytes(8).toString('hex')}`;
    writeFileSync(join(files, 'note.txt'), `${textMarker}\n`);
    const img = join(dir, 'disk.img');
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', files, img, '8M']);
    // inside one 1 KiB block (ext4's smallest), so never split by the storage's block boundaries
    const markers = [100, 4096 * 100 + 100, 4096 * 300 + 100, 4096 * 500 + 100].map((o) => secret.subarray(o, o + 32));
    const enc = (pw: string, ...args: string[]) => ok(['--repo', repo, '--password-file', pw, ...args], data);
    await enc(pw1, 'init', '--encrypt');
    const id = (JSON.parse(await enc(pw1, '--json', 'import-disk', '--guest', 'office-guest-name', img)) as { id: string }).id;
    const b = await newBucket(gw, 'enc');
    const to = `s3://${b}/office`;
    type Copy = { copied: string[]; keysSent: string[]; keysRemovedLocally: string[] };
    const c1 = JSON.parse(await enc(pw1, '--json', 'offsite', 'copy', '--to', to)) as Copy;
    expect(c1.copied).toEqual([id]);
    const localKeys = () =>
      readdirSync(join(repo, 'keys'))
        .map((n) => `keys/${n}`)
        .sort();
    expect(c1.keysSent).toEqual(localKeys()); // the password and the recovery key
    expect(c1.keysSent).toHaveLength(2);
    const inBucket = localObjects(repo);
    for (const k of localKeys()) inBucket.set(k, statSync(join(repo, k)).size);
    expect(await bucketObjects(b, 'office')).toEqual(inBucket);

    // every object of the bucket, downloaded: none holds the image's bytes, names or the password
    const s3 = gatewayClient(gw);
    const body = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: b, Key: `office/${key}` }))).Body!.transformToByteArray());
    const objects = await Promise.all([...(await bucketObjects(b, 'office')).keys()].map(async (k) => [k, await body(k)] as const));
    const needles = [...markers, Buffer.from(textMarker), Buffer.from('secret.bin'), Buffer.from('office-guest-name'), Buffer.from('office password')];
    for (const [key, bytes] of objects) for (const n of needles) expect(bytes.includes(n), `${key} holds '${n.toString('latin1').slice(0, 20)}…'`).toBe(false);
    // the control: the same disk in a plain repository holds every marker verbatim in its chunks
    const plain = join(dir, 'plain-data');
    await ok(['--json', 'import-disk', '--guest', 'office-guest-name', img], plain);
    const plainChunks = [...localObjects(join(plain, 'repository')).keys()].filter((k) => k.startsWith('chunks')).map((k) => readFileSync(join(plain, 'repository', k)));
    for (const m of markers) expect(plainChunks.some((c) => c.includes(m))).toBe(true);

    // a password change (new key file, the old one removed) and a key file rewritten in place
    await enc(pw1, 'key', 'passwd', '--new-password-file', pw2);
    const recovery = localKeys().find((k) => JSON.parse(readFileSync(join(repo, k), 'utf8')).kind === 'recovery')!;
    const rk = JSON.parse(readFileSync(join(repo, recovery), 'utf8')) as { label: string };
    writeFileSync(join(repo, recovery), `${JSON.stringify({ ...rk, label: 'kit in the office safe' }, null, 2)}\n`, { mode: 0o600 });
    const c2 = JSON.parse(await enc(pw2, '--json', 'offsite', 'copy', '--to', to)) as Copy;
    expect(c2.copied).toEqual([]);
    expect(c2.keysSent).toEqual(localKeys()); // the new password's key and the changed recovery key
    const old = c1.keysSent.find((k) => k !== recovery)!;
    expect(c2.keysRemovedLocally).toEqual([old]);
    expect((await body(recovery)).equals(readFileSync(join(repo, recovery)))).toBe(true);
    // prune removes the old password's key file offsite (and reads the sealed indexes to keep every chunk)
    const pruned = JSON.parse(await enc(pw2, '--json', 'offsite', 'prune', '--to', to)) as { removed: string[]; chunksDeleted: number; keysDeleted: string[] };
    expect(pruned).toMatchObject({ removed: [], chunksDeleted: 0, keysDeleted: [old] });
    for (const k of localKeys()) inBucket.set(k, statSync(join(repo, k)).size);
    inBucket.delete(old);
    expect(await bucketObjects(b, 'office')).toEqual(inBucket);

    // the disaster: the repository and the data folder are gone; a new install has the bucket and the password
    rmSync(dir, { recursive: true, force: true });
    const fresh = join(tmp.path, 'enc-new-install');
    const dr = (...args: string[]) => runCliInProcess(fresh, ['--s3-endpoint', gw.TWINSNAP_S3_ENDPOINT, '--repo', to, ...args]);
    // what the bucket holds, said with no password (its configuration and key files)
    const info = await dr('--json', 'repository', 'info');
    expect(info.code, info.err).toBe(0);
    expect(JSON.parse(info.out)).toMatchObject({ path: expect.stringContaining(to), encrypted: true, cipher: 'AES-256-GCM', keys: [{ kind: expect.any(String) }, { kind: expect.any(String) }] });
    process.env.TWINSNAP_PASSWORD = 'second office password';
    try {
      const list = await dr('--json', 'snapshots');
      expect(list.code, list.err).toBe(0);
      expect((JSON.parse(list.out) as { id: string }[]).map((s) => s.id)).toEqual([id]);
      const restored = await dr('restore-files', id, 'disk/p0/secret.bin', '--to', join(tmp.path, 'enc-restored'));
      expect(restored.code, restored.err).toBe(0);
      expect(sha(readFileSync(join(tmp.path, 'enc-restored', 'secret.bin')))).toBe(sha(secret));
      const verify = await dr('--json', 'verify', '--read-data');
      expect(verify.code, verify.err).toBe(0);
      expect(JSON.parse(verify.out).ok).toBe(true);
      // the old password opened the repository before the change; its key file is gone offsite too
      process.env.TWINSNAP_PASSWORD = 'first office password';
      const wrong = await dr('snapshots');
      expect(wrong.code).toBe(1);
      expect(wrong.err).toContain('[REPO_PASSWORD_WRONG]');
      expect(wrong.err).toContain(`wrong password for repository '${to}`);
    } finally {
      delete process.env.TWINSNAP_PASSWORD;
    }
    encrypted = { to, id, secretSha: sha(secret) };
  });

  it("the app on a new install, an encrypted offsite copy: no password is REPO_PASSWORD_REQUIRED, a wrong one REPO_PASSWORD_WRONG, the unlocked (and remembered) copy lists, browses and restores a file; the local repository's remembered password opens it too", async () => {
    expect(encrypted, 'the encrypted copy above').toBeDefined();
    const { to, id, secretSha } = encrypted!;
    const keys = { accessKeyId: gw.AWS_ACCESS_KEY_ID, secretAccessKey: gw.AWS_SECRET_ACCESS_KEY };
    const destination = { to, endpoint: gw.TWINSNAP_S3_ENDPOINT, region: 'us-east-1', pathStyle: true, ...keys };
    const typed = (p: Promise<unknown>) =>
      p.then(
        () => ({ code: 'resolved', message: '' }),
        (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
      );
    const install = async (name: string) => {
      const engine = await createEngine({ dataDir: join(tmp.path, name), logger: nullLogger, hypervisors: [] });
      return { engine, call: engine.service.call.bind(engine.service) };
    };
    const env = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID; // the app's keys are the ones it was given
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      // a new install: the destination entered, no password anywhere yet
      let { engine, call } = await install('enc-app');
      try {
        await call('offsite.configure', { destination });
        expect(await typed(call('snapshots.list', { source: 'offsite' }))).toMatchObject({ code: 'REPO_PASSWORD_REQUIRED' });
        const wrong = await typed(call('repository.unlock', { password: 'first office password', source: 'offsite' }));
        expect(wrong.code).toBe('REPO_PASSWORD_WRONG');
        expect(wrong.message).toContain(to);
        expect(await typed(call('files.list', { snapshotId: id, path: 'disk/p0', source: 'offsite' }))).toMatchObject({ code: 'REPO_PASSWORD_REQUIRED' });
        expect(await call('repository.unlock', { password: 'second office password', remember: true, source: 'offsite' })).toMatchObject({ encrypted: true, locked: false });
        expect((await call('snapshots.list', { source: 'offsite' })).map((x) => x.id)).toEqual([id]);
      } finally {
        await engine.close();
      }
      // the next start: the remembered password opens it; browse and restore a file
      ({ engine, call } = await install('enc-app'));
      try {
        expect((await call('files.list', { snapshotId: id, path: 'disk/p0', source: 'offsite' })).entries.map((e) => e.name)).toContain('secret.bin');
        const out = join(tmp.path, 'enc-app-restored');
        await call('files.restore', { snapshotId: id, paths: ['disk/p0/secret.bin'], to: out, source: 'offsite' });
        expect(sha(readFileSync(join(out, 'secret.bin')))).toBe(secretSha);
      } finally {
        await engine.close();
      }
      // the fallback: the local repository's remembered password (its folder gone) opens its offsite copy, which shares it
      ({ engine, call } = await install('enc-app-fallback'));
      try {
        await call('offsite.configure', { destination });
        engine.context.secrets.set(repositoryPasswordKey(engine.context.config().repository), 'second office password');
        expect((await call('snapshots.list', { source: 'offsite' })).map((x) => x.id)).toEqual([id]);
      } finally {
        await engine.close();
      }
    } finally {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: env.id, AWS_SECRET_ACCESS_KEY: env.secret });
    }
  });
});

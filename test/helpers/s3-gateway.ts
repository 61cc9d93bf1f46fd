/**
 * The real S3 server of the tests: one Ceph RADOS Gateway (test/harness/s3-gateway/start) shared
 * by every test file of a run. The first file that asks starts it under `.cache/s3-gateway`
 * (~15 s); the others — in this worker or another — find it answering and reuse it. The run that
 * started it stops it when its last user is done (`releaseGateway` in a file's afterAll: no other
 * live process of the run still uses it) or at the end (`test/helpers/s3-gateway-teardown.ts`,
 * Vitest globalSetup).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

// the pinned SDK runs on Node 20; its notice about later versions would only clutter test output
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const GATEWAY_DIR = resolve('.cache/s3-gateway');
const HARNESS = resolve('test/harness/s3-gateway');

export interface GatewayEnv {
  TWINSNAP_S3_ENDPOINT: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
}

function parseEnv(text: string): GatewayEnv {
  const env = Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;
  if (!env.TWINSNAP_S3_ENDPOINT || !env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) throw new Error(`s3-gateway/start printed no credentials:\n${text}`);
  return env as unknown as GatewayEnv;
}

/** Holds `.cache/s3-gateway.lock` (a directory: mkdir is atomic) while `fn` runs. */
async function withLock<T>(fn: () => T): Promise<T> {
  const lock = `${GATEWAY_DIR}.lock`;
  mkdirSync(resolve('.cache'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock left by a killed run is stale after 2 minutes (the start takes ~15 s)
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

let cached: GatewayEnv | undefined;

/** The running gateway's endpoint and keys; starts it once per run if it is not answering. */
export async function s3Gateway(): Promise<GatewayEnv> {
  if (cached) return cached;
  cached = await withLock(() => {
    const out = execFileSync(join(HARNESS, 'start'), [GATEWAY_DIR], { encoding: 'utf8', timeout: 300_000 });
    // the run that found it down owns it (and stops it in the global teardown)
    if (process.env.TWINSNAP_TEST_RUN_ID && !out.includes('# already running')) writeFileSync(join(GATEWAY_DIR, 'started-by-run'), process.env.TWINSNAP_TEST_RUN_ID);
    // this process uses it: an early stop by another file waits for it (releaseGateway); a fresh start has no users yet
    if (!out.includes('# already running')) rmSync(join(GATEWAY_DIR, 'users'), { recursive: true, force: true });
    mkdirSync(join(GATEWAY_DIR, 'users'), { recursive: true });
    writeFileSync(join(GATEWAY_DIR, 'users', String(process.pid)), '');
    return parseEnv(out);
  });
  return cached;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * This process is done with the gateway: stops it now if this run started it and no other live
 * process still uses it (an idle single-node Ceph keeps its OSD and radosgw busy, ~0.7 of a core,
 * taken from later tests); otherwise the last user or the run's teardown stops it.
 */
export async function releaseGateway(): Promise<void> {
  const runId = process.env.TWINSNAP_TEST_RUN_ID;
  if (!cached || !runId) return;
  cached = undefined;
  await withLock(() => {
    const users = join(GATEWAY_DIR, 'users');
    rmSync(join(users, String(process.pid)), { force: true });
    const others = readdirSync(users).filter((f) => alive(Number(f)));
    if (others.length > 0) return;
    try {
      stopGatewayIfOwned(runId);
    } catch {
      // not started by this run: whoever started it stops it
    }
  });
}

/** An S3 client for the test gateway (path-style, as Ceph RGW without wildcard DNS needs). */
export function gatewayClient(env: GatewayEnv, keys?: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({
    endpoint: env.TWINSNAP_S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: keys ?? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
}

/** A new bucket with a unique name (Object Lock enabled when asked; it implies versioning). */
export async function newBucket(env: GatewayEnv, prefix: string, objectLock = false): Promise<string> {
  const bucket = `${prefix}-${randomBytes(4).toString('hex')}`;
  await gatewayClient(env).send(new CreateBucketCommand({ Bucket: bucket, ...(objectLock ? { ObjectLockEnabledForBucket: true } : {}) }));
  return bucket;
}

/** radosgw-admin against the test cluster (quota, users). */
export function radosgwAdmin(args: string[]): string {
  return execFileSync('radosgw-admin', ['--conf', join(GATEWAY_DIR, 'ceph.conf'), '-n', 'client.admin', ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** Stops the gateway if this run started it. */
export function stopGatewayIfOwned(runId: string): void {
  const owner = readFileSync(join(GATEWAY_DIR, 'started-by-run'), { encoding: 'utf8', flag: 'r' });
  if (owner === runId) execFileSync(join(HARNESS, 'stop'), [GATEWAY_DIR], { timeout: 60_000 });
}

/** Kills the radosgw process (SIGKILL: a network that drops mid-upload); the cluster stays up. */
export function killGateway(): void {
  const pid = Number(readFileSync(join(GATEWAY_DIR, 'run', 'client.rgw.gw.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
}

/** Starts radosgw again on the same port and waits until it answers. */
export async function restartGateway(env: GatewayEnv): Promise<void> {
  execFileSync('radosgw', ['--conf', join(GATEWAY_DIR, 'ceph.conf'), '-n', 'client.rgw.gw', '--keyring', join(GATEWAY_DIR, 'client.rgw.gw.keyring')], { timeout: 60_000 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await fetch(env.TWINSNAP_S3_ENDPOINT, { signal: AbortSignal.timeout(2000) });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

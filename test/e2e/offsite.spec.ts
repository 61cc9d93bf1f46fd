import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { newBucket, s3Gateway, stopGatewayIfOwned, type GatewayEnv } from '../helpers/s3-gateway.js';
import { seriousA11yViolations } from './helpers/axe.js';
import { seedColdSnapshots } from './helpers/seed.js';
import { REPO_ROOT, startServe, type ServeHandle } from './helpers/serve.js';

/**
 * The Repository page's Offsite section over a real offsite copy: restore points copied by the
 * CLI to a bucket with Object Lock on the test Ceph RADOS Gateway, one more made afterwards (the
 * lag), read by `twinsnap serve` and shown in Chromium.
 */
let gw: GatewayEnv;
let serve: ServeHandle;
let dir: string;
let bucket: string;
let copied: { lockedUntil: string; copied: string[] };
const runId = `e2e-offsite-${process.pid}`;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  process.env.TWINSNAP_TEST_RUN_ID ??= runId;
  gw = await s3Gateway();
  const env = { ...process.env, ...gw };
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-e2e-offsite-'));
  seedColdSnapshots(dir, ['Mail', 'Accounting']);
  bucket = await newBucket(gw, 'e2e', true);
  const cli = (...a: string[]) => execFileSync(process.execPath, ['bin/twinsnap.mjs', '--data-dir', dir, '--json', ...a], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 120_000 });
  cli('offsite', 'schedule', '--to', `s3://${bucket}/office`, '--lock-days', '30');
  copied = JSON.parse(cli('offsite', 'copy', '--to', `s3://${bucket}/office`, '--lock-days', '30')) as typeof copied;
  seedColdSnapshots(dir, ['Mail']); // not offsite yet
  serve = await startServe({ dataDir: dir, env: gw as unknown as Record<string, string> });
});

test.afterAll(async () => {
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
  try {
    stopGatewayIfOwned(process.env.TWINSNAP_TEST_RUN_ID ?? runId);
  } catch {
    // started by someone else: left running
  }
});

test('Repository → Offsite: destination, last copy, lag and protected-until', async ({ page }) => {
  await page.goto(`${serve.url}#/repository`);
  const facts = page.getByTestId('offsite-facts');
  await expect(facts).toContainText(`s3://${bucket}/office`);
  await expect(facts).toContainText('Last copysucceeded');
  await expect(facts).toContainText('1 restore point(s) not offsite yet');
  await expect(facts).toContainText('Object Lockon');
  const until = new Date(copied.lockedUntil);
  await expect(facts).toContainText(String(until.getFullYear()));
  expect(copied.copied).toHaveLength(2);
  expect(await seriousA11yViolations(page)).toEqual([]);
});

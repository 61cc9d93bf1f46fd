import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { newBucket, s3Gateway, stopGatewayIfOwned, type GatewayEnv } from '../helpers/s3-gateway.js';
import { seriousA11yViolations } from './helpers/axe.js';
import { REPO_ROOT, startServe, type ServeHandle } from './helpers/serve.js';

/**
 * Offsite copies in the app, against the test Ceph RADOS Gateway (a real S3 server, a bucket with
 * Object Lock): the destination and keys entered on the Repository page (Test connection, Save),
 * Copy now, the offsite badge with its protected-until date in the calendar, then — the local
 * repository gone (its disk unplugged) — a file restored from the offsite copy through the
 * restore wizard, checked byte for byte. `twinsnap serve` gets no AWS keys: only the ones typed.
 */
const GUEST = 'Front desk';
const REPORT = 'quarterly report from the backup\n';
let gw: GatewayEnv;
let serve: ServeHandle;
let dir: string;
let dataDir: string;
let repoDir: string;
let bucket: string;
let page: Page;
const runId = `e2e-offsite-${process.pid}`;
// the serve process sees no keys of its own: the form's keys (in the secret store) are the only ones
const noKeys = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', TWINSNAP_S3_ENDPOINT: '' };

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  test.setTimeout(240_000);
  process.env.TWINSNAP_TEST_RUN_ID ??= runId;
  gw = await s3Gateway();
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-e2e-offsite-'));
  dataDir = join(dir, 'data');
  repoDir = join(dir, 'usb-disk', 'repository');
  // a real FAT disk holding one document, imported into a repository on "a USB disk"
  const img = join(dir, 'frontdesk.img');
  execFileSync('mkfs.fat', ['-C', '-F', '16', '-n', 'FRONTDESK', img, String(16 * 1024)], { stdio: 'ignore' });
  writeFileSync(join(dir, 'report.txt'), REPORT);
  execFileSync('mmd', ['-i', img, '::/Documents']);
  execFileSync('mcopy', ['-i', img, join(dir, 'report.txt'), '::/Documents/report.txt']);
  const cli = (...a: string[]) => execFileSync(process.execPath, ['bin/twinsnap.mjs', '--data-dir', dataDir, '--json', ...a], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  cli('repository', 'init', repoDir);
  cli('import-disk', '--guest', GUEST, img);
  bucket = await newBucket(gw, 'e2e', true);
  serve = await startServe({ dataDir, env: noKeys });
  page = await browser.newPage();
});

test.afterAll(async () => {
  await page?.close();
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
  try {
    stopGatewayIfOwned(process.env.TWINSNAP_TEST_RUN_ID ?? runId);
  } catch {
    // started by someone else: left running
  }
});

test('Repository → Offsite: enter the bucket and keys, Test connection, Save (keys stored, never shown), Copy now', async () => {
  await page.goto(`${serve.url}#/repository`);
  await expect(page.getByTestId('offsite-none')).toBeVisible();
  const form = page.getByRole('form', { name: 'Offsite destination' });
  await form.getByLabel('Destination').fill(`s3://${bucket}/office`);
  await form.getByLabel('Endpoint URL').fill(gw.TWINSNAP_S3_ENDPOINT);
  await form.getByLabel('Access key ID').fill(gw.AWS_ACCESS_KEY_ID);
  // a wrong secret first: the typed error in words, naming the destination
  await form.getByLabel('Secret access key').fill('not-the-secret');
  await form.getByRole('button', { name: 'Test connection' }).click();
  await expect(form.getByTestId('engine-error')).toContainText('The storage service refused the keys');
  await expect(form.getByTestId('engine-error')).toContainText(`s3://${bucket}/office`);
  await form.getByLabel('Secret access key').fill(gw.AWS_SECRET_ACCESS_KEY);
  await expect(form.getByLabel(/Object Lock/)).toBeChecked();
  await form.getByRole('button', { name: 'Test connection' }).click();
  await expect(form.getByTestId('offsite-test-ok')).toContainText('Object Lock is on');
  expect(await seriousA11yViolations(page)).toEqual([]);
  await form.getByRole('button', { name: 'Save' }).click();

  const facts = page.getByTestId('offsite-facts');
  await expect(facts).toContainText(`s3://${bucket}/office`);
  await expect(facts).toContainText('keys stored');
  await expect(facts).toContainText('1 restore point(s) not offsite yet');
  expect(await page.locator('body').innerText()).not.toContain(gw.AWS_SECRET_ACCESS_KEY);
  expect(readFileSync(join(dataDir, 'config.json'), 'utf8')).not.toContain(gw.AWS_SECRET_ACCESS_KEY);

  await page.getByRole('button', { name: 'Copy now' }).click();
  await expect(page.getByTestId('offsite-copy-job')).toHaveAttribute('data-status', 'succeeded', { timeout: 90_000 });
  await expect(facts).toContainText('none: every restore point is offsite');
  await expect(facts).toContainText('Last copysucceeded');
  await expect(facts).toContainText('Object Lockon, 30 days per copy');
});

test('the calendar marks the point offsite with its protected-until date, and its drawer says so', async () => {
  await page.goto(`${serve.url}#/calendar`);
  const cell = page.locator('[role="gridcell"][aria-label*="offsite, protected until"]');
  await expect(cell).toHaveCount(1);
  await expect(page.getByRole('list', { name: 'Legend' })).toContainText('offsite, locked');
  await cell.click();
  await expect(page.getByTestId('snapshot-details')).toContainText(/Offsite copyyes, protected until/);
  const until = new Date(Date.now() + 30 * 86_400_000);
  await expect(page.getByTestId('snapshot-details')).toContainText(String(until.getFullYear()));
});

test('with the local repository gone, a file is restored from the offsite copy through the wizard', async () => {
  // the USB disk is unplugged: the repository folder is gone when the app starts again
  await serve.stop();
  renameSync(repoDir, `${repoDir}.unplugged`);
  serve = await startServe({ dataDir, env: noKeys });
  await page.goto(`${serve.url}#/restore`);
  await page.getByRole('radio', { name: new RegExp(`Offsite copy \\(s3://${bucket}/office`) }).click();
  await page.getByRole('radio', { name: `${GUEST} (1 restore point)` }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radiogroup', { name: 'Restore points, newest first' }).getByRole('radio').first().click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: /Individual files/ }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByTestId('restore-from-offsite')).toContainText(`s3://${bucket}/office`);
  for (const name of ['frontdesk', 'p0', 'Documents']) {
    await page.getByTestId('file-row').filter({ hasText: name }).first().dblclick();
    await expect(page.getByRole('navigation', { name: 'Folder path' })).toContainText(name);
  }
  await page
    .getByTestId('file-row')
    .filter({ hasText: /report\.txt/i })
    .getByRole('checkbox')
    .check();
  await page.getByRole('button', { name: /Restore to folder… \(1\)/ }).click();
  const to = join(dir, 'restored');
  const field = page.getByRole('dialog').getByLabel('Destination folder');
  await field.fill(to);
  await field.press('Enter');
  await expect(page.getByTestId('files-restored')).toContainText('Restored 1 file');
  const name = execFileSync('mdir', ['-b', '-i', join(dir, 'frontdesk.img'), '::/Documents'])
    .toString()
    .trim()
    .split('/')
    .pop()!;
  expect(readFileSync(join(to, name), 'utf8')).toBe(REPORT);
});

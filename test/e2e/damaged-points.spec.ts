import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { engineCall } from './helpers/engine-call.js';
import { seedColdSnapshots } from './helpers/seed.js';
import { saveScreenshot } from './helpers/screenshots.js';
import { startServe, type ServeHandle } from './helpers/serve.js';

// Damaged points are flagged everywhere (issue 17.5): after a verify finds damage, the calendar
// mark, the point's drawer, the Restore wizard and the Guests page say which point (guest and
// time) and what to do; the verify result and its job name guest and time, not only an id.
// Its own serve over engine-made restore points (it damages the repository).
test.describe.configure({ mode: 'serial' });
let work: string;
let server: ServeHandle;
let page: Page;

test.beforeAll(async ({ browser }) => {
  test.setTimeout(180_000);
  work = mkdtempSync(join(tmpdir(), 'twinsnap-e2e-damaged-'));
  seedColdSnapshots(work, ['Ledger', 'Ledger']);
  server = await startServe({ dataDir: work });
  page = await browser.newPage();
});
test.afterAll(async () => {
  await page?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Flips bytes in the middle of every stored chunk (what bit rot on a USB disk does). */
function damageChunks(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += damageChunks(p);
    else if (statSync(p).size > 64) {
      const fd = openSync(p, 'r+');
      const at = Math.floor(statSync(p).size / 2);
      const b = Buffer.alloc(8);
      readSync(fd, b, 0, 8, at);
      for (let i = 0; i < 8; i++) b[i] = b[i]! ^ 0xff;
      writeSync(fd, b, 0, 8, at);
      closeSync(fd);
      n++;
    }
  }
  return n;
}

test('a verify that finds damage names guest and time, and every view flags the point with what to do', async ({}, testInfo) => {
  const [older, newer] = await engineCall(server, 'snapshots.list', { guest: 'Ledger' });
  expect(damageChunks(join(work, 'repository', 'chunks'))).toBeGreaterThan(0);
  await page.goto(`${server.url.split('?')[0]}?token=${server.token}#/repository`);
  await page.getByRole('button', { name: 'Verify every chunk (slow)' }).click();
  const result = page.getByTestId('repo-result');
  await expect(result).toContainText('Damaged: Ledger at', { timeout: 60_000 });
  await expect(result).toContainText('forget them and take a new backup now');
  await expect(result).not.toContainText(newer!.id);

  // the verify is a job of its own, started by hand, failed, naming the points
  await page.getByTestId('nav-jobs').click();
  const job = page.getByTestId('job-item').filter({ hasText: 'Repository — verify' }).first();
  await expect(job).toContainText('started by hand');
  await expect(job).toContainText('failed');
  await job.click();
  await expect(page.getByTestId('job-detail')).toContainText(/damaged restore point\(s\): Ledger at/);

  // calendar: the day cell says it, and the drawer explains what to do
  await page.getByTestId('nav-calendar').click();
  const today = page.getByRole('row').filter({ hasText: 'Ledger' }).locator('[aria-current=date]');
  await expect(today).toHaveAttribute('data-damaged', '2');
  await expect(today).toHaveAttribute('aria-label', /DAMAGED \(forget it, back up now\)/);
  await saveScreenshot(page, testInfo, 'damaged-calendar');
  await today.click();
  const drawer = page.getByTestId('snapshot-details').first();
  await expect(drawer.getByTestId('damaged-point')).toContainText('Damaged restore point: Ledger at');
  await expect(drawer.getByTestId('damaged-point')).toContainText('Forget it, and take a new backup now');
  await expect(drawer.getByTestId('damaged-point').getByRole('button', { name: 'Forget it…' })).toBeVisible();
  await page.keyboard.press('Escape');

  // the restore wizard marks the points and warns when one is chosen
  await page.getByTestId('nav-restore').click();
  await page.getByRole('radio', { name: /Ledger/ }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('radio', { name: /DAMAGED: restoring from it may fail/ })).toHaveCount(2);
  await page.getByRole('radio').first().check();
  await expect(page.getByTestId('damaged-point')).toContainText('Damaged restore point: Ledger at');

  // the Guests page lists them too (the guest needs no hypervisor to be named)
  await page.getByTestId('nav-guests').click();
  const alert = page.getByTestId('guests-damaged');
  await expect(alert).toContainText('2 damaged restore points');
  await expect(alert).toContainText('Ledger at');
  expect(older!.id).not.toBe(newer!.id);
});

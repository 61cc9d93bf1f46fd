import { seriousA11yViolations } from './helpers/axe.js';
import { engineCall } from './helpers/engine-call.js';
import { saveScreenshot } from './helpers/screenshots.js';
import { expect, test } from './helpers/seeded.js';

// Every page over real engine data: it renders what the engine says (or says honestly that a
// feature is not available yet), has no serious accessibility violations, and is screenshotted.
const PAGES = [
  { nav: 'guests', heading: 'Guests' },
  { nav: 'restore', heading: 'Restore' },
  { nav: 'jobs', heading: 'Jobs' },
  { nav: 'repository', heading: 'Repository' },
  { nav: 'settings', heading: 'Settings' },
] as const;

test.describe('pages', () => {
  for (const p of PAGES) {
    test(`${p.heading}: renders, no serious a11y violations`, async ({ page, seeded }, testInfo) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(seeded.url);
      await page.getByTestId(`nav-${p.nav}`).click();
      await expect(page.getByRole('heading', { level: 1, name: p.heading })).toBeVisible();
      await expect(page.getByText(/^Loading/)).toHaveCount(0, { timeout: 20_000 });
      await saveScreenshot(page, testInfo, `page-${p.nav}`);
      expect(await seriousA11yViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
    });
  }

  test('Repository shows the engine’s statistics', async ({ page, seeded }) => {
    const stats = await engineCall(seeded, 'repository.stats', {});
    await page.goto(`${seeded.url}#/repository`);
    const box = page.getByTestId('repo-stats');
    await expect(box).toContainText(stats.path);
    await expect(box).toContainText(`Restore points${stats.snapshots}`);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect(page.getByTestId('repo-result')).toContainText(/healthy|Damaged|not available/, { timeout: 30_000 });
  });

  test('restore wizard: guest → point (typed time picks the nearest earlier) → files', async ({ page, seeded }, testInfo) => {
    const points = await engineCall(seeded, 'snapshots.list', { guest: 'Accounting' });
    await page.goto(`${seeded.url}#/restore`);
    await page.getByRole('radio', { name: /Accounting/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    // A time one hour after the point picks that point.
    const later = new Date(Date.parse(points[0].time) + 3600_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const local = `${later.getFullYear()}-${pad(later.getMonth() + 1)}-${pad(later.getDate())}T${pad(later.getHours())}:${pad(later.getMinutes())}`;
    await page.getByLabel('Restore the state as of').fill(local);
    await expect(page.getByTestId('nearest-note')).toContainText(/before the time you typed/);
    await expect(page.getByRole('radio', { checked: true })).toHaveCount(1);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /Individual files/ }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByTestId('file-browser')).toBeVisible();
    await expect(page.getByTestId('file-table').or(page.getByTestId('not-available')).or(page.getByTestId('engine-error')).or(page.getByText('This folder is empty.'))).toBeVisible({
      timeout: 20_000,
    });
    await saveScreenshot(page, testInfo, 'restore-files');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  test('restore wizard: disks only → review names what will happen', async ({ page, seeded }) => {
    await page.goto(`${seeded.url}#/restore`);
    await page.getByRole('radio', { name: /Accounting/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio').first().check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /Disks only/ }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();
    await page.getByLabel('Destination folder').fill('/tmp/twinsnap-e2e-restore');
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByTestId('restore-review')).toContainText('/tmp/twinsnap-e2e-restore');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });
});

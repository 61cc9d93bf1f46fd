import { seriousA11yViolations } from './helpers/axe.js';
import { engineCall } from './helpers/engine-call.js';
import { saveScreenshot } from './helpers/screenshots.js';
import type { Locator } from '@playwright/test';
import { expect, test } from './helpers/seeded.js';

test.describe.configure({ mode: 'serial' });

/** Marks drawn in the grid (each day cell says how many its row canvas drew in it). */
const drawnMarks = (grid: Locator) => grid.locator('[data-marks]').evaluateAll((cells) => cells.reduce((n, c) => n + Number(c.getAttribute('data-marks')), 0));

test.describe('calendar (home)', () => {
  test('shows one row per guest with its restore points in today’s column', async ({ page, seeded }, testInfo) => {
    const snaps = await engineCall(seeded, 'snapshots.list', {});
    expect(snaps.map((s) => s.guest).sort()).toEqual(['Accounting', 'Mail', 'Mail']);
    await page.goto(seeded.url);
    const grid = page.getByRole('grid', { name: 'Restore points per guest and day' });
    await expect(grid).toBeVisible();
    await expect(grid.getByRole('rowheader')).toHaveText([/Accounting/, /Mail/]);
    const today = grid.locator('[role=gridcell][aria-current=date]');
    await expect(today).toHaveCount(2);
    await expect(today.nth(1)).toHaveAttribute('aria-label', /Mail, .*2 restore points: \d\d:\d\d cold.*\d\d:\d\d cold/);
    await expect(today.nth(0)).toHaveAttribute('aria-label', /Accounting, .*1 restore point: /);
    await expect(today.nth(1)).toHaveAttribute('data-marks', '2');
    await saveScreenshot(page, testInfo, 'calendar');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  test('switches ranges and pages back in time', async ({ page, seeded }) => {
    await page.goto(seeded.url);
    const grid = page.getByTestId('calendar-grid');
    await expect(grid.locator('.gh [role=columnheader]')).toHaveCount(15);
    await page.getByRole('button', { name: '30 days' }).click();
    await expect(grid.locator('.gh [role=columnheader]')).toHaveCount(31);
    await page.getByRole('button', { name: 'Earlier' }).click();
    await expect(grid.locator('[aria-current=date]')).toHaveCount(0);
    await expect(grid.locator('[data-marks]')).toHaveCount(0);
    await page.getByRole('button', { name: 'Today' }).click();
    await expect.poll(() => drawnMarks(grid)).toBe(3);
  });

  test('keyboard: arrows move through the grid and Enter opens the day panel', async ({ page, seeded }, testInfo) => {
    const snaps = await engineCall(seeded, 'snapshots.list', { guest: 'Mail' });
    await page.goto(seeded.url);
    const grid = page.getByTestId('calendar-grid');
    await expect(grid).toBeVisible();
    // The roving tab stop starts on the first guest's today cell.
    await grid.locator('[tabindex="0"]').focus();
    await expect(page.locator(':focus')).toHaveAttribute('aria-label', /^Accounting, /);
    await page.keyboard.press('ArrowDown');
    await expect(page.locator(':focus')).toHaveAttribute('aria-label', /^Mail, .*2 restore points/);
    await page.keyboard.press('ArrowLeft');
    await expect(page.locator(':focus')).toHaveAttribute('aria-label', /no restore points/);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    const drawer = page.getByRole('dialog');
    await expect(drawer).toContainText('Mail');
    await expect(drawer.getByTestId('snapshot-details')).toContainText(snaps[snaps.length - 1].id);
    await expect(drawer.getByTestId('snapshot-details')).toContainText('Cold (the guest was off)');
    await saveScreenshot(page, testInfo, 'snapshot-drawer');
    expect(await seriousA11yViolations(page)).toEqual([]);
    // Select the other point of the day.
    await drawer.getByRole('group', { name: 'Restore points of this day' }).getByRole('button').first().click();
    await expect(drawer.getByTestId('snapshot-details')).toContainText(snaps[0].id);
    await page.keyboard.press('Escape');
    await expect(drawer).toHaveCount(0);
  });

  test('verify from the snapshot panel reports the engine’s verdict', async ({ page, seeded }) => {
    await page.goto(seeded.url);
    await page.getByTestId('calendar-grid').locator('[data-marks]').first().click();
    const details = page.getByTestId('snapshot-details');
    await details.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('status').filter({ hasText: /readable|Damaged|not available/ })).toBeVisible({ timeout: 30_000 });
  });

  test('retention sliders preview on the calendar and apply only after confirmation', async ({ page, seeded }, testInfo) => {
    const oracle = await engineCall(seeded, 'retention.preview', { guest: 'Mail', policy: { keepLast: 1 } });
    expect(oracle.forgetCount).toBe(1);
    await page.goto(seeded.url);
    await page.getByRole('rowheader', { name: /Mail/ }).click();
    const drawer = page.getByRole('dialog');
    await drawer.getByRole('tab', { name: 'Retention' }).click();
    // Turn everything off but "keep the last 1", with the keyboard.
    for (const key of ['keepLast', 'keepWithinDays', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly']) {
      const slider = drawer.getByTestId(`slider-${key}`).getByRole('slider');
      await slider.focus();
      await page.keyboard.press('Home');
    }
    await drawer.getByTestId('slider-keepLast').getByRole('slider').focus();
    await page.keyboard.press('ArrowRight');
    await expect(drawer.getByTestId('retention-preview')).toContainText(`${oracle.forgetCount} backup would be forgotten`);
    await expect(page.getByTestId('retention-overlay')).toContainText('Mail');
    await expect(page.getByTestId('calendar-grid').locator('[data-forget="1"]')).toHaveCount(1);
    await saveScreenshot(page, testInfo, 'retention-preview');
    expect(await engineCall(seeded, 'snapshots.list', { guest: 'Mail' })).toHaveLength(2);
    await drawer.getByRole('button', { name: 'Apply now…' }).click();
    const confirm = page.getByRole('dialog', { name: /Forget 1 restore points of Mail/ });
    await confirm.getByRole('button', { name: 'Forget 1' }).click();
    await expect(page.getByTestId('notice')).toContainText('1 restore point of Mail forgotten');
    expect(await engineCall(seeded, 'snapshots.list', { guest: 'Mail' })).toHaveLength(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => drawnMarks(page.getByTestId('calendar-grid'))).toBe(2);
  });

  test('Forget… one restore point from the snapshot panel, after confirmation', async ({ page, seeded }, testInfo) => {
    const [mail] = await engineCall(seeded, 'snapshots.list', { guest: 'Mail' });
    expect(mail, 'the retention test leaves one point of Mail').toBeDefined();
    await page.goto(seeded.url);
    const grid = page.getByTestId('calendar-grid');
    await grid.locator('[role=gridcell][data-marks][aria-label^="Mail"]').click();
    const details = page.getByTestId('snapshot-details');
    await expect(details).toContainText(mail!.id);
    await details.getByRole('button', { name: 'Forget…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Forget this restore point?' });
    await expect(confirm).toContainText('cannot be');
    await saveScreenshot(page, testInfo, 'forget-confirm');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await confirm.getByRole('button', { name: 'Forget', exact: true }).click();
    await expect(page.getByTestId('notice')).toContainText('forgotten');
    expect(await engineCall(seeded, 'snapshots.list', { guest: 'Mail' })).toEqual([]);
    expect(await engineCall(seeded, 'snapshots.list', { guest: 'Accounting' })).toHaveLength(1);
    // Mail is on no hypervisor: without restore points its row goes.
    await expect(grid.getByRole('rowheader')).toHaveText([/Accounting/]);
  });
});

import { test as base, expect, type Page } from '@playwright/test';
import { startServe, type ServeHandle } from './serve.js';

/** Fixtures: `server` (one `twinsnap serve` per worker, fresh data folder) and `app` (a page on it). */
export const test = base.extend<{ app: Page }, { server: ServeHandle }>({
  server: [
    async ({}, use) => {
      const s = await startServe();
      await use(s);
      await s.stop();
    },
    { scope: 'worker' },
  ],
  app: async ({ page, server }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await expect(page.getByTestId('app-frame')).toBeVisible();
    await use(page);
    expect(errors, 'uncaught errors in the page').toEqual([]);
  },
});

export { expect };

import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { REPO_ROOT } from './serve.js';

/**
 * Saves a full-page PNG as a test artifact (attached to the report); with
 * TWINSNAP_UPDATE_SCREENSHOTS=1 also copies it to docs/screenshots/<name>.png for the README.
 */
export async function saveScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<string> {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled', caret: 'hide' });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
  if (process.env.TWINSNAP_UPDATE_SCREENSHOTS === '1') {
    const dir = join(REPO_ROOT, 'docs', 'screenshots');
    mkdirSync(dir, { recursive: true });
    copyFileSync(file, join(dir, `${name}.png`));
  }
  return file;
}

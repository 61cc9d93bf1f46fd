import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { seriousA11yViolations } from './helpers/axe.js';
import { REPO_ROOT, openSpecServe, type ServeHandle, type SpecServe } from './helpers/serve.js';

// File restore is honest (issue 17.7): a real FAT disk (mkfs.fat + mcopy) imported by the CLI,
// browsed in Chromium through `twinsnap serve`. The browser says which guest and point it shows,
// a double-click opens folders, a relative destination is refused, the existing-file choice is
// visible (keep both by default), and the summary matches what is on disk afterwards.
const GUEST = 'Front desk';
let spec: SpecServe;
let dir: string;
let server: ServeHandle;
let snapshotId: string;
let page: Page;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  spec = await openSpecServe(browser, 'twinsnap-e2e-files-', (work) => {
    const img = join(work, 'frontdesk.img');
    execFileSync('mkfs.fat', ['-C', '-F', '16', '-n', 'FRONTDESK', img, String(16 * 1024)], { stdio: 'ignore' });
    writeFileSync(join(work, 'report.docx'), 'quarterly report from the backup\n');
    execFileSync('mmd', ['-i', img, '::/Documents']);
    execFileSync('mcopy', ['-i', img, join(work, 'report.docx'), '::/Documents/report.docx']);
    const out = execFileSync(process.execPath, ['bin/twinsnap.mjs', '--data-dir', join(work, 'data'), '--json', 'import-disk', '--guest', GUEST, img], { cwd: REPO_ROOT, timeout: 120_000 });
    snapshotId = JSON.parse(out.toString()).id;
  });
  ({ work: dir, server, page } = spec);
});

test.afterAll(() => spec?.close());

test('the file browser names guest and point; double-click opens folders; restore keeps both by default and says so', async () => {
  await page.goto(`${server.url.split('#')[0]}#/restore?guest=${encodeURIComponent(GUEST)}&snapshot=${snapshotId}&what=files`);
  await expect(page.getByTestId('browsing-point')).toContainText(`Browsing ${GUEST} as of`);
  // disk → whole-disk file system → Documents, by double-click
  for (const name of ['frontdesk', 'p0', 'Documents']) {
    await page.getByTestId('file-row').filter({ hasText: name }).first().dblclick();
    await expect(page.getByRole('navigation', { name: 'Folder path' })).toContainText(name);
  }
  const row = page.getByTestId('file-row').filter({ hasText: /report\.docx/i });
  await row.getByRole('checkbox').check();
  await page.getByRole('button', { name: /Restore to folder… \(1\)/ }).click();

  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Nothing is written outside the folder');
  await expect(dialog.getByRole('radio', { name: /Keep both \(default\)/ })).toBeChecked();
  await expect(dialog.getByRole('radio', { name: /Skip/ })).not.toBeChecked();
  await expect(dialog.getByRole('radio', { name: /Overwrite/ })).not.toBeChecked();
  const field = dialog.getByLabel('Destination folder');
  await field.fill('restored/here');
  await expect(dialog).toContainText('Enter a full path');
  await expect(dialog.getByRole('button', { name: 'Restore' })).toBeDisabled();
  expect(await seriousA11yViolations(page)).toEqual([]);

  // the target already holds a report.docx of the user's own
  const to = join(dir, 'target');
  mkdirSync(to);
  const guestName = execFileSync('mdir', ['-b', '-i', join(dir, 'frontdesk.img'), '::/Documents'])
    .toString()
    .trim()
    .split('/')
    .pop()!;
  writeFileSync(join(to, guestName), 'my newer edit\n');
  await field.fill(to);
  await field.press('Enter');
  const summary = page.getByTestId('files-restored');
  await expect(summary).toContainText('Restored 1 file');
  await expect(summary).toContainText('1 file already existed: the restored copy was saved beside it under a “(restored …)” name.');
  // on disk: the user's file untouched, the restored copy beside it with the backup's bytes
  expect(readFileSync(join(to, guestName), 'utf8')).toBe('my newer edit\n');
  const copy = readdirSync(to).find((n) => /\(restored \d{4}-\d\d-\d\d \d{4}\)/.test(n));
  expect(copy, readdirSync(to).join(', ')).toBeTruthy();
  expect(readFileSync(join(to, copy!), 'utf8')).toBe('quarterly report from the backup\n');
});

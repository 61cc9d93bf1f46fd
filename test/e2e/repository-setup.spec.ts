import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { engineCall } from './helpers/engine-call.js';
import { REPO_ROOT, openSpecServe, type ServeHandle, type SpecServe } from './helpers/serve.js';

// Repositories from the UI (issue 17.2): Settings and the first-run panel check a folder and
// offer "Create a repository here" / "Connect this repository"; a folder that is neither is
// never saved as the repository. Its own `twinsnap serve` (it changes the repository).
test.describe.configure({ mode: 'serial' });
let spec: SpecServe;
let work: string;
let server: ServeHandle;
let page: Page;

test.beforeAll(async ({ browser }) => {
  spec = await openSpecServe(browser, 'twinsnap-e2e-repo-');
  ({ work, server, page } = spec);
});
test.afterAll(() => spec?.close());

test('a folder with other files is neither created nor connected; a new folder gets a repository from Settings', async () => {
  await page.goto(`${server.url.split('?')[0]}?token=${server.token}#/settings`);
  const chooser = page.getByTestId('repository-chooser');
  const folder = chooser.getByLabel('Repository folder');
  await expect(folder).toHaveValue(join(work, 'data', 'repository'));
  const docs = join(work, 'Documents');
  mkdirSync(docs);
  writeFileSync(join(docs, 'letter.txt'), 'hello');
  await folder.fill(docs);
  await expect(chooser.getByTestId('repository-check')).toContainText('holds other files but no repository');
  await expect(chooser.getByRole('button', { name: 'Create a repository here' })).toBeDisabled();
  await expect(chooser.getByRole('button', { name: 'Connect this repository' })).toBeDisabled();
  // the other settings no longer carry the repository: saving them cannot save a wrong folder
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('notice')).toContainText('Settings saved');
  expect((await engineCall(server, 'settings.get', {})).repository).toBe(join(work, 'data', 'repository'));

  const usb = join(work, 'usb', 'TwinSnap');
  await folder.fill(usb);
  await expect(chooser.getByTestId('repository-check')).toContainText('does not exist yet');
  await expect(chooser.getByTestId('repository-check')).toContainText(/Writable · .* free/);
  // a plain one here (new repositories are encrypted by default: repository-encryption.spec.ts)
  await chooser.getByLabel('Encrypt the backups (AES-256-GCM)').uncheck();
  await chooser.getByRole('button', { name: 'Create a repository here' }).click();
  await expect(page.getByTestId('notice')).toContainText(`Repository created in ${usb}`);
  expect((await engineCall(server, 'settings.get', {})).repository).toBe(usb);
  expect(existsSync(join(usb, 'twinsnap-repo.json'))).toBe(true);
  await expect(chooser.getByTestId('repository-check')).toContainText('in use now');
});

test('an existing repository is recognised and connected', async () => {
  const nas = join(work, 'nas', 'backups');
  execFileSync(process.execPath, [join(REPO_ROOT, 'bin', 'twinsnap.mjs'), '--data-dir', join(work, 'other-data'), 'repository', 'init', nas], { timeout: 60_000 });
  const chooser = page.getByTestId('repository-chooser');
  await chooser.getByLabel('Repository folder').fill(nas);
  await expect(chooser.getByTestId('repository-check')).toContainText('An existing TwinSnap repository with 0 restore points');
  await chooser.getByRole('button', { name: 'Connect this repository' }).click();
  await expect(page.getByTestId('notice')).toContainText(`Repository ${nas} connected`);
  expect((await engineCall(server, 'settings.get', {})).repository).toBe(nas);
  expect((await engineCall(server, 'engine.status', {})).repository).toBe(nas);
});

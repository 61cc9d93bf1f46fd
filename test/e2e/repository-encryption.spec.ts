import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { engineCall } from './helpers/engine-call.js';
import { REPO_ROOT, openSpecServe, startServe, type ServeHandle, type SpecServe } from './helpers/serve.js';

// Encrypted repositories from the UI (issue 14): create one (recovery kit shown and downloaded),
// the Repository page says what it is encrypted with, change the password; a restarted engine
// finds it locked, refuses a wrong password and unlocks with the right one. Its own serve.
test.describe.configure({ mode: 'serial' });
let spec: SpecServe;
let work: string;
let server: ServeHandle;
let page: Page;
const url = (route: string) => `${server.url.split('?')[0]}?token=${server.token}#/${route}`;

test.beforeAll(async ({ browser }) => {
  spec = await openSpecServe(browser, 'twinsnap-e2e-enc-');
  ({ work, server, page } = spec);
});
test.afterAll(async () => {
  await server?.stop(); // the engine restarted by the lock test is not the one spec.close() stops
  await spec?.close();
});

test('a new repository is encrypted by default; its recovery kit is shown once and downloads', async () => {
  await page.goto(url('settings'));
  const chooser = page.getByTestId('repository-chooser');
  const usb = join(work, 'usb', 'TwinSnap');
  await chooser.getByLabel('Repository folder').fill(usb);
  await expect(chooser.getByTestId('repository-check')).toContainText('does not exist yet');
  await expect(chooser.getByLabel('Encrypt the backups (AES-256-GCM)')).toBeChecked();
  const create = chooser.getByRole('button', { name: 'Create a repository here' });
  await chooser.getByLabel('Password', { exact: true }).fill('office backup 2026');
  await chooser.getByLabel('Repeat the password').fill('office backup 2025');
  await expect(create).toBeDisabled(); // the two differ
  await chooser.getByLabel('Repeat the password').fill('office backup 2026');
  await chooser.getByLabel("Remember the password for scheduled backups (kept in the system's secret store)").uncheck();
  await create.click();
  const kit = page.getByTestId('recovery-kit');
  // two scrypt derivations (2^16, 64 MiB each: memory-hard by design) on a loaded 2-core machine
  await expect(kit).toContainText('Recovery key:', { timeout: 30_000 });
  const key = /Recovery key:\s+(\S+)/.exec((await kit.textContent()) ?? '')![1]!;
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download recovery kit' }).click()]);
  expect(download.suggestedFilename()).toBe('twinsnap-recovery-kit.txt');
  expect(readFileSync((await download.path())!, 'utf8')).toContain(key);
  await page.getByRole('button', { name: 'I have saved it' }).click();
  expect(JSON.parse(readFileSync(join(usb, 'twinsnap-repo.json'), 'utf8'))).toMatchObject({ format: 2 });
  // not remembered: the secret store holds no password
  expect(existsSync(join(work, 'data', 'secrets.json'))).toBe(false);
});

test('the Repository page says it is encrypted and with what; the password can be changed', async () => {
  await page.goto(url('repository'));
  await expect(page.getByTestId('repo-encryption-text')).toHaveText('Encrypted (AES-256-GCM, scrypt N=2^16, r=8, p=1)');
  await expect(page.getByTestId('repo-stats')).toContainText('Restore points');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByLabel('New password', { exact: true }).fill('new office password');
  await page.getByLabel('Repeat the new password').fill('new office password');
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await expect(page.getByTestId('notice')).toContainText('Password changed');
});

test('after a restart the repository is locked; a wrong password is refused, the right one unlocks it', async () => {
  const dataDir = join(work, 'data');
  await server.stop();
  server = await startServe({ dataDir });
  await page.goto(url('repository'));
  await expect(page.getByText('The repository is locked')).toBeVisible();
  await expect(page.getByTestId('repo-encryption-text')).toContainText('Encrypted (AES-256-GCM');
  await page.getByLabel('Password or recovery key').fill('office backup 2026'); // the old one
  await page.getByLabel('Remember it for scheduled backups').uncheck();
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('repo-encryption')).toContainText('Wrong repository password');
  await page.getByLabel('Password or recovery key').fill('new office password');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('notice')).toContainText('Repository unlocked');
  await expect(page.getByTestId('repo-stats')).toContainText('Restore points');
  expect(await engineCall(server, 'repository.info', {})).toMatchObject({ encrypted: true, locked: false });
});

test('an encrypted repository made on the command line is connected with its password', async () => {
  const nas = join(work, 'nas');
  const pw = join(work, 'pw');
  writeFileSync(pw, 'nas password\n');
  chmodSync(pw, 0o600);
  execFileSync(process.execPath, [join(REPO_ROOT, 'bin', 'twinsnap.mjs'), '--data-dir', join(work, 'cli-data'), '--repo', nas, '--password-file', pw, 'init', '--encrypt'], { timeout: 60_000 });
  await page.goto(url('settings'));
  const chooser = page.getByTestId('repository-chooser');
  await chooser.getByLabel('Repository folder').fill(nas);
  await expect(chooser.getByTestId('repository-check')).toContainText('An existing encrypted TwinSnap repository');
  const connect = chooser.getByRole('button', { name: 'Connect this repository' });
  await expect(connect).toBeDisabled();
  await chooser.getByLabel('Password or recovery key').fill('nas password');
  await connect.click();
  await expect(page.getByTestId('notice')).toContainText(`Repository ${nas} connected`);
  expect(await engineCall(server, 'repository.info', {})).toMatchObject({ path: nas, encrypted: true, locked: false });
});

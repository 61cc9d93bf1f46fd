import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { makeTestVm, type TestVm } from '../harness/guest/make-test-vm.js';
import { inspectDataDisk } from '../harness/guest/read-back.js';
import { seriousA11yViolations } from './helpers/axe.js';
import { engineCall } from './helpers/engine-call.js';
import { focused, tabTo } from './helpers/keyboard.js';
import { saveScreenshot } from './helpers/screenshots.js';
import { REPO_ROOT, startServe, type ServeHandle } from './helpers/serve.js';

// The newcomer's whole journey against `twinsnap serve` driving the vmrun simulator (a real
// guest booted by QEMU): first run → guests → Back up now → progress → the point in the
// calendar → browse → restore one file (bytes checked) → schedule → retention preview →
// restore wizard to a new VM. Runs in CI: the simulator is the repository's own
// test/harness/vmrun-sim/vmrun unless TWINSNAP_E2E_VMRUN names another vmrun (QEMU must be
// installed, as .ci/run does; the harness builds the guest into .cache/ once).
const VMRUN = process.env.TWINSNAP_E2E_VMRUN || join(REPO_ROOT, 'test', 'harness', 'vmrun-sim', 'vmrun');
// Bounded but generous: a loaded 2-core CI machine boots the TCG guest several times slower.
test.describe.configure({ mode: 'serial', timeout: 8 * 60_000 });

const GUEST = 'Journey VM';
let work: string;
let vm: TestVm;
let server: ServeHandle;
let page: Page;
/** The ledger of the restore point (step 8's oracle, also step 9's). */
let point: Awaited<ReturnType<typeof inspectDataDisk>>;
const simEnv = () => ({ ...process.env, VMRUN_SIM_STATE: join(work, 'sim-state') });
const vmrun = (...args: string[]) => execFileSync(VMRUN, args, { env: simEnv(), encoding: 'utf8', timeout: 600_000 });

test.beforeAll(async ({ browser }) => {
  test.setTimeout(12 * 60_000);
  work = mkdtempSync(join(tmpdir(), 'twinsnap-e2e-journey-'));
  vm = await makeTestVm(join(work, 'vms'), { name: GUEST });
  vmrun('-T', 'ws', 'start', vm.vmxPath, 'nogui');
  const deadline = Date.now() + 10 * 60_000;
  while (!/running/.test(vmrun('checkToolsState', vm.vmxPath))) {
    if (Date.now() > deadline) throw new Error('the simulated guest did not report Tools running in 10 minutes');
    await new Promise((r) => setTimeout(r, 2000));
  }
  server = await startServe({ dataDir: join(work, 'data'), timeoutMs: 120_000, env: { TWINSNAP_VMRUN: VMRUN, VMRUN_SIM_STATE: join(work, 'sim-state') } });
  page = await browser.newPage();
});

test.afterAll(async () => {
  await page?.close();
  await server?.stop();
  try {
    if (vm) vmrun('-T', 'ws', 'stop', vm.vmxPath, 'hard');
  } catch {
    /* already off */
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

test('1. first run: VMware is detected and the guest folder is added in Settings', async ({}, testInfo) => {
  await page.goto(server.url);
  await expect(page.getByTestId('engine-status')).toContainText('Engine ready');
  await page.getByTestId('nav-settings').click();
  await expect(page.getByTestId('hypervisor-vmware')).toContainText('found');
  const folders = page.getByLabel('VM folders (one per line)');
  await folders.fill(join(work, 'vms'));
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('notice')).toContainText('Settings saved');
  await saveScreenshot(page, testInfo, 'journey-1-settings');
});

test('2. the guest appears on the Guests page', async ({}, testInfo) => {
  await page.getByTestId('nav-guests').click();
  await expect(page.getByTestId('guest-row').filter({ hasText: GUEST })).toBeVisible({ timeout: 60_000 });
  await saveScreenshot(page, testInfo, 'journey-2-guests');
  expect(await seriousA11yViolations(page)).toEqual([]);
});

test('3. Back up now (keyboard) shows live progress to the end', async ({}, testInfo) => {
  // The top bar's button says what it would do and lists the guests before anything starts.
  await expect(page.getByTestId('backup-now-all')).toHaveText(`Back up ${GUEST}…`);
  await page.getByTestId('backup-now-all').click();
  const confirm = page.getByRole('dialog', { name: 'Back up all 1 guest?' });
  await expect(confirm.getByRole('checkbox', { name: new RegExp(GUEST) })).toBeChecked();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  // Keyboard alone: Tab to the guest's own Back up now button, Enter.
  await tabTo(page, (f) => f.name === `Back up now: ${GUEST}`);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Jobs' })).toBeVisible();
  const detail = page.getByTestId('job-detail');
  // Any status at all (a fast job may already be past "running" when the page shows it).
  await expect(detail).toHaveAttribute('data-status', /queued|running|succeeded|warning|failed|cancelled/, { timeout: 60_000 });
  // The README's "running backup" picture: taken once a step past pre-flight runs (a fast job may be done).
  await expect(
    detail
      .locator('[data-step=archive][data-status=running], [data-step=boot-twin][data-status=running], [data-step=shutdown-twin][data-status=running]')
      .or(detail.locator('[data-status=done][data-step=archive]'))
      .first(),
  )
    .toBeVisible({ timeout: 120_000 })
    .catch(() => {});
  await saveScreenshot(page, testInfo, 'journey-3-progress');
  // Fail with the engine's own account of the job (the UI's status vs the engine's tells a stale
  // page from a stuck job), never by waiting for a status that cannot come any more.
  const engineAccount = async (what: string) => {
    const [job] = await engineCall(server, 'jobs.list', { guest: GUEST, limit: 1 });
    const log = job ? await engineCall(server, 'jobs.log', { jobId: job.id }) : [];
    return `${what}; engine says ${job?.status ?? 'no job'}${job?.error ? ` (${job.error.message})` : ''}\n${log.map((l) => `${l.at} ${l.level} [${l.step ?? ''}] ${l.message}`).join('\n')}`;
  };
  try {
    await expect(detail).toHaveAttribute('data-status', /succeeded|warning|failed|cancelled/, { timeout: 6 * 60_000 });
  } catch {
    throw new Error(await engineAccount(`the page still shows the backup as ${await detail.getAttribute('data-status')}`));
  }
  const status = await detail.getAttribute('data-status');
  if (status !== 'succeeded' && status !== 'warning') throw new Error(await engineAccount(`backup ${status}`));
  await saveScreenshot(page, testInfo, 'journey-3-done');
});

test('4. the restore point appears in the calendar', async ({}, testInfo) => {
  const snaps = await engineCall(server, 'snapshots.list', { guest: GUEST });
  expect(snaps.length).toBe(1);
  await page.getByTestId('nav-calendar').click();
  const today = page.getByRole('row').filter({ hasText: GUEST }).locator('[aria-current=date]');
  await expect(today).toHaveAttribute('aria-label', /1 restore point/);
  await expect(today).toHaveAttribute('data-marks', '1');
  await saveScreenshot(page, testInfo, 'journey-4-calendar');
});

test('5. browse it and restore one file with the keyboard alone, bytes checked', async ({}, testInfo) => {
  const [snap] = await engineCall(server, 'snapshots.list', { guest: GUEST });
  // The calendar grid's tab stop starts on the first guest's today; Enter opens the day.
  await tabTo(page, (f) => f.role === 'gridcell' && f.name.startsWith(`${GUEST},`));
  expect((await focused(page)).name).toMatch(/1 restore point/);
  await page.keyboard.press('Enter');
  await tabTo(page, (f) => f.name === 'Browse files');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('file-browser')).toBeVisible();
  // Into the listing (a grid with one tab stop), then down disk → partition → folders: Enter
  // opens the active folder, ↓ walks the rows, until a regular file is the active row.
  await expect(page.getByTestId('file-row').first()).toBeVisible({ timeout: 60_000 });
  await tabTo(page, (f) => f.testId === 'file-row');
  let file: string | null = null;
  for (let steps = 0; steps < 60 && !file; steps++) {
    const f = await focused(page);
    if (f.testId !== 'file-row') throw new Error(`keyboard: focus left the file list (${f.tag} "${f.name}")`);
    if (f.dataset.type === 'file') {
      file = f.dataset.path!;
      break;
    }
    // Folders are listed first: if a file follows the active row, walk down to it.
    const next = await page.evaluate(() => (document.activeElement?.nextElementSibling as HTMLElement | null)?.dataset.type ?? null);
    if (next === 'file') {
      await page.keyboard.press('ArrowDown');
      continue;
    }
    const before = f.dataset.path;
    await page.keyboard.press('Enter');
    // The new folder's first row takes the focus once it is listed.
    await expect
      .poll(
        async () => {
          const now = await focused(page);
          return now.testId === 'file-row' && now.dataset.path !== before;
        },
        { timeout: 60_000 },
      )
      .toBe(true);
  }
  expect(file, 'a file inside the restore point').not.toBeNull();
  await page.keyboard.press('Space');
  await expect(page.locator(`[data-testid=file-row][data-path="${file}"]`)).toHaveAttribute('aria-selected', 'true');
  await saveScreenshot(page, testInfo, 'journey-5-files');
  expect(await seriousA11yViolations(page)).toEqual([]);
  await tabTo(page, (f) => /^Restore to folder/.test(f.name), { back: true });
  await page.keyboard.press('Enter');
  const to = join(work, 'restored-files');
  await expect(page.getByLabel('Destination folder')).toBeFocused();
  await page.keyboard.type(to);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('files-restored')).toContainText('Restored 1 file');
  const expected = Buffer.concat(await readAll(server, snap.id, file!));
  const restored = findFile(to, file!.split('/').pop()!);
  expect(restored, 'restored file on disk').toBeTruthy();
  expect(createHash('sha256').update(readFileSync(restored!)).digest('hex')).toBe(createHash('sha256').update(expected).digest('hex'));
  await page.keyboard.press('Escape');
});

test('6. set a schedule and see the next runs', async ({}, testInfo) => {
  await page.goto(`${server.url.split('?')[0]}#/calendar?guest=${encodeURIComponent(GUEST)}`);
  const drawer = page.getByRole('dialog');
  // An unscheduled guest looks unscheduled: Off, no time pre-selected that would be saved unseen.
  await expect(drawer.getByRole('button', { name: 'Off', pressed: true })).toBeVisible();
  await expect(drawer.getByTestId('unscheduled')).toContainText('has no schedule yet');
  await drawer.getByRole('button', { name: 'Times of day' }).click();
  // 24-hour entry, whatever the browser's locale, like the chips and the next runs
  await drawer.getByLabel('Add a time').fill('03:30');
  await drawer.getByRole('button', { name: 'Add time' }).click();
  await expect(drawer.getByTestId('next-runs')).toContainText('03:30');
  await expect(drawer.getByTestId('next-runs')).not.toContainText(/AM|PM/);
  await drawer.getByRole('button', { name: 'Save schedule' }).click();
  await expect(page.getByTestId('notice')).toContainText('Schedule of');
  const list = await engineCall(server, 'schedules.list', {});
  // exactly the user's own time (no 02:00 saved along with it)
  expect(list.find((s) => s.guest === GUEST)?.schedule).toEqual({ kind: 'times', times: ['03:30'] });
  await saveScreenshot(page, testInfo, 'journey-6-schedule');
});

test('7. move a retention slider and see the preview; closing asks before dropping the change', async ({}, testInfo) => {
  const drawer = page.getByTestId('guest-drawer');
  await drawer.getByRole('tab', { name: 'Retention' }).click();
  await drawer.getByTestId('slider-keepLast').getByRole('slider').focus();
  await page.keyboard.press('ArrowRight');
  await expect(drawer.getByTestId('retention-preview')).toContainText(/would be forgotten/);
  await saveScreenshot(page, testInfo, 'journey-7-retention');
  // a click on the calendar behind the drawer (or Esc) no longer loses the moved slider silently
  await page.keyboard.press('Escape');
  const ask = page.getByRole('dialog', { name: 'Discard unsaved changes?' });
  await expect(ask).toBeVisible();
  await ask.getByRole('button', { name: 'Keep editing' }).click();
  await expect(drawer.getByTestId('retention-preview')).toContainText(/would be forgotten/);
  await drawer.getByRole('button', { name: 'Close' }).click();
  await page.getByRole('dialog', { name: 'Discard unsaved changes?' }).getByRole('button', { name: 'Discard changes' }).click({ timeout: 10_000 });
  await expect(drawer).toBeHidden();
});

test('8. restore wizard to a new VM, start it, and find the ledger of the restore point', async ({}, testInfo) => {
  test.setTimeout(10 * 60_000);
  const to = join(work, 'restored-vm');
  const [snap] = await engineCall(server, 'snapshots.list', { guest: GUEST });
  // The oracle: the restore point's own disk, exported by the CLI and read by qemu-img + debugfs + sqlite3.
  const exported = join(work, 'point.img');
  execFileSync(process.execPath, [join(REPO_ROOT, 'bin', 'twinsnap.mjs'), '--data-dir', join(work, 'data'), 'export-disk', snap!.id, snap!.disks[0]!.name, '--to', exported, '--format', 'raw'], {
    timeout: 300_000,
  });
  point = await inspectDataDisk(exported);
  expect(point).toMatchObject({ dbPresent: true, integrity: 'ok', markerPresent: true });
  expect(point.maxN).toBeGreaterThan(0);

  await page.getByTestId('nav-restore').click();
  await page.getByRole('radio', { name: new RegExp(GUEST) }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio').first().check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: /Whole VM as a new VM/ }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Destination folder').fill(to);
  await page.getByLabel('Name of the new VM').fill('Journey copy');
  // beside the running original, the copy stays off the network unless the admin picks one
  await expect(page.getByRole('radio', { name: 'Leave disconnected (recommended while the original runs)' })).toBeChecked();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByTestId('restore-review')).toContainText('left disconnected');
  await saveScreenshot(page, testInfo, 'journey-8-restore-wizard');
  await page.getByRole('button', { name: 'Start restore' }).click();
  await expect(page.getByTestId('restore-result')).toBeVisible({ timeout: 10 * 60_000 });
  await saveScreenshot(page, testInfo, 'journey-8-restored');
  // The configuration is the VM's own and names exactly the restored disk.
  const vmxPath = join(to, 'Journey copy.vmx');
  expect(readdirSync(to).sort()).toEqual([`${GUEST}.vmdk`, 'Journey copy.vmx']);
  expect(readFileSync(vmxPath, 'utf8')).toMatch(new RegExp(`scsi0:0\\.fileName = "${GUEST}\\.vmdk"`));

  // Start it now: the simulator boots the restored guest from the restored disk.
  await page.getByRole('button', { name: 'Start it now' }).click();
  await expect(page.getByTestId('start-restored-vm')).toHaveAttribute('data-state', 'started', { timeout: 120_000 });
  try {
    const serial = join(to, 'Journey copy.serial0.log');
    // The guest's workload opens its ledger and says where it resumes: exactly the restore point's last row.
    await expect
      .poll(() => (existsSync(serial) ? (/workload starting after (\d+)/.exec(readFileSync(serial, 'latin1'))?.[1] ?? null) : null), { timeout: 5 * 60_000, intervals: [1000] })
      .toBe(String(point.maxN));
    await expect.poll(() => /VMTOOLS: running/.test(readFileSync(serial, 'latin1')), { timeout: 120_000, intervals: [1000] }).toBe(true);
    // the simulator powered it on with its adapter's link down
    expect(readFileSync(join(to, 'vmware.log'), 'utf8')).toMatch(/VNET: Ethernet0: .* link disconnected/);
    vmrun('-T', 'ws', 'stop', vmxPath, 'soft');
  } finally {
    try {
      vmrun('-T', 'ws', 'stop', vmxPath, 'hard');
    } catch {
      /* already off */
    }
  }
  // After a clean shutdown the restored ledger is intact and continues the restore point's.
  const after = await inspectDataDisk(join(to, `${GUEST}.vmdk`));
  expect(after).toMatchObject({ dbPresent: true, integrity: 'ok', markerPresent: true });
  expect(after.maxN).toBeGreaterThanOrEqual(point.maxN);
  expect(after.count).toBe(after.maxN);
});

test("9. replace the original: shut it down, put it back to the restore point, start it, its ledger is the restore point's", async ({}, testInfo) => {
  test.setTimeout(10 * 60_000);
  // TwinSnap never powers production off itself: the admin shuts it down (here, the guest's power button).
  vmrun('-T', 'ws', 'stop', vm.vmxPath, 'soft');
  await expect.poll(() => vmrun('list').includes(vm.vmxPath), { timeout: 120_000 }).toBe(false);
  await expect.poll(async () => (await engineCall(server, 'guests.list', { refresh: true })).find((g) => g.name === GUEST)?.state, { timeout: 60_000 }).toBe('off');
  await page.getByTestId('nav-restore').click();
  await page.getByRole('button', { name: 'Restore something else' }).click();
  await page.getByRole('radio', { name: new RegExp(GUEST) }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio').first().check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: /Replace the original/ }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel(`Type the guest's name (${GUEST}) to confirm`).fill(GUEST);
  await page.getByRole('button', { name: 'Next' }).click();
  // a replaced VM goes back on its own networks by default
  await expect(page.getByTestId('restore-review')).toContainText("the original's networks");
  await page.getByRole('button', { name: `Replace ${GUEST}` }).click();
  // the restore job's own status ends the wait (a failure is shown with the engine's words)
  await expect(page.getByTestId('job-detail')).toHaveAttribute('data-status', /succeeded|warning|failed|cancelled/, { timeout: 10 * 60_000 });
  await expect(page.getByTestId('restore-result')).toContainText('its previous files are kept in');
  await saveScreenshot(page, testInfo, 'journey-9-replaced');
  expect(readdirSync(join(work)).some((f) => f.startsWith('vms.before-restore-'))).toBe(true);
  // The same VM (same .vmx path) starts from the restored disk and resumes its ledger exactly at the restore point.
  const serial = join(vm.dir, `${GUEST}.serial0.log`);
  rmSync(serial, { force: true });
  await page.getByRole('button', { name: 'Start it now' }).click();
  await expect(page.getByTestId('start-restored-vm')).toHaveAttribute('data-state', 'started', { timeout: 120_000 });
  await expect
    .poll(() => (existsSync(serial) ? (/workload starting after (\d+)/.exec(readFileSync(serial, 'latin1'))?.[1] ?? null) : null), { timeout: 5 * 60_000, intervals: [1000] })
    .toBe(String(point.maxN));
  expect(readFileSync(join(vm.dir, 'vmware.log'), 'utf8')).toMatch(/VNET: Ethernet0: .* link connected/);
});

async function readAll(s: ServeHandle, snapshotId: string, path: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const r = await engineCall(s, 'files.read', { snapshotId, path, offset, length: 4 << 20 });
    const b = Buffer.from(r.base64, 'base64');
    out.push(b);
    offset += b.length;
    if (r.eof || b.length === 0) return out;
  }
}

function findFile(dir: string, match: string | ((name: string) => boolean)): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const f = findFile(p, match);
      if (f) return f;
    } else if (typeof match === 'string' ? e.name === match : match(e.name)) return p;
  }
  return undefined;
}

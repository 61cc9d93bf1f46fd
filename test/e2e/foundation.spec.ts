import WebSocket from 'ws';
import { seriousA11yViolations } from './helpers/axe.js';
import { engineCall } from './helpers/engine-call.js';
import { expect, test } from './helpers/fixtures.js';
import { saveScreenshot } from './helpers/screenshots.js';

test.describe('foundation: the app frame over `twinsnap serve`', () => {
  test('opening the printed URL shows the frame with live engine status', async ({ app }, testInfo) => {
    await expect(app.getByTestId('engine-status')).toContainText('Engine ready');
    const nav = app.getByRole('navigation', { name: 'Main' });
    for (const label of ['Calendar', 'Guests', 'Restore', 'Jobs', 'Repository', 'Settings']) {
      await expect(nav.getByRole('link', { name: label })).toBeVisible();
    }
    // it says what it does (no guests on this host: nothing to count) and asks first
    await expect(app.getByTestId('backup-now-all')).toHaveText('Back up now…');
    await expect(app.getByTestId('running-jobs')).toContainText('No jobs running');
    // The token does not stay in the address bar; the session continues on the server's cookie.
    expect(new URL(app.url()).searchParams.has('token')).toBe(false);
    await saveScreenshot(app, testInfo, 'frame-calendar');
  });

  test('Settings lists the detected hypervisor tools and the engine facts', async ({ app, server }, testInfo) => {
    await app.getByTestId('nav-settings').click();
    await expect(app.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
    const status = await engineCall(server, 'engine.status', {});
    const names = { vmware: 'VMware Workstation', hyperv: 'Hyper-V' } as const;
    for (const h of status.hypervisors) {
      const row = app.getByTestId(`hypervisor-${h.kind}`);
      await expect(row).toContainText(names[h.kind]);
      await expect(row).toContainText(h.available ? 'found' : 'not found');
      if (!h.available && h.problem) await expect(row).toContainText(h.problem);
    }
    if (!status.hypervisors.some((h) => h.available)) await expect(app.getByTestId('no-hypervisor')).toBeVisible();
    else await expect(app.getByTestId('no-hypervisor')).toHaveCount(0);
    await expect(app.getByTestId('engine-info')).toContainText(server.dataDir);
    // the host self-test: no doctor run yet on this fresh data folder
    for (const kind of ['vmware', 'hyperv']) await expect(app.getByTestId(`doctor-${kind}`)).toContainText('doctor has not run on this host yet');
    await expect(app.getByTestId('doctor-results')).toContainText('twinsnap doctor --vm NAME');
    expect(app.url()).toContain('#/settings');
    await saveScreenshot(app, testInfo, 'settings');
    expect(await seriousA11yViolations(app)).toEqual([]);
  });

  test('a reload keeps working without the token in the URL (cookie)', async ({ app }) => {
    await app.reload();
    await expect(app.getByTestId('engine-status')).toContainText('Engine ready');
  });

  test('the frame has no serious accessibility violations', async ({ app }) => {
    await expect(app.getByTestId('engine-status')).toContainText('Engine ready');
    expect(await seriousA11yViolations(app)).toEqual([]);
  });

  test('the same URL without the token is refused (HTTP 401)', async ({ browser, server }) => {
    const res = await fetch(`${server.origin}/`);
    expect(res.status).toBe(401);
    expect(await fetch(`${server.origin}/index.html?token=wrong`).then((r) => r.status)).toBe(401);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const r = await page.goto(`${server.origin}/`);
    expect(r?.status()).toBe(401);
    await expect(page.getByTestId('app-frame')).toHaveCount(0);
    await ctx.close();
  });

  test('a WebSocket without the token is closed', async ({ server }) => {
    const wsUrl = `${server.origin.replace('http', 'ws')}/api/ws`;
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.on('open', () => resolve('open'));
      ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      ws.on('error', () => resolve('error'));
    });
    expect(outcome).not.toBe('open');
    // With the token the same endpoint answers calls.
    const ok = await new Promise<unknown>((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(server.token)}`);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'call', seq: 1, method: 'engine.status', req: {} })));
      ws.on('message', (d) => {
        resolve(JSON.parse(d.toString()));
        ws.close();
      });
      ws.on('error', reject);
    });
    expect(ok).toMatchObject({ type: 'result', seq: 1, ok: true, value: { state: 'ready' } });
  });
});

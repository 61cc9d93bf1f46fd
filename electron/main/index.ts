// Electron main: window, tray, single instance, IPC wiring. The engine is plain Node
// (electron/engine) and runs in this process; everything heavy in it uses worker threads.
import { app, Notification, type BrowserWindow, type Tray } from 'electron';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createEngine, type Engine } from '../engine/engine.js';
import { safeStorageCodec } from './secret-codec.js';
import { registerEngineIpc } from './ipc/register-engine-ipc.js';
import { createMainWindow, isRendererUrl } from './windows/main-window.js';
import { createTray } from './windows/tray.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** dist layout: dist/app/electron/main/index.js, dist/renderer, dist/preload/index.cjs. */
const distRoot = join(here, '..', '..', '..');
const rendererDir = join(distRoot, 'renderer');
const preload = join(distRoot, 'preload', 'index.cjs');
const icon = join(distRoot, '..', 'build', 'icons', 'icon.png');

let engine: Engine | undefined;
let win: BrowserWindow | undefined;
let tray: Tray | undefined;
let quitting = false;

function showWindow(): void {
  if (!win || win.isDestroyed()) {
    win = createMainWindow({ rendererDir, preload, icon, stateFile: join(app.getPath('userData'), 'window-state.json') });
    win.on('close', (e) => {
      // Closing the window hides it: scheduled backups must keep running from the tray.
      if (!quitting) {
        e.preventDefault();
        win?.hide();
      }
    });
  }
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  app.on('window-all-closed', () => {
    // stay in the tray
  });
  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('will-quit', (e) => {
    if (engine) {
      e.preventDefault();
      const closing = engine;
      engine = undefined;
      void closing.close().finally(() => app.quit());
    }
  });
  void app.whenReady().then(async () => {
    engine = await createEngine({ dataDir: process.env.TWINSNAP_DATA_DIR ?? app.getPath('userData'), secretCodec: safeStorageCodec() });
    // One scheduler per repository: when the background service runs, this app is its client.
    engine.startScheduler('app');
    engine.onEvent((event, payload) => {
      if (event !== 'notify.raised' || !Notification.isSupported()) return;
      const n = payload as { title: string; body: string };
      const shown = new Notification({ title: n.title, body: n.body, icon });
      shown.on('click', showWindow);
      shown.show();
    });
    registerEngineIpc(
      engine,
      (url) => isRendererUrl(url, rendererDir),
      () => (win ? [win] : []),
    );
    tray = createTray(icon, {
      open: showWindow,
      quit: () => {
        quitting = true;
        tray?.destroy();
        app.quit();
      },
    });
    showWindow();
  });
}

import { BrowserWindow, session, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RENDERER_CSP } from '../../server/static-files.js';
import { loadWindowState, saveWindowState } from '../app/window-state.js';

/** Paths the main window needs. */
export interface MainWindowPaths {
  rendererDir: string;
  preload: string;
  stateFile: string;
  icon: string;
}

/** True when `url` is a page of our own renderer bundle. */
export function isRendererUrl(url: string, rendererDir: string): boolean {
  return url.startsWith(pathToFileURL(rendererDir).href + '/');
}

/**
 * Creates the main window: context isolation, sandbox, no Node integration, strict CSP,
 * navigation locked to our bundle (links open in the system browser), remembered bounds.
 */
export function createMainWindow(paths: MainWindowPaths): BrowserWindow {
  const state = loadWindowState(paths.stateFile);
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  const win = new BrowserWindow({
    ...state,
    show: false,
    title: 'TwinSnap',
    icon: paths.icon,
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  if (state.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (e, url) => {
    if (!isRendererUrl(url, paths.rendererDir)) e.preventDefault();
  });
  const remember = () => {
    if (win.isDestroyed()) return;
    saveWindowState(paths.stateFile, { ...win.getNormalBounds(), maximized: win.isMaximized() });
  };
  win.on('resize', remember);
  win.on('move', remember);
  win.on('close', remember);
  void win.loadFile(join(paths.rendererDir, 'index.html'));
  return win;
}

/** Name of the bridge object on `window` (Electron preload). */
export const BRIDGE_KEY = 'twinsnap';
/** ipcMain.handle channel carrying `{ method, req }` calls. */
export const CALL_CHANNEL = 'twinsnap:call';
/** webContents.send channel carrying `{ event, payload }`. */
export const EVENT_CHANNEL = 'twinsnap:event';
/** Query parameter carrying the `serve` access token. */
export const TOKEN_PARAM = 'token';
/** Path of the WebSocket endpoint of `twinsnap serve`. */
export const WS_PATH = '/api/ws';

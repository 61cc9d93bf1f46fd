import { BRIDGE_KEY, TOKEN_PARAM, WS_PATH } from '../../../shared/ipc/channels.js';
import type { BridgeApi } from '../../../shared/ipc/contract.js';
import { createWebSocketBridge, type ConnectedBridge, type ConnectionState } from './ws-bridge.js';

/** The parts of `window.location` the bridge needs. */
export interface LocationLike {
  protocol: string;
  host: string;
  search: string;
}

/** The WebSocket URL of `twinsnap serve` for a page location (token from `?token=`, else the cookie). */
export function webSocketUrl(loc: LocationLike): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(loc.search).get(TOKEN_PARAM);
  const q = token ? `?${TOKEN_PARAM}=${encodeURIComponent(token)}` : '';
  return `${proto}//${loc.host}${WS_PATH}${q}`;
}

/** Wraps Electron's preload bridge (always connected while the window lives). */
function electronBridge(b: BridgeApi): ConnectedBridge {
  return {
    call: (m, r) => b.call(m, r),
    on: (e, fn) => b.on(e, fn),
    connection: (): ConnectionState => 'open',
    onConnection: () => () => undefined,
    dispose: () => undefined,
  };
}

/**
 * Picks the bridge: the Electron preload's `window.twinsnap` when present, otherwise the
 * WebSocket of `twinsnap serve` on the page's own host. This is the ONLY place that touches
 * `window.twinsnap`.
 */
export function selectBridge(win: Window & { [BRIDGE_KEY]?: BridgeApi }): ConnectedBridge {
  const preload = win[BRIDGE_KEY];
  if (preload && typeof preload.call === 'function') return electronBridge(preload);
  return createWebSocketBridge({ url: webSocketUrl(win.location) });
}

/** Removes the access token from the address bar (the server's cookie keeps the session). */
export function hideTokenFromAddressBar(win: Window): void {
  const url = new URL(win.location.href);
  if (!url.searchParams.has(TOKEN_PARAM)) return;
  url.searchParams.delete(TOKEN_PARAM);
  win.history.replaceState(win.history.state, '', url.pathname + url.search + url.hash);
}

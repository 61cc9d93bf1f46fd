// The preload: exposes the typed bridge and nothing else. Runs sandboxed; bundled to CJS.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { BRIDGE_KEY, CALL_CHANNEL, EVENT_CHANNEL } from '../../shared/ipc/channels.js';
import type { BridgeApi } from '../../shared/ipc/contract.js';

const bridge: BridgeApi = {
  call: (method, req) => ipcRenderer.invoke(CALL_CHANNEL, { method, req }),
  on: (event, fn) => {
    const listener = (_e: IpcRendererEvent, msg: { event: string; payload: unknown }) => {
      if (msg?.event === event) fn(msg.payload as never);
    };
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => void ipcRenderer.off(EVENT_CHANNEL, listener);
  },
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);

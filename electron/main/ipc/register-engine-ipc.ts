import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { AppError } from '../../../shared/errors/app-error.js';
import { toSerializedError } from '../../../shared/errors/serialize.js';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../../shared/ipc/channels.js';
import type { IpcResult } from '../../../shared/ipc/contract.js';
import type { Engine } from '../../engine/engine.js';

/**
 * Wires the contract to ipcMain: one handler, sender check (only our own renderer page),
 * validation in EngineService.call, and always an IpcResult (never a thrown error).
 */
export function registerEngineIpc(engine: Engine, isTrustedUrl: (url: string) => boolean, windows: () => BrowserWindow[]): () => void {
  ipcMain.handle(CALL_CHANNEL, async (event: IpcMainInvokeEvent, msg: unknown): Promise<IpcResult<unknown>> => {
    try {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedUrl(url)) throw new AppError('UNAUTHORIZED', 'call from an untrusted frame was refused');
      const m = (msg ?? {}) as { method?: unknown; req?: unknown };
      const value = await engine.service.call(String(m.method), m.req);
      return { ok: true, value };
    } catch (e) {
      return { ok: false, error: toSerializedError(e) };
    }
  });
  const off = engine.onEvent((event, payload) => {
    for (const w of windows()) if (!w.isDestroyed()) w.webContents.send(EVENT_CHANNEL, { event, payload });
  });
  return () => {
    off();
    ipcMain.removeHandler(CALL_CHANNEL);
  };
}

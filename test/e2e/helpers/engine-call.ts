import WebSocket from 'ws';
import type { EngineMethod, Req, Res } from '../../../shared/ipc/contract.js';
import type { ServeHandle } from './serve.js';

/**
 * Calls an engine method straight over the serve WebSocket — the independent oracle the UI's
 * text is compared with. Rejects with the engine's error message on failure.
 */
export async function engineCall<M extends EngineMethod>(server: ServeHandle, method: M, req: Req<M>): Promise<Res<M>> {
  const url = `${server.origin.replace(/^http/, 'ws')}/api/ws?token=${encodeURIComponent(server.token)}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${method}: no answer within 30 s`));
    }, 30_000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'call', seq: 1, method, req })));
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as { type: string; seq?: number; ok?: boolean; value?: unknown; error?: { code: string; message: string } };
      if (f.type !== 'result' || f.seq !== 1) return;
      clearTimeout(timer);
      ws.close();
      if (f.ok) resolve(f.value as Res<M>);
      else reject(Object.assign(new Error(`${f.error?.code}: ${f.error?.message}`), { code: f.error?.code }));
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

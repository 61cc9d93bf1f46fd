import { createServer, type IncomingMessage, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError } from '../../shared/errors/app-error.js';
import { toSerializedError } from '../../shared/errors/serialize.js';
import { TOKEN_PARAM, WS_PATH } from '../../shared/ipc/channels.js';
import type { ServerFrame } from '../../shared/ipc/wire.js';
import { randomToken } from '../engine/core/ids.js';
import type { Engine } from '../engine/engine.js';
import { serveStatic } from './static-files.js';

/** Options of startServer. */
export interface ServeOptions {
  engine: Engine;
  /** Folder with the built renderer (index.html). */
  rendererDir: string;
  host?: string;
  port?: number;
  /** Access token; a random one is generated when absent. */
  token?: string;
}

/** A running server. */
export interface RunningServer {
  url: string;
  token: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

const COOKIE = 'twinsnap_token';
/** Largest WebSocket frame accepted (requests are small; file data goes the other way). */
const MAX_FRAME = 1024 * 1024;

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

function tokenFrom(req: IncomingMessage): string | undefined {
  const url = new URL(req.url ?? '/', 'http://x');
  const q = url.searchParams.get(TOKEN_PARAM);
  if (q) return q;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  const cookie = req.headers.cookie
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${COOKIE}=`));
  return cookie ? decodeURIComponent(cookie.slice(COOKIE.length + 1)) : undefined;
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * `twinsnap serve`: the renderer over HTTP and the contract over a WebSocket. Every request
 * needs the access token (query `?token=`, `Authorization: Bearer`, or the cookie set when the
 * page was opened with the token); anything else gets 401 or a closed socket.
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomToken(24);
  const { engine } = opts;
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });

  const server: Server = createServer((req, res) => {
    if (!sameToken(tokenFrom(req), token)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('unauthorized: open the URL printed by `twinsnap serve` (it carries the access token)\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    res.setHeader('set-cookie', `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
    serveStatic(opts.rendererDir, new URL(req.url ?? '/', 'http://x').pathname, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    const originOk = !origin || new URL(origin).host === req.headers.host;
    if (url.pathname !== WS_PATH || !sameToken(tokenFrom(req), token) || !originOk) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  });

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    const send = (f: ServerFrame) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(f));
    };
    ws.on('message', async (data, isBinary) => {
      let seq: number | null = null;
      try {
        if (isBinary) throw new AppError('INVALID_REQUEST', 'binary frames are not supported');
        let frame: unknown;
        try {
          frame = JSON.parse(data.toString());
        } catch {
          throw new AppError('INVALID_REQUEST', 'frame is not valid JSON');
        }
        const f = frame as { type?: unknown; seq?: unknown; method?: unknown; req?: unknown };
        if (typeof f !== 'object' || f === null || f.type !== 'call' || typeof f.seq !== 'number' || !Number.isSafeInteger(f.seq)) {
          throw new AppError('INVALID_REQUEST', "frame must be {type:'call', seq:<integer>, method, req}");
        }
        seq = f.seq;
        const value = await engine.service.call(String(f.method), f.req);
        send({ type: 'result', seq: f.seq, ok: true, value });
      } catch (e) {
        send({ type: 'result', seq, ok: false, error: toSerializedError(e) });
      }
    });
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
  });

  const off = engine.onEvent((event, payload) => {
    const msg = JSON.stringify({ type: 'event', event, payload } satisfies ServerFrame);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(msg);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new AppError(e.code === 'EADDRINUSE' ? 'ALREADY_EXISTS' : 'INTERNAL', `unable to listen on ${host}:${opts.port ?? 0}: ${e.message}`, { cause: e })),
    );
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${port}/?${TOKEN_PARAM}=${encodeURIComponent(token)}`,
    token,
    port,
    host,
    close: async () => {
      off();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError } from '../../shared/errors/app-error.js';
import { toSerializedError } from '../../shared/errors/serialize.js';
import { TOKEN_PARAM, WS_PATH } from '../../shared/ipc/channels.js';
import type { ServerFrame } from '../../shared/ipc/wire.js';
import { randomToken, type Engine } from '../engine/engine.js';
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
  if (host.toLowerCase() === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/** True for the wildcard addresses (every interface). */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * The `Host` header values a browser may send to this server: the bound address (and, for a
 * loopback bind, `127.0.0.1`, `localhost` and `[::1]`) with the port. A wildcard bind also
 * accepts any IP literal and this machine's host name. Anything else is a name that resolved
 * here by accident or by DNS rebinding, and is refused.
 */
export function hostAllowed(hostHeader: string | undefined, boundHost: string, port: number): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  if (!m) return false;
  const name = m[1]!.toLowerCase();
  const p = m[2] === undefined ? 80 : Number(m[2]);
  if (p !== port) return false;
  const bare = name.startsWith('[') ? name.slice(1, -1) : name;
  const bound = boundHost.toLowerCase().replace(/^\[|\]$/g, '');
  if (bare === bound) return true;
  if (isLoopback(bound) && (bare === '127.0.0.1' || bare === 'localhost' || bare === '::1')) return true;
  if (isWildcard(bound)) return isIP(bare) !== 0 || bare === 'localhost' || bare === hostname().toLowerCase();
  return false;
}

/** The path and query of a request target; undefined when it is not an origin-form `/…` target. */
function requestUrl(req: IncomingMessage): URL | undefined {
  const target = req.url ?? '';
  if (!target.startsWith('/')) return undefined;
  try {
    // prefixing the origin keeps `//x` a path (new URL('//x', base) would read a host)
    return new URL(`http://localhost${target}`);
  } catch {
    return undefined;
  }
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Every token the request offers: the query, a bearer header, and each cookie of our name (a page on another loopback port may plant one). */
function tokensFrom(req: IncomingMessage, url: URL): string[] {
  const out: string[] = [];
  const q = url.searchParams.get(TOKEN_PARAM);
  if (q) out.push(q);
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) out.push(auth.slice(7));
  for (const c of (req.headers.cookie ?? '').split(';')) {
    const t = c.trim();
    if (!t.startsWith(`${COOKIE}=`)) continue;
    const v = decode(t.slice(COOKIE.length + 1));
    if (v !== undefined) out.push(v);
  }
  return out;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Why a request is refused (status and text), or undefined when it may proceed. */
function refusal(req: IncomingMessage, url: URL | undefined, token: string, bound: { host: string; port: number }): { status: number; text: string } | undefined {
  if (!url) return { status: 400, text: 'bad request target' };
  if (!hostAllowed(req.headers.host, bound.host, bound.port)) return { status: 403, text: 'forbidden: unexpected Host header (open the URL printed by `twinsnap serve`)' };
  if (!tokensFrom(req, url).some((t) => sameToken(t, token))) {
    return { status: 401, text: 'unauthorized: open the URL printed by `twinsnap serve` (it carries the access token)' };
  }
  return undefined;
}

/** True when a WebSocket's Origin is absent (not a browser) or is this server as the browser reached it. */
function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host === hostHeader?.trim().toLowerCase();
  } catch {
    return false; // `null` (sandboxed frames, file: pages) and anything unparsable
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };

/** Answers a refused upgrade on its raw socket and closes it. */
function refuseSocket(socket: Duplex, status: number, text = ''): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  setTimeout(() => socket.destroy(), 5000).unref();
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`, () =>
    socket.destroy(),
  );
}

/**
 * `twinsnap serve`: the renderer over HTTP and the contract over a WebSocket. Every request
 * needs the access token (query `?token=`, `Authorization: Bearer`, or the cookie set when the
 * page was opened with the token); anything else gets 401. A `Host` that is not the bound
 * address (DNS rebinding) gets 403, so does a WebSocket whose `Origin` is another site or `null`;
 * a malformed request gets 400, and an exception in a handler a logged 500 — no request can end
 * the process (and the scheduler in it).
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomToken(24);
  const { engine } = opts;
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });

  let bound = { host, port: opts.port ?? 0 };
  const log = engine.logger;

  const server: Server = createServer((req, res) => {
    try {
      const url = requestUrl(req);
      const no = refusal(req, url, token, bound);
      if (no) {
        res.writeHead(no.status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${no.text}\n`);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      res.setHeader('set-cookie', `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
      serveStatic(opts.rendererDir, url!.pathname, res).catch((e: unknown) => failed(res, e, req));
    } catch (e) {
      failed(res, e, req);
    }
  });
  /** A handler threw: 500 and a log line, never a dead server. */
  const failed = (res: ServerResponse, e: unknown, req: IncomingMessage) => {
    log.error('serve: request failed', { method: req.method, path: String(req.url).slice(0, 200), error: e });
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('internal error\n');
    else res.destroy();
  };
  // malformed HTTP (bad request line, oversized headers …): 400, never an exception
  server.on('clientError', (_e, socket) => refuseSocket(socket, 400));

  server.on('upgrade', (req, socket: Duplex, head) => {
    // after an upgrade Node no longer listens for the socket's errors: an early reset must not be uncaught
    socket.on('error', () => socket.destroy());
    try {
      const url = requestUrl(req);
      const no = refusal(req, url, token, bound);
      if (no) return refuseSocket(socket, no.status, no.text);
      if (url!.pathname !== WS_PATH) return refuseSocket(socket, 404);
      if (!originAllowed(req.headers.origin, req.headers.host)) return refuseSocket(socket, 403, 'forbidden: cross-origin WebSocket');
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
    } catch (e) {
      log.error('serve: upgrade failed', { path: String(req.url).slice(0, 200), error: e });
      refuseSocket(socket, 500);
    }
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
  bound = { host, port };
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

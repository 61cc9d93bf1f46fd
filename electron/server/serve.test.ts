import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeTempDir } from '../../test/helpers/temp-dir.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { nullLogger } from '../engine/core/logger.js';
import { isLoopback, startServer, type RunningServer } from './serve.js';

let engine: Engine;
let server: RunningServer;
let base: string;

beforeAll(async () => {
  const dir = makeTempDir();
  const rendererDir = join(dir.path, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>TwinSnap</title>');
  writeFileSync(join(dir.path, 'secret.txt'), 'outside');
  engine = await createEngine({ dataDir: join(dir.path, 'data'), logger: nullLogger, hypervisors: [] });
  server = await startServer({ engine, rendererDir });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  await engine?.close();
});

function openWs(url: string): Promise<{ ws: WebSocket; next: () => Promise<unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const queue: unknown[] = [];
    const waiters: ((v: unknown) => void)[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      const w = waiters.shift();
      if (w) w(m);
      else queue.push(m);
    });
    ws.on('open', () => resolve({ ws, next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))) }));
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('twinsnap serve', () => {
  it('binds loopback by default and prints a URL carrying the token', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=.{20,}$`));
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('::1')).toBe(true);
  });

  it('refuses HTTP requests without the token with 401 and serves them with it', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(401);
    const ok = await fetch(server.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toContain("script-src 'self'");
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${base}/assets/x.js`, { headers: { cookie } })).status).toBe(404);
  });

  it('never serves files outside the renderer folder', async () => {
    const r = await fetch(`${base}/..%2fsecret.txt?token=${server.token}`);
    expect([403, 404]).toContain(r.status);
    expect(await r.text()).not.toContain('outside');
  });

  it('closes a WebSocket without the token', async () => {
    await expect(openWs(`ws://127.0.0.1:${server.port}/api/ws`)).rejects.toThrow(/401/);
  });

  it('answers calls, and replies to malformed frames with typed errors while it keeps serving', async () => {
    const { ws, next } = await openWs(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
    ws.send('{ not json');
    expect(await next()).toMatchObject({ type: 'result', ok: false, seq: null, error: { code: 'INVALID_REQUEST' } });
    ws.send(JSON.stringify({ type: 'call', seq: 1, method: 'no.such.method', req: {} }));
    expect(await next()).toMatchObject({ seq: 1, ok: false, error: { code: 'UNKNOWN_METHOD' } });
    ws.send(JSON.stringify({ type: 'call', seq: 2, method: 'jobs.list', req: { limit: -5 } }));
    expect(await next()).toMatchObject({ seq: 2, ok: false, error: { code: 'INVALID_REQUEST' } });
    ws.send(JSON.stringify({ type: 'call', seq: 'x', method: 'engine.status' }));
    expect(await next()).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await next()).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    ws.send(JSON.stringify({ type: 'call', seq: 3, method: 'engine.status', req: {} }));
    expect(await next()).toMatchObject({ seq: 3, ok: true, value: { state: 'ready', version: expect.any(String) } });
    ws.close();
  });

  it('pushes engine events to connected clients', async () => {
    const { ws, next } = await openWs(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
    engine.context.emit('snapshots.changed', { guest: 'Accounting' });
    expect(await next()).toEqual({ type: 'event', event: 'snapshots.changed', payload: { guest: 'Accounting' } });
    ws.close();
  });
});

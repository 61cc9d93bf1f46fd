import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * A real `twinsnap serve` process (an uncaught exception would end it, and with it the
 * scheduler inside) takes malformed paths, headers, cookies, origins, upgrade requests and
 * methods over raw sockets; afterwards it must be alive and still serve the token URL.
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const tmp = makeTempDir('twinsnap-serve-fuzz-');
let child: ChildProcess;
let port = 0;
let token = '';
let stderr = '';
let exited: number | null | undefined;

beforeAll(async () => {
  const rendererDir = join(tmp.path, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>TwinSnap fuzz</title>');
  child = spawn(process.execPath, ['bin/twinsnap.mjs', '--json', '--data-dir', join(tmp.path, 'data'), 'serve', '--port', '0', '--no-scheduler', '--renderer-dir', rendererDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('exit', (code) => (exited = code));
  const info = await new Promise<{ url: string; port: number }>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{') && l.endsWith('}'));
      if (line) res(JSON.parse(line));
    });
    child.once('exit', (code) => rej(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  port = info.port;
  token = new URL(info.url).searchParams.get('token')!;
}, 120_000);

afterAll(async () => {
  if (child && exited === undefined) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
  tmp.cleanup();
});

/** Sends raw bytes and collects the answer until the server closes or goes quiet; returns the status code (or 0). */
function raw(bytes: string | Buffer, quietMs = 400): Promise<{ status: number; text: string }> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      res({ status: m ? Number(m[1]) : 0, text: got });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    };
    s.on('data', (d) => {
      got += d.toString('latin1');
      arm();
    });
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => {
      s.write(bytes);
      arm();
    });
  });
}

const host = () => `127.0.0.1:${port}`;
const req = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  `${method} ${path} HTTP/1.1\r\n${Object.entries({ Host: host(), Connection: 'close', ...headers })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
const upgrade = (path: string, headers: Record<string, string> = {}) =>
  req(path, { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers });

describe('twinsnap serve under malformed requests (a spawned process)', { timeout: 120_000 }, () => {
  it('answers the three requests that used to end the process with a 4xx', async () => {
    expect((await raw(req('//'))).status).toBeGreaterThanOrEqual(400);
    expect((await raw(req('//'))).status).toBeLessThan(500);
    const nullOrigin = await raw(upgrade(`/api/ws?token=${token}`, { Origin: 'null' }));
    expect(nullOrigin.status).toBe(403);
    const badCookie = await raw(req('/', { Cookie: 'twinsnap_token=%E0%A4%A' }));
    expect(badCookie.status).toBe(401);
    expect(exited).toBeUndefined();
  });

  it('checks the Host header against the bound address (DNS rebinding)', async () => {
    expect((await raw(req(`/?token=${token}`, { Host: `evil.example:${port}` }))).status).toBe(403);
    expect((await raw(req(`/?token=${token}`, { Host: `127.0.0.1:${port + 1}` }))).status).toBe(403);
    expect((await raw(upgrade(`/api/ws?token=${token}`, { Host: `rebind.example:${port}`, Origin: `http://rebind.example:${port}` }))).status).toBe(403);
    for (const h of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await raw(req(`/?token=${token}`, { Host: h }))).status, h).toBe(200);
    }
  });

  it('survives a fuzz of paths, headers, cookies, origins, upgrades and methods, then still serves the token URL', async () => {
    const paths = [
      '//',
      '///',
      '//evil.example/x',
      '/\\\\evil',
      '/%',
      '/%zz',
      '/%00',
      '/%E0%A4%A',
      '/..%2f..%2fetc%2fpasswd',
      '/../../etc/passwd',
      `/${'a'.repeat(9000)}`,
      '*',
      'http://x/',
      'x',
      '/?token=%',
      '/?token=%E0%A4%A',
      '/api/ws',
      '/?%%%=%%%',
      '/#frag',
      '/\u00ff\u00fe',
    ];
    const cookies = [
      'twinsnap_token=%',
      'twinsnap_token=%E0%A4%A',
      'twinsnap_token',
      '=',
      ';;;',
      'twinsnap_token=%00',
      `twinsnap_token=${token}%`,
      'a=b; twinsnap_token=%uD800',
      'twinsnap_token="\u00ff"',
    ];
    const origins = ['null', '', 'x', 'http://', '://', 'http://[', 'file://', `http://127.0.0.1:${port}\u0000`, 'http://%', 'data:,x', 'http://a b', 'null null'];
    const hosts = ['', ' ', '[', '[::1', ':', `:${port}`, 'a'.repeat(300), `127.0.0.1:${port}:1`, '127.0.0.1:99999', '%', '[zz]:1'];
    const methods = ['POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'FOO', 'G\u00e9T'];
    const auths = ['Bearer', 'Bearer ', 'Bearer %', 'Basic xx', `Bearer ${token}x`];
    const cases: string[] = [];
    for (const p of paths) cases.push(req(p), req(p, {}, 'HEAD'), upgrade(p));
    for (const c of cookies) cases.push(req('/', { Cookie: c }), upgrade('/api/ws', { Cookie: c }));
    for (const o of origins) cases.push(upgrade(`/api/ws?token=${token}`, { Origin: o }), req(`/?token=${token}`, { Origin: o }));
    for (const h of hosts) cases.push(req(`/?token=${token}`, { Host: h }), upgrade(`/api/ws?token=${token}`, { Host: h }));
    for (const m of methods) cases.push(req(`/?token=${token}`, {}, m), req('/', {}, m));
    for (const a of auths) cases.push(req('/', { Authorization: a }), upgrade('/api/ws', { Authorization: a }));
    cases.push(
      upgrade(`/api/ws?token=${token}`, { 'Sec-WebSocket-Key': '' }),
      upgrade(`/api/ws?token=${token}`, { 'Sec-WebSocket-Version': '99' }),
      upgrade(`/api/ws?token=${token}`, { Upgrade: 'h2c' }),
      'GET / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.0\r\n\r\n',
      'GARBAGE\r\n\r\n',
      '\r\n\r\n\r\n',
      `GET /?token=${token} HTTP/1.1\r\nHost: ${host()}\r\nHost: evil.example\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: ${host()}\r\nX: ${'y'.repeat(20000)}\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: ${host()}\r\nContent-Length: -1\r\n\r\n`,
      `POST /?token=${token} HTTP/1.1\r\nHost: ${host()}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
      `GET /?token=${token} HTTP/1.1\r\nHost: ${host()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
      `GET /?token=${token} HTTP/1.1\r\nHost: ${host()}`, // never finished
    );
    for (let i = 0; i < 40; i++) cases.push(`GET /${randomBytes(12).toString('latin1')} HTTP/1.1\r\nHost: ${host()}\r\nCookie: twinsnap_token=${randomBytes(8).toString('latin1')}\r\n\r\n`);
    // a few at a time (the upgrade ones also reset the socket at once)
    for (let i = 0; i < cases.length; i += 8) {
      const batch = cases.slice(i, i + 8);
      const answers = await Promise.all(batch.map((c) => raw(c, 150).then((a) => ({ c, a }))));
      for (const { c, a } of answers) if (a.status) expect(a.status, JSON.stringify(c.slice(0, 120))).toBeLessThan(500);
      expect(exited, `serve died after ${JSON.stringify(batch.map((c) => c.slice(0, 80)))}; stderr: ${stderr}`).toBeUndefined();
    }
    // abrupt resets in the middle of an upgrade
    for (let i = 0; i < 10; i++) {
      const s = connect(port, '127.0.0.1');
      await new Promise((r) => s.on('connect', r));
      s.write(upgrade(`/api/ws?token=${token}`, { Origin: 'null' }).slice(0, 60 + i * 10));
      s.resetAndDestroy();
    }
    const ok = await fetch(`http://127.0.0.1:${port}/?token=${token}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('TwinSnap fuzz');
    expect(exited).toBeUndefined();
    expect(stderr).not.toMatch(/Uncaught|TypeError|URIError/);
  });
});

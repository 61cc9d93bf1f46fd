import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors/app-error.js';
import { SmtpEmailChannel } from '../../electron/engine/notify/email-channel.js';
import type { Notification } from '../../electron/engine/notify/notification.js';
import { Notifier } from '../../electron/engine/notify/notifier.js';
import { HttpWebhookChannel } from '../../electron/engine/notify/webhook-channel.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { createEngine } from '../../electron/engine/engine.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A received SMTP message. */
interface Mail {
  from: string;
  to: string[];
  data: string;
  auth?: string;
}

/** A minimal SMTP sink (RFC 5321 subset nodemailer needs): plain, optional AUTH PLAIN. */
async function smtpSink(): Promise<{ port: number; mails: Mail[]; server: NetServer }> {
  const mails: Mail[] = [];
  const server = createNetServer((sock) => {
    sock.setEncoding('utf8');
    let buf = '';
    let inData = false;
    let cur: Mail = { from: '', to: [], data: '' };
    const reply = (s: string) => sock.write(`${s}\r\n`);
    reply('220 sink.test ESMTP');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          cur.data = buf.slice(0, end).replace(/^\.\./gm, '.');
          buf = buf.slice(end + 5);
          inData = false;
          mails.push(cur);
          cur = { from: '', to: [], data: '' };
          reply('250 2.0.0 queued');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO') reply('250-sink.test\r\n250-AUTH PLAIN\r\n250 8BITMIME');
        else if (cmd === 'HELO') reply('250 sink.test');
        else if (cmd === 'AUTH') {
          cur.auth = Buffer.from(line.split(' ')[2] ?? '', 'base64').toString('utf8');
          reply('235 2.7.0 ok');
        } else if (cmd === 'MAIL') {
          cur.from = /<([^>]*)>/.exec(line)?.[1] ?? '';
          reply('250 ok');
        } else if (cmd === 'RCPT') {
          cur.to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
          reply('250 ok');
        } else if (cmd === 'DATA') {
          inData = true;
          reply('354 go ahead');
        } else if (cmd === 'QUIT') {
          reply('221 bye');
          sock.end();
        } else if (cmd === 'RSET' || cmd === 'NOOP') reply('250 ok');
        else reply('502 not implemented');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, mails, server };
}

interface Hook {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** A local webhook receiver; `handler` may answer differently per path. */
async function webhookReceiver(handler?: (req: IncomingMessage) => { status: number; headers?: Record<string, string> } | 'hang') {
  const hits: Hook[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hits.push({ method: req.method!, url: req.url!, headers: req.headers, body: body ? JSON.parse(body) : undefined });
      const a = handler?.(req) ?? { status: 204 };
      if (a === 'hang') return;
      res.writeHead(a.status, a.headers).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

const servers: (NetServer | HttpServer)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    (s as HttpServer).closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
});

const sample: Notification = {
  severity: 'failure',
  topic: 'backup',
  title: "backup of 'Accounting' failed",
  body: 'error: vmrun timed out',
  guest: 'Accounting',
  at: '2026-06-01T12:00:00.000Z',
};

function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e) => {
      if (!isAppError(e)) throw e;
      return { code: e.code, message: e.message };
    },
  );
}

describe('e-mail notifications over SMTP', () => {
  it('delivers to a local SMTP sink with an honest subject, recipients and authentication', async () => {
    const sink = await smtpSink();
    servers.push(sink.server);
    const ch = new SmtpEmailChannel({ host: '127.0.0.1', port: sink.port, secure: false, from: 'twinsnap@host.test', to: 'ops@x.test, boss@x.test', user: 'u1', password: 'p1' });
    await ch.send(sample);
    expect(sink.mails).toHaveLength(1);
    const m = sink.mails[0]!;
    expect(m.from).toBe('twinsnap@host.test');
    expect(m.to).toEqual(['ops@x.test', 'boss@x.test']);
    expect(m.auth).toBe('\0u1\0p1');
    expect(m.data).toMatch(/^Subject: \[TwinSnap\] FAILED: backup of 'Accounting' failed\r?$/m);
    expect(m.data).toMatch(/error: vmrun timed out/);
    expect(m.data).toMatch(/^X-TwinSnap-Severity: failure\r?$/im);
  });

  it('reports an unreachable SMTP server as NOTIFY_FAILED naming host and port', async () => {
    const probe = await smtpSink();
    const port = probe.port;
    await new Promise((r) => probe.server.close(r));
    const e = await errorOf(new SmtpEmailChannel({ host: '127.0.0.1', port, secure: false, from: 'a@b.c', to: 'd@e.f' }, { timeoutMs: 2000 }).send(sample));
    expect(e.code).toBe('NOTIFY_FAILED');
    expect(e.message).toContain(`unable to send e-mail via 127.0.0.1:${port}`);
  });
});

describe('the engine sends e-mail with the password from the secret store', () => {
  it('a password from an older config.json is moved out of it and still authenticates', async () => {
    const sink = await smtpSink();
    servers.push(sink.server);
    const tmp = makeTempDir('twinsnap-notify-secret-');
    try {
      const email = { host: '127.0.0.1', port: sink.port, secure: false, from: 'twinsnap@host.test', to: 'ops@x.test', user: 'u1', password: 'from-old-config' };
      writeFileSync(join(tmp.path, 'config.json'), JSON.stringify({ version: 1, repository: join(tmp.path, 'repo'), notifications: { onSuccess: false, email } }));
      const engine = await createEngine({ dataDir: tmp.path, logger: nullLogger, hypervisors: [] });
      try {
        expect(readFileSync(join(tmp.path, 'config.json'), 'utf8')).not.toContain('from-old-config');
        expect(await engine.service.call('notifications.test', { channel: 'email' })).toEqual({ delivered: true });
        expect(sink.mails[0]?.auth).toBe('\0u1\0from-old-config');
      } finally {
        await engine.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});

describe('webhook notifications', () => {
  it('POSTs the notification as JSON to a local receiver', async () => {
    const rx = await webhookReceiver();
    servers.push(rx.server);
    await new HttpWebhookChannel(`${rx.url}/hook?token=abc`).send(sample);
    expect(rx.hits).toHaveLength(1);
    expect(rx.hits[0]).toMatchObject({ method: 'POST', url: '/hook?token=abc', headers: { 'content-type': 'application/json' } });
    expect(rx.hits[0]!.body).toEqual({ source: 'twinsnap', ...sample });
  });

  it('follows a 307 on the same host but refuses a redirect to another host', async () => {
    const rx = await webhookReceiver((req) =>
      req.url === '/old' ? { status: 307, headers: { location: '/new' } } : req.url === '/away' ? { status: 307, headers: { location: 'http://evil.test/steal' } } : { status: 200 },
    );
    servers.push(rx.server);
    await new HttpWebhookChannel(`${rx.url}/old`).send(sample);
    expect(rx.hits.map((h) => `${h.method} ${h.url}`)).toEqual(['POST /old', 'POST /new']);
    expect(rx.hits[1]!.body).toMatchObject({ title: sample.title });
    const e = await errorOf(new HttpWebhookChannel(`${rx.url}/away`).send(sample));
    expect(e).toMatchObject({ code: 'NOTIFY_FAILED' });
    expect(e.message).toMatch(/redirect to another host \(evil\.test\) refused/);
  });

  it('fails with NOTIFY_FAILED on an HTTP error and on a receiver that never answers, without leaking the query', async () => {
    const rx = await webhookReceiver((req) => (req.url?.startsWith('/slow') ? 'hang' : { status: 500 }));
    servers.push(rx.server);
    const e500 = await errorOf(new HttpWebhookChannel(`${rx.url}/err?token=secret`).send(sample));
    expect(e500.message).toMatch(/HTTP 500/);
    expect(e500.message).not.toContain('secret');
    const t0 = performance.now();
    const eSlow = await errorOf(new HttpWebhookChannel(`${rx.url}/slow`, { timeoutMs: 300 }).send(sample));
    expect(eSlow.message).toMatch(/no answer within 0.3 s/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('notification policy', () => {
  it('always sends failures, successes only when enabled, and calls a crash-consistent fallback a warning', async () => {
    const rx = await webhookReceiver();
    servers.push(rx.server);
    let onSuccess = false;
    const n = new Notifier({ clock: new FakeClock('2026-06-01T12:00:00Z'), channels: () => [new HttpWebhookChannel(rx.url)], onSuccess: () => onSuccess });
    await n.backupFinished({ guest: 'A', status: 'succeeded', warnings: [] });
    expect(rx.hits).toHaveLength(0);
    await n.backupFinished({ guest: 'A', status: 'succeeded', warnings: [], consistency: 'crash' });
    await n.backupFinished({ guest: 'B', status: 'failed', warnings: [], error: { code: 'HV_SHUTDOWN_TIMEOUT', message: 'twin did not shut down' } });
    onSuccess = true;
    await n.backupFinished({ guest: 'C', status: 'succeeded', warnings: [], consistency: 'clean-twin', slots: [1, 2] });
    await n.staleGuest('D', undefined, 26 * 3_600_000);
    expect(rx.hits.map((h) => [(h.body as Notification).severity, (h.body as Notification).title])).toEqual([
      ['warning', "backup of 'A' finished with warnings"],
      ['failure', "backup of 'B' failed"],
      ['success', "backup of 'C' succeeded"],
      ['warning', "'D' has no recent backup"],
    ]);
    expect((rx.hits[0]!.body as Notification).body).toMatch(/CRASH-CONSISTENT/);
    expect((rx.hits[2]!.body as Notification).body).toMatch(/caught up 2 missed scheduled runs/);
  });

  it('reports a failing channel without throwing and still delivers to the others', async () => {
    const rx = await webhookReceiver();
    servers.push(rx.server);
    const n = new Notifier({
      clock: new FakeClock(),
      channels: () => [new SmtpEmailChannel({ host: '127.0.0.1', port: 1, secure: false, from: 'a@b.c', to: 'd@e.f' }, { timeoutMs: 1000 }), new HttpWebhookChannel(rx.url)],
      onSuccess: () => false,
    });
    const r = await n.backupFinished({ guest: 'A', status: 'failed', warnings: [] });
    expect(r.delivered).toEqual(['webhook']);
    expect(r.failed).toEqual([{ channel: 'email', message: expect.stringMatching(/unable to send e-mail via 127.0.0.1:1/) }]);
  });
});

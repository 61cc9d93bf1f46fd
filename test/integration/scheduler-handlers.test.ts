import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors/app-error.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { SCHEDULER_LOCK_FILE } from '../../electron/engine/scheduler/scheduler-lock.js';
import { FakeClock } from '../helpers/fake-clock.js';

let dir: string;
let engine: Engine;
let server: Server;
const hooks: unknown[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-sched-h-'));
  server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      hooks.push(JSON.parse(b));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  engine = await createEngine({ dataDir: dir, hypervisors: [], logger: nullLogger, clock: new FakeClock('2026-06-01T10:00:00Z') });
});
afterAll(async () => {
  await engine.close();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isAppError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'ok';
}

describe('schedule service handlers', () => {
  it('schedules.set validates, normalises, persists in the catalog and returns the next runs', async () => {
    const s = await engine.service.call('schedules.set', { guest: 'web', schedule: { kind: 'times', times: ['18:00', '12:00'] }, timeZone: 'Europe/Berlin' });
    expect(s).toEqual({
      guestId: 'name:web',
      guest: 'web',
      schedule: { kind: 'times', times: ['12:00', '18:00'] },
      timeZone: 'Europe/Berlin',
      // 12:00 CEST today is now (10:00Z), so it is not "next"; 18:00 CEST = 16:00Z.
      nextRuns: ['2026-06-01T16:00:00.000Z', '2026-06-02T10:00:00.000Z', '2026-06-02T16:00:00.000Z', '2026-06-03T10:00:00.000Z', '2026-06-03T16:00:00.000Z'],
    });
    await engine.service.call('schedules.set', { guest: 'db', schedule: { kind: 'cron', expression: '0  3 * * 1-5' }, timeZone: 'UTC' });
    const list = await engine.service.call('schedules.list', {});
    expect(list.map((x) => [x.guest, x.schedule])).toEqual([
      ['db', { kind: 'cron', expression: '0 3 * * 1-5' }],
      ['web', { kind: 'times', times: ['12:00', '18:00'] }],
    ]);
    expect(list[0]!.nextRuns[0]).toBe('2026-06-02T03:00:00.000Z');
  });

  it('rejects invalid schedules with SCHEDULE_INVALID and a message naming the problem', async () => {
    expect(await codeOf(engine.service.call('schedules.set', { guest: 'x', schedule: { kind: 'cron', expression: '* * * * * *' } }))).toMatch(
      /^SCHEDULE_INVALID: invalid cron expression .* expected 5 fields/,
    );
    expect(await codeOf(engine.service.call('schedules.set', { guest: 'x', schedule: { kind: 'times', times: ['12:00'] }, timeZone: 'Nowhere/City' }))).toMatch(
      /^SCHEDULE_INVALID: unknown time zone 'Nowhere\/City'/,
    );
    expect(await codeOf(engine.service.call('schedules.set', { guest: 'x', schedule: { kind: 'times', times: ['7:00'] } }))).toMatch(/^INVALID_REQUEST/);
  });

  it('schedules.preview shows runs without saving anything', async () => {
    const r = await engine.service.call('schedules.preview', { schedule: { kind: 'interval', everyHours: 4, from: '08:00', to: '16:00' }, timeZone: 'UTC', count: 4 });
    expect(r.nextRuns).toEqual(['2026-06-01T12:00:00.000Z', '2026-06-01T16:00:00.000Z', '2026-06-02T08:00:00.000Z', '2026-06-02T12:00:00.000Z']);
    expect((await engine.service.call('schedules.list', {})).map((x) => x.guest)).toEqual(['db', 'web']);
  });

  it('notifications.test needs a configured channel, then delivers to it', async () => {
    expect(await codeOf(engine.service.call('notifications.test', { channel: 'webhook' }))).toMatch(/^CONFIG_INVALID: no webhook URL/);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t`;
    await engine.service.call('settings.set', { patch: { notifications: { onSuccess: false, webhookUrl: url } } });
    expect(await engine.service.call('notifications.test', { channel: 'webhook' })).toEqual({ delivered: true });
    expect(hooks).toEqual([expect.objectContaining({ source: 'twinsnap', topic: 'test', severity: 'info', at: '2026-06-01T10:00:00.000Z' })]);
    await engine.service.call('settings.set', { patch: { notifications: { onSuccess: false, webhookUrl: 'http://127.0.0.1:1/' } } });
    expect(await codeOf(engine.service.call('notifications.test', { channel: 'webhook' }))).toMatch(/^NOTIFY_FAILED: webhook 'http:\/\/127.0.0.1:1\/' failed/);
  });

  it('notifications.test sends an e-mail through the SMTP settings to a local sink', async () => {
    const received: string[] = [];
    const sink = createNetServer((sock) => {
      let buf = '';
      let data = false;
      sock.write('220 sink ESMTP\r\n');
      sock.on('data', (c: Buffer) => {
        buf += c.toString();
        for (;;) {
          if (data) {
            const end = buf.indexOf('\r\n.\r\n');
            if (end < 0) return;
            received.push(buf.slice(0, end));
            buf = buf.slice(end + 5);
            data = false;
            sock.write('250 ok\r\n');
            continue;
          }
          const nl = buf.indexOf('\r\n');
          if (nl < 0) return;
          const cmd = buf.slice(0, 4).toUpperCase();
          buf = buf.slice(nl + 2);
          if (cmd === 'DATA') {
            data = true;
            sock.write('354 go\r\n');
          } else if (cmd === 'QUIT') sock.end('221 bye\r\n');
          else sock.write(cmd === 'EHLO' ? '250 sink\r\n' : '250 ok\r\n');
        }
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    try {
      const port = (sink.address() as AddressInfo).port;
      await engine.service.call('settings.set', { patch: { notifications: { onSuccess: false, email: { host: '127.0.0.1', port, secure: false, from: 'twinsnap@h.test', to: 'ops@h.test' } } } });
      expect(await engine.service.call('notifications.test', { channel: 'email' })).toEqual({ delivered: true });
      expect(received).toHaveLength(1);
      expect(received[0]).toMatch(/^Subject: \[TwinSnap\] INFO: test notification\r?$/m);
    } finally {
      await new Promise((r) => sink.close(r));
    }
  });

  it('takes the repository scheduler lock unless another live process holds it, and releases it on stop', async () => {
    const repoDir = engine.context.config().repository;
    const lockFile = join(repoDir, SCHEDULER_LOCK_FILE);
    mkdirSync(repoDir, { recursive: true });
    // Another live process (our parent) runs the scheduler: this engine must become a client.
    writeFileSync(lockFile, JSON.stringify({ pid: process.ppid, host: hostname(), role: 'daemon', startedAt: 'x' }));
    const svc = engine.context.scheduler;
    expect(svc.start({ role: 'app' })).toEqual({ started: false, holder: expect.objectContaining({ pid: process.ppid, role: 'daemon' }) });
    expect(svc.running()).toBe(false);
    rmSync(lockFile);
    expect(svc.start({ role: 'app' })).toEqual({ started: true });
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, role: 'app' });
    await svc.stop();
    expect(existsSync(lockFile)).toBe(false);
  });
});

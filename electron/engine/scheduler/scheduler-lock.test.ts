import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { SCHEDULER_LOCK_FILE, SchedulerLock, processAlive } from './scheduler-lock.js';

const dirs: string[] = [];
const repo = () => {
  const d = mkdtempSync(join(tmpdir(), 'twinsnap-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('scheduler lock (one scheduler per repository)', () => {
  it('lets the first process in and makes the second a client that sees who holds it', () => {
    const dir = repo();
    const a = SchedulerLock.acquire(dir, { role: 'daemon', clock: systemClock, pid: 111, alive: () => true });
    expect(a.acquired).toBe(true);
    const b = SchedulerLock.acquire(dir, { role: 'app', clock: systemClock, pid: 222, alive: () => true });
    expect(b).toEqual({ acquired: false, holder: expect.objectContaining({ pid: 111, role: 'daemon', host: hostname() }) });
    if (a.acquired) a.lock.release();
    const c = SchedulerLock.acquire(dir, { role: 'app', clock: systemClock, pid: 222, alive: () => true });
    expect(c.acquired).toBe(true);
  });

  it('takes over a stale lock whose process is gone on this host', () => {
    const dir = repo();
    writeFileSync(join(dir, SCHEDULER_LOCK_FILE), JSON.stringify({ pid: 999_999, host: hostname(), role: 'daemon', startedAt: 'x' }));
    const r = SchedulerLock.acquire(dir, { role: 'app', clock: systemClock, pid: 5, alive: (pid) => pid !== 999_999 });
    expect(r.acquired).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, SCHEDULER_LOCK_FILE), 'utf8'))).toMatchObject({ pid: 5, role: 'app' });
  });

  it('respects a lock held from another host, and treats a garbage lock file as stale', () => {
    const dir = repo();
    writeFileSync(join(dir, SCHEDULER_LOCK_FILE), JSON.stringify({ pid: 1, host: 'other-host', role: 'daemon', startedAt: 'x' }));
    expect(SchedulerLock.acquire(dir, { role: 'app', clock: systemClock, alive: () => false }).acquired).toBe(false);
    writeFileSync(join(dir, SCHEDULER_LOCK_FILE), 'not json');
    expect(SchedulerLock.acquire(dir, { role: 'app', clock: systemClock }).acquired).toBe(true);
  });

  it('release never removes a lock another process took over', () => {
    const dir = repo();
    const a = SchedulerLock.acquire(dir, { role: 'daemon', clock: systemClock, pid: 1 });
    writeFileSync(join(dir, SCHEDULER_LOCK_FILE), JSON.stringify({ pid: 2, host: hostname(), role: 'app', startedAt: 'x' }));
    if (a.acquired) a.lock.release();
    expect(SchedulerLock.read(dir)).toMatchObject({ pid: 2 });
  });

  it('knows that this process is alive and a bogus pid is not', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(-1)).toBe(false);
  });
});

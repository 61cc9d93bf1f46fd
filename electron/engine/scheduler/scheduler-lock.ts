import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Clock } from '../core/clock.js';

/** Name of the lock file inside the repository folder. */
export const SCHEDULER_LOCK_FILE = 'scheduler.lock';

/** Who holds the scheduler of a repository. */
export interface SchedulerLockHolder {
  pid: number;
  host: string;
  /** `daemon` (twinsnap daemon / the boot service), `app` (Electron), `serve`. */
  role: string;
  startedAt: string;
  /** Where clients can reach the holder (e.g. the serve URL), when it publishes one. */
  endpoint?: string;
}

/** The outcome of trying to become a repository's scheduler. */
export type SchedulerLockResult = { acquired: true; lock: SchedulerLock } | { acquired: false; holder: SchedulerLockHolder };

/** Whether a process with this pid exists on this host. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * The "one scheduler per repository" lock: a file created exclusively (O_EXCL) in the
 * repository folder holding the owner's pid, host and role. A second process (the Electron app
 * while the boot service runs) finds it held and becomes a client instead. A lock whose process
 * is gone (same host, pid not alive) is stale and taken over; a lock from ANOTHER host is
 * respected (we cannot check its pid) — remove it by hand if that host is gone for good.
 * Caller must `release()` (idempotent) when the scheduler stops.
 */
export class SchedulerLock {
  private released = false;

  private constructor(
    readonly file: string,
    readonly holder: SchedulerLockHolder,
  ) {}

  /** Tries to take the lock of `repositoryDir`. Never throws for a held lock. */
  static acquire(repositoryDir: string, opts: { role: string; clock: Clock; endpoint?: string; pid?: number; alive?: (pid: number) => boolean }): SchedulerLockResult {
    const file = join(repositoryDir, SCHEDULER_LOCK_FILE);
    mkdirSync(dirname(file), { recursive: true });
    const me: SchedulerLockHolder = {
      pid: opts.pid ?? process.pid,
      host: hostname(),
      role: opts.role,
      startedAt: new Date(opts.clock.now()).toISOString(),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    };
    const alive = opts.alive ?? processAlive;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        try {
          writeSync(fd, `${JSON.stringify(me)}\n`);
        } finally {
          closeSync(fd);
        }
        return { acquired: true, lock: new SchedulerLock(file, me) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = SchedulerLock.read(repositoryDir);
      if (holder && holder.host === me.host && holder.pid === me.pid) {
        return { acquired: true, lock: new SchedulerLock(file, me) }; // re-entrant in one process
      }
      const stale = !holder || (holder.host === me.host && !alive(holder.pid));
      if (!stale) return { acquired: false, holder };
      rmSync(file, { force: true }); // stale: its process is gone; retry the exclusive create
    }
    const holder = SchedulerLock.read(repositoryDir);
    return holder ? { acquired: false, holder } : { acquired: false, holder: { pid: 0, host: '?', role: '?', startedAt: '' } };
  }

  /** The current holder of `repositoryDir`'s lock, or undefined (absent or unreadable). */
  static read(repositoryDir: string): SchedulerLockHolder | undefined {
    try {
      const h = JSON.parse(readFileSync(join(repositoryDir, SCHEDULER_LOCK_FILE), 'utf8')) as SchedulerLockHolder;
      return typeof h.pid === 'number' && typeof h.host === 'string' ? h : undefined;
    } catch {
      return undefined;
    }
  }

  /** Removes the lock if it is still ours. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const cur = SchedulerLock.read(dirname(this.file));
    if (cur && cur.pid === this.holder.pid && cur.host === this.holder.host) rmSync(this.file, { force: true });
  }
}

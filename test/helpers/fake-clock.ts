import type { Clock } from '../../electron/engine/core/clock.js';
import type { BackupLauncher, JobResult, LaunchOptions, MaintenanceRunner } from '../../electron/engine/scheduler/ports.js';

interface Sleeper {
  due: number;
  seq: number;
  resolve: () => void;
}

/**
 * A Clock for tests: time stands still until the test advances it. `advance()` fires every
 * sleeper whose deadline passes, in deadline order, letting the woken code run (and schedule new
 * sleeps) before moving on — so scheduler code behaves as if that much time really passed.
 * `suspend()` models a host that sleeps or is switched off: wall time jumps, nothing runs in
 * between, and overdue sleepers all wake at the new time (like timers after resume).
 */
export class FakeClock implements Clock {
  private nowMs: number;
  private mono = 0;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  constructor(start: number | string = Date.UTC(2026, 0, 1)) {
    this.nowMs = typeof start === 'string' ? Date.parse(start) : start;
  }

  now(): number {
    return this.nowMs;
  }

  monotonic(): number {
    return this.mono;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const s: Sleeper = { due: this.nowMs + Math.max(0, ms), seq: this.seq++, resolve: () => {} };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((x) => x !== s);
        reject(signal?.reason);
      };
      s.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(s);
    });
  }

  /** Number of pending sleeps (tests assert nothing leaks). */
  pendingSleeps(): number {
    return this.sleepers.length;
  }

  /** Lets woken async code run to its next real wait. */
  async settle(): Promise<void> {
    for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Advances time by `ms`, firing sleepers in deadline order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.nowMs + ms);
  }

  /** Advances time to `target` (epoch ms or ISO string), firing sleepers on the way. */
  async advanceTo(target: number | string): Promise<void> {
    const t = typeof target === 'string' ? Date.parse(target) : target;
    await this.settle();
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > t) break;
      this.mono += Math.max(0, next.due - this.nowMs);
      this.nowMs = Math.max(this.nowMs, next.due);
      this.sleepers = this.sleepers.filter((x) => x !== next);
      next.resolve();
      await this.settle();
    }
    if (t > this.nowMs) {
      this.mono += t - this.nowMs;
      this.nowMs = t;
    }
    await this.settle();
  }

  /**
   * The host sleeps (or is off) for `ms`: wall time jumps, the monotonic clock does not move,
   * and every sleeper that became due wakes only now, at the new time.
   */
  async suspend(ms: number): Promise<void> {
    await this.settle();
    this.nowMs += ms;
    const due = this.sleepers.filter((s) => s.due <= this.nowMs).sort((a, b) => a.due - b.due || a.seq - b.seq);
    this.sleepers = this.sleepers.filter((s) => s.due > this.nowMs);
    for (const s of due) s.resolve();
    await this.settle();
  }

  private earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.sleepers) if (!best || s.due < best.due || (s.due === best.due && s.seq < best.seq)) best = s;
    return best;
  }
}

// ---- fakes of the scheduler's ports that run on a FakeClock ----

/** One backup the fake launcher ran. */
export interface FakeRun {
  guest: string;
  start: number;
  end?: number;
  opts: LaunchOptions;
}

/**
 * A BackupLauncher whose jobs take `duration(guest)` of fake-clock time and end with
 * `outcome(guest)`. It records every run and the highest number of jobs running at once.
 */
export class FakeLauncher implements BackupLauncher {
  readonly runs: FakeRun[] = [];
  active = 0;
  maxActive = 0;
  readonly activeGuests = new Set<string>();
  doubleStarts = 0;

  constructor(
    private readonly clock: Clock,
    private readonly duration: (guest: string) => number = () => 10 * 60_000,
    private readonly outcome: (guest: string) => JobResult['status'] = () => 'succeeded',
  ) {}

  async start(guest: string, opts: LaunchOptions): Promise<JobResult> {
    if (this.activeGuests.has(guest)) this.doubleStarts++;
    this.activeGuests.add(guest);
    const run: FakeRun = { guest, start: this.clock.now(), opts };
    this.runs.push(run);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await this.clock.sleep(this.duration(guest));
    } finally {
      this.active--;
      this.activeGuests.delete(guest);
      run.end = this.clock.now();
    }
    const status = this.outcome(guest);
    return status === 'failed'
      ? { status, warnings: [], error: { code: 'HV_COMMAND_FAILED', message: `backup of '${guest}' failed` } }
      : { status, warnings: status === 'warning' ? ['crash-consistent fallback archived'] : [], jobId: `job-${this.runs.length}` };
  }

  /** Runs of `guest`, in start order. */
  of(guest: string): FakeRun[] {
    return this.runs.filter((r) => r.guest === guest);
  }
}

/** A MaintenanceRunner recording calls; gc takes `gcMs` of fake time. */
export class FakeMaintenance implements MaintenanceRunner {
  readonly calls: { op: string; guest?: string; at: number; end?: number }[] = [];
  constructor(
    private readonly clock: Clock,
    private readonly gcMs = 20 * 60_000,
  ) {}
  async forget(guest?: string) {
    this.calls.push({ op: 'forget', guest, at: this.clock.now() });
    return { forgotten: 1 };
  }
  async gc() {
    const c: { op: string; at: number; end?: number } = { op: 'gc', at: this.clock.now() };
    this.calls.push(c);
    await this.clock.sleep(this.gcMs);
    c.end = this.clock.now();
    return { removedChunks: 3, freedBytes: 1234 };
  }
  async verify() {
    this.calls.push({ op: 'verify', at: this.clock.now() });
    return { ok: true, damaged: [] };
  }
}

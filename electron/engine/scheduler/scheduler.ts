import type { GuestSchedule } from '../../../shared/domain/policy.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { BackupLauncher, GuestRunState, HostMemory, JobResult, MaintenanceRunner, RunTrigger, ScheduleStore } from './ports.js';
import { expectedIntervalMs, nextRunAfter, normalizeSchedule, parseHhmm, runsBetween } from './schedule-spec.js';
import { hostTimeZone } from './zoned-time.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** What the scheduler reports (the service turns these into notifications and events): `guestId` is the key, `guest` its name. */
export type SchedulerEvent =
  | { type: 'run-started'; guestId: string; guest: string; trigger: RunTrigger; slots: number[]; at: number }
  | { type: 'run-finished'; guestId: string; guest: string; trigger: RunTrigger; slots: number[]; result: JobResult; at: number }
  | { type: 'runs-missed'; guestId: string; guest: string; slots: number[]; reason: string; at: number }
  | { type: 'guest-stale'; guestId: string; guest: string; lastSuccessAt?: number; expectedMs: number; at: number }
  | { type: 'maintenance-finished'; ok: boolean; forgotten: number; freedBytes: number; damaged: string[]; error?: string; at: number };

/** Options of the Scheduler. */
export interface SchedulerOptions {
  clock: Clock;
  store: ScheduleStore;
  launcher: BackupLauncher;
  maintenance?: MaintenanceRunner;
  memory?: HostMemory;
  logger?: Logger;
  /** At most this many twins at a time on this host (config maxConcurrentTwins; read live). */
  maxConcurrentTwins?: () => number;
  /** A missed run is caught up when its latest missed slot is at most this old (default 24 h). */
  graceMs?: number;
  /** Local time of the daily maintenance (default 03:30), in `timeZone`; a function is read at each use (a change applies after `poke`). */
  maintenanceAt?: string | (() => string);
  /** Host time zone for the maintenance (default: the host's). */
  timeZone?: string;
  /** Memory kept free on top of the twins' RAM (default 512 MiB). */
  memoryReserveMiB?: number;
  /** Longest single sleep; wall-clock jumps (host sleep) are noticed within this (default 60 s). */
  maxSleepMs?: number;
  /** A slot started later than this after its time counts as a catch-up (default 5 min). */
  lateAfterMs?: number;
  /** Tolerance on top of the expected interval before a guest is stale (default: a quarter of it, at least 1 h — queueing behind other guests must not count). */
  staleSlackMs?: number;
  onEvent?: (e: SchedulerEvent) => void;
}

interface QueueEntry {
  /** The guest's id (schedules, run state and jobs are keyed by guest id). */
  guest: string;
  dueAt: number;
  slots: number[];
  trigger: RunTrigger;
}

/**
 * Runs per-guest schedules. Everything is driven by the injected Clock: `start()` runs a loop
 * that sleeps until the next due slot (at most `maxSleepMs`), then `tick()`s.
 *
 * - **Staggering**: at most `maxConcurrentTwins` backups at a time, and only when the host has
 *   the free memory for another twin. Due runs queue in a fixed order: earliest due slot first,
 *   then the guest whose last run finished longest ago, then by name. The head of the queue
 *   waits for memory rather than being overtaken, so big guests never starve.
 * - **One run per guest**: a guest is never started twice. A slot that comes due while the guest
 *   is queued is merged into that entry; while it runs, one follow-up run is queued.
 * - **Catch-up**: slots missed while the host was off or asleep run ONCE when the engine is back,
 *   if the latest missed slot is within `graceMs`; older ones are reported as missed.
 *   `handledThrough` and queued slots are persisted, so a restart catches up too.
 * - **Maintenance**: after each good backup the guest's retention is applied (forget touches
 *   only that guest's snapshots, so it is safe beside other backups); once a day forget-all,
 *   GC and a light verify run EXCLUSIVELY: new backups wait until it is done, and it starts only
 *   when no backup is writing (GC must never sweep chunks of an unfinished backup).
 */
export class Scheduler {
  private readonly queue: QueueEntry[] = [];
  private readonly running = new Map<string, { startedAt: number; memMiB: number }>();
  /** Next due slot per guest, valid while the schedule and handledThrough stay the same. */
  private readonly nextDue = new Map<string, { key: string; at: number | undefined }>();
  private readonly specKeys = new WeakMap<GuestSchedule, string>();
  private readonly staleCache = new Map<string, { at: number; ms: number | undefined }>();
  private maintenancePending = false;
  private maintenanceBusy = false;
  private loop: Promise<void> | undefined;
  private wake: AbortController | undefined;
  private stopped = true;
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly o: SchedulerOptions) {}

  private get tz(): string {
    return this.o.timeZone ?? hostTimeZone();
  }

  /** Starts the clock-driven loop (re-queues runs a previous process left pending). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const now = this.o.clock.now();
    for (const s of this.o.store.list()) {
      const st = this.o.store.state(s.guestId);
      if (st.pendingSlots?.length) {
        const latest = Math.max(...st.pendingSlots);
        if (now - latest <= this.graceMs) this.enqueue(s.guestId, st.pendingSlots, 'catch-up');
        else this.miss(s.guestId, st.pendingSlots, 'the engine was not running within the grace window');
      }
    }
    this.loop = this.run();
  }

  /** Stops scheduling; waits for running backups to finish when `waitForRunning`. */
  async stop(opts: { waitForRunning?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.wake?.abort(new Error('stopped'));
    await this.loop?.catch(() => {});
    if (opts.waitForRunning) await Promise.allSettled([...this.inflight]);
  }

  /** Recomputes after a schedule or config change (wakes the loop). */
  poke(): void {
    this.nextDue.clear();
    this.staleCache.clear();
    this.wake?.abort(new Error('poked'));
  }

  /** Saves a guest's schedule (validated). Slots before now never count as missed. */
  setSchedule(s: GuestSchedule): GuestSchedule {
    const schedule = normalizeSchedule(s.schedule, s.timeZone);
    const saved: GuestSchedule = { ...s, schedule };
    this.o.store.set(saved);
    const st = this.o.store.state(s.guestId);
    st.handledThrough = Math.max(st.handledThrough ?? 0, this.o.clock.now());
    st.since ??= this.o.clock.now();
    this.o.store.saveState(s.guestId, st);
    this.poke();
    return saved;
  }

  /** Guests currently running a scheduled backup. */
  runningGuests(): string[] {
    return [...this.running.keys()];
  }

  /** The queue in dispatch order (for status views and tests). */
  queued(): { guest: string; dueAt: number; slots: number[]; trigger: RunTrigger }[] {
    return this.sortedQueue().map((e) => ({ ...e, slots: [...e.slots] }));
  }

  private get graceMs(): number {
    return this.o.graceMs ?? DAY;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.tick();
      const now = this.o.clock.now();
      let wakeAt = now + (this.o.maxSleepMs ?? MINUTE);
      for (const g of this.o.store.list()) {
        const d = this.dueOf(g);
        if (d !== undefined) wakeAt = Math.min(wakeAt, d);
      }
      const m = this.nextMaintenance();
      if (m !== undefined) wakeAt = Math.min(wakeAt, m);
      this.wake = new AbortController();
      try {
        await this.o.clock.sleep(Math.max(0, wakeAt - now), this.wake.signal);
      } catch {
        // poked or stopped: recompute
      }
    }
  }

  /** Handles everything due at the clock's current time, then starts what may start. */
  tick(): void {
    const now = this.o.clock.now();
    for (const g of this.o.store.list()) this.checkGuest(g, now);
    this.checkMaintenance(now);
    this.dispatch();
  }

  private dueOf(g: GuestSchedule): number | undefined {
    const st = this.o.store.state(g.guestId);
    const from = st.handledThrough ?? this.o.clock.now();
    // Another process (CLI, app) may change the schedule in the shared store: key on content.
    let spec = this.specKeys.get(g);
    if (spec === undefined) this.specKeys.set(g, (spec = `${JSON.stringify(g.schedule)}|${g.timeZone ?? ''}`));
    const key = `${spec}|${from}`;
    const hit = this.nextDue.get(g.guestId);
    if (hit?.key === key) return hit.at;
    const at = nextRunAfter(g.schedule, g.timeZone ?? this.tz, from);
    this.nextDue.set(g.guestId, { key, at });
    return at;
  }

  private checkGuest(g: GuestSchedule, now: number): void {
    let st = this.o.store.state(g.guestId);
    if (st.handledThrough === undefined) {
      st.handledThrough = now;
      st.since ??= now;
      this.o.store.saveState(g.guestId, st);
      this.nextDue.delete(g.guestId);
    }
    const due = this.dueOf(g);
    if (due !== undefined && due <= now) {
      const slots = runsBetween(g.schedule, g.timeZone ?? this.tz, st.handledThrough!, now, 100_000);
      const latest = slots[slots.length - 1] ?? due;
      st.handledThrough = latest;
      this.o.store.saveState(g.guestId, st);
      this.nextDue.delete(g.guestId);
      if (now - latest > this.graceMs) this.miss(g.guestId, slots, `the host was off or asleep and the grace window of ${Math.round(this.graceMs / HOUR)} h passed`);
      else this.enqueue(g.guestId, slots, slots.length > 1 || now - slots[0]! > (this.o.lateAfterMs ?? 5 * MINUTE) ? 'catch-up' : 'scheduled');
      st = this.o.store.state(g.guestId);
    }
    this.checkStale(g, st, now);
  }

  private enqueue(guest: string, slots: number[], trigger: RunTrigger): void {
    const existing = this.queue.find((e) => e.guest === guest);
    if (existing) {
      existing.slots.push(...slots.filter((s) => !existing.slots.includes(s)));
      existing.slots.sort((a, b) => a - b);
    } else this.queue.push({ guest, dueAt: Math.min(...slots), slots: [...slots], trigger });
    const st = this.o.store.state(guest);
    st.pendingSlots = [...new Set([...(st.pendingSlots ?? []), ...slots])].sort((a, b) => a - b);
    this.o.store.saveState(guest, st);
  }

  /** The display name a guest's schedule was saved under (events name guests the way people do). */
  private nameOf(guestId: string): string {
    return this.o.store.get(guestId)?.guest ?? guestId;
  }

  private miss(guest: string, slots: number[], reason: string): void {
    const st = this.o.store.state(guest);
    delete st.pendingSlots;
    this.o.store.saveState(guest, st);
    this.o.logger?.warn('scheduled runs missed', { guest, count: slots.length, reason });
    this.emit({ type: 'runs-missed', guestId: guest, guest: this.nameOf(guest), slots, reason, at: this.o.clock.now() });
  }

  private sortedQueue(): QueueEntry[] {
    const finished = new Map(this.queue.map((e) => [e.guest, this.o.store.state(e.guest).lastFinishedAt ?? -Infinity]));
    const lastFinished = (g: string) => finished.get(g)!;
    return [...this.queue].sort((a, b) => a.dueAt - b.dueAt || lastFinished(a.guest) - lastFinished(b.guest) || a.guest.localeCompare(b.guest));
  }

  private dispatch(): void {
    if (this.stopped) return;
    if (this.maintenancePending || this.maintenanceBusy) {
      if (this.maintenancePending && !this.maintenanceBusy && this.running.size === 0) this.startMaintenance();
      return; // backups wait for maintenance (writer preference: GC never starves)
    }
    const limit = Math.max(1, this.o.maxConcurrentTwins?.() ?? 1);
    while (this.running.size < limit) {
      const entry = this.sortedQueue().find((e) => !this.running.has(e.guest));
      if (!entry) return;
      const need = this.o.memory?.requiredMiB(entry.guest);
      if (this.o.memory && need !== undefined) {
        const reserved = [...this.running.values()].reduce((n, r) => n + r.memMiB, 0);
        const free = this.o.memory.freeMiB() - reserved - (this.o.memoryReserveMiB ?? 512);
        if (need > free) {
          if (this.running.size > 0) return; // wait for a twin to finish; nobody overtakes
          this.queue.splice(this.queue.indexOf(entry), 1);
          const result: JobResult = {
            status: 'failed',
            warnings: [],
            error: {
              code: 'INSUFFICIENT_MEMORY',
              message: `not enough free memory for a twin of '${entry.guest}': it needs ${need} MiB, ${Math.max(0, Math.floor(free))} MiB are available`,
            },
          };
          this.finish(entry, result);
          continue;
        }
      }
      this.launch(entry, need ?? 0);
    }
  }

  private launch(entry: QueueEntry, memMiB: number): void {
    this.queue.splice(this.queue.indexOf(entry), 1);
    const now = this.o.clock.now();
    this.running.set(entry.guest, { startedAt: now, memMiB });
    const st = this.o.store.state(entry.guest);
    st.lastStartedAt = now;
    this.o.store.saveState(entry.guest, st);
    const g = this.o.store.get(entry.guest);
    this.o.logger?.info('scheduled backup starting', { guest: entry.guest, trigger: entry.trigger, slots: entry.slots.length });
    this.emit({ type: 'run-started', guestId: entry.guest, guest: this.nameOf(entry.guest), trigger: entry.trigger, slots: entry.slots, at: now });
    const p = (async () => {
      await Promise.resolve(); // never finish synchronously inside dispatch()
      let result: JobResult;
      try {
        result = await this.o.launcher.start(entry.guest, {
          consistency: g?.consistency,
          verify: g?.verify,
          trigger: entry.trigger,
          slots: entry.slots,
        });
      } catch (e) {
        const err = e as { code?: string; message?: string };
        result = { status: 'failed', warnings: [], error: { code: err.code ?? 'INTERNAL', message: err.message ?? String(e) } };
      }
      if ((result.status === 'succeeded' || result.status === 'warning') && this.o.maintenance) {
        try {
          await this.o.maintenance.forget(entry.guest);
        } catch (e) {
          result = { ...result, status: 'warning', warnings: [...result.warnings, `retention after the backup failed: ${(e as Error).message}`] };
        }
      }
      this.running.delete(entry.guest);
      try {
        this.finish(entry, result);
        this.dispatch();
      } catch (e) {
        this.o.logger?.error('could not record a finished scheduled backup', { guest: entry.guest, error: (e as Error).message });
      }
      this.wake?.abort(new Error('job finished'));
    })();
    this.inflight.add(p);
    void p.catch(() => {}).finally(() => this.inflight.delete(p));
  }

  private finish(entry: QueueEntry, result: JobResult): void {
    const now = this.o.clock.now();
    const st = this.o.store.state(entry.guest);
    st.lastFinishedAt = now;
    st.lastStatus = result.status;
    if (result.status === 'succeeded' || result.status === 'warning') st.lastSuccessAt = now;
    // A run cancelled because the engine is stopping stays pending: the next start catches it up.
    if (!(result.status === 'cancelled' && this.stopped)) st.pendingSlots = (st.pendingSlots ?? []).filter((s) => !entry.slots.includes(s));
    if (st.pendingSlots?.length === 0) delete st.pendingSlots;
    this.o.store.saveState(entry.guest, st);
    this.o.logger?.info('scheduled backup finished', { guest: entry.guest, status: result.status, error: result.error?.message });
    if (result.status === 'cancelled' && this.stopped) return; // re-run at the next start, not a failure to report
    this.emit({ type: 'run-finished', guestId: entry.guest, guest: this.nameOf(entry.guest), trigger: entry.trigger, slots: entry.slots, result, at: now });
  }

  private checkStale(g: GuestSchedule, st: GuestRunState, now: number): void {
    if (g.schedule.kind === 'off') return;
    let c = this.staleCache.get(g.guestId);
    if (!c || now - c.at > 7 * DAY) {
      c = { at: now, ms: expectedIntervalMs(g.schedule, g.timeZone ?? this.tz, now) };
      this.staleCache.set(g.guestId, c);
    }
    if (c.ms === undefined) return;
    const since = st.lastSuccessAt ?? st.since;
    if (since === undefined || this.running.has(g.guestId)) return;
    if (now - since <= c.ms + (this.o.staleSlackMs ?? Math.max(HOUR, c.ms / 4))) return;
    if (st.staleNotifiedFor === since) return;
    st.staleNotifiedFor = since;
    this.o.store.saveState(g.guestId, st);
    this.emit({ type: 'guest-stale', guestId: g.guestId, guest: g.guest, lastSuccessAt: st.lastSuccessAt, expectedMs: c.ms, at: now });
  }

  private nextMaintenance(): number | undefined {
    if (!this.o.maintenance) return undefined;
    const ms = this.o.store.maintenanceState();
    const from = ms.handledThrough ?? this.o.clock.now();
    return nextRunAfter(this.maintenanceSchedule(), this.tz, from);
  }

  private maintenanceSchedule(): GuestSchedule['schedule'] {
    const m = this.o.maintenanceAt;
    const at = (typeof m === 'function' ? m() : m) ?? '03:30';
    parseHhmm(at, 'maintenance time');
    return { kind: 'times', times: [at] };
  }

  private checkMaintenance(now: number): void {
    if (!this.o.maintenance) return;
    const ms = this.o.store.maintenanceState();
    if (ms.handledThrough === undefined) {
      this.o.store.saveMaintenanceState({ ...ms, handledThrough: now });
      return;
    }
    const next = nextRunAfter(this.maintenanceSchedule(), this.tz, ms.handledThrough);
    if (next === undefined || next > now) return;
    const slots = runsBetween(this.maintenanceSchedule(), this.tz, ms.handledThrough, now, 100_000);
    this.o.store.saveMaintenanceState({ ...ms, handledThrough: slots[slots.length - 1] ?? now });
    this.maintenancePending = true; // once, however many days were missed
  }

  private startMaintenance(): void {
    const m = this.o.maintenance!;
    this.maintenancePending = false;
    this.o.logger?.info('daily maintenance starting');
    this.maintenanceBusy = true;
    const p = (async () => {
      await Promise.resolve();
      let forgotten = 0;
      let freedBytes = 0;
      let damaged: string[] = [];
      let ok = true;
      let error: string | undefined;
      try {
        forgotten = (await m.forget()).forgotten;
        freedBytes = (await m.gc()).freedBytes;
        const v = await m.verify();
        ok = v.ok;
        damaged = v.damaged;
        // offsite last: what it copies has just been verified
        await m.offsite?.();
      } catch (e) {
        ok = false;
        error = (e as Error).message;
      }
      const at = this.o.clock.now();
      this.o.store.saveMaintenanceState({ ...this.o.store.maintenanceState(), lastRunAt: at, lastOk: ok });
      this.emit({ type: 'maintenance-finished', ok, forgotten, freedBytes, damaged, error, at });
      this.maintenanceBusy = false;
      this.dispatch();
      this.wake?.abort(new Error('maintenance finished'));
    })();
    this.inflight.add(p);
    void p.catch(() => {}).finally(() => this.inflight.delete(p));
  }

  private emit(e: SchedulerEvent): void {
    try {
      this.o.onEvent?.(e);
    } catch (err) {
      this.o.logger?.warn('scheduler event handler failed', { error: (err as Error).message });
    }
  }
}

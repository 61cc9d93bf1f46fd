import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GuestSchedule } from '../../shared/domain/policy.js';
import type { JobResult } from '../../electron/engine/scheduler/ports.js';
import { JsonScheduleStore } from '../../electron/engine/scheduler/json-schedule-store.js';
import { MemoryScheduleStore } from '../../electron/engine/scheduler/memory-schedule-store.js';
import { Scheduler, type SchedulerEvent, type SchedulerOptions } from '../../electron/engine/scheduler/scheduler.js';
import { FakeClock, FakeLauncher, FakeMaintenance } from '../helpers/fake-clock.js';
import type { GuestId } from '../../shared/domain/guest-id.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const schedulers: Scheduler[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: Partial<SchedulerOptions> & { start?: string; schedules?: GuestSchedule[]; launcher?: FakeLauncher } = {}) {
  const clock = (opts.clock as FakeClock | undefined) ?? new FakeClock(opts.start ?? '2026-06-01T00:00:00Z');
  const store = opts.store ?? new MemoryScheduleStore();
  const launcher = opts.launcher ?? new FakeLauncher(clock);
  const events: SchedulerEvent[] = [];
  const scheduler = new Scheduler({ timeZone: 'UTC', ...opts, clock, store, launcher, onEvent: (e) => events.push(e) });
  for (const s of opts.schedules ?? []) scheduler.setSchedule(s);
  schedulers.push(scheduler);
  return { clock, store, launcher, scheduler, events };
}

const daily = (guest: string, ...times: string[]): GuestSchedule => ({ guestId: guest as GuestId, guest, schedule: { kind: 'times', times }, timeZone: 'UTC' });

describe('scheduler on a fake clock', () => {
  it('starts each guest at its times of day in its own time zone', async () => {
    const { clock, launcher, scheduler } = setup({
      schedules: [
        { guestId: 'A' as GuestId, guest: 'A', schedule: { kind: 'times', times: ['12:00', '18:00'] }, timeZone: 'Europe/Berlin' },
        { guestId: 'B' as GuestId, guest: 'B', schedule: { kind: 'times', times: ['12:00'] }, timeZone: 'America/New_York' },
      ],
      maxConcurrentTwins: () => 2,
    });
    scheduler.start();
    await clock.advanceTo('2026-06-02T00:00:00Z');
    expect(launcher.runs.map((r) => `${r.guest} ${iso(r.start)} ${r.opts.trigger}`)).toEqual([
      'A 2026-06-01T10:00:00.000Z scheduled',
      // tie at 16:00 UTC: B has waited longer (never ran) so it goes first
      'B 2026-06-01T16:00:00.000Z scheduled',
      'A 2026-06-01T16:00:00.000Z scheduled',
    ]);
  });

  it.each([
    ['Europe/Berlin', '2026-03-27T00:00:00Z', '02:30', ['2026-03-27T01:30', '2026-03-28T01:30', '2026-03-29T01:30', '2026-03-30T00:30']],
    ['Europe/Berlin', '2026-10-23T00:00:00Z', '02:30', ['2026-10-23T00:30', '2026-10-24T00:30', '2026-10-25T00:30', '2026-10-26T01:30']],
    ['America/New_York', '2026-03-06T12:00:00Z', '02:30', ['2026-03-07T07:30', '2026-03-08T07:30', '2026-03-09T06:30', '2026-03-10T06:30']],
    ['America/New_York', '2026-10-30T12:00:00Z', '01:30', ['2026-10-31T05:30', '2026-11-01T05:30', '2026-11-02T06:30', '2026-11-03T06:30']],
  ])('%s from %s: a daily %s run fires exactly once per day across the DST change', async (tz, start, time, expected) => {
    const { clock, launcher, scheduler } = setup({ start, schedules: [{ guestId: 'A' as GuestId, guest: 'A', schedule: { kind: 'times', times: [time] }, timeZone: tz }] });
    scheduler.start();
    await clock.advance(4 * DAY);
    expect(launcher.runs.map((r) => iso(r.start).slice(0, 16))).toEqual(expected);
    expect(launcher.runs.every((r) => r.opts.trigger === 'scheduled' && r.opts.slots.length === 1)).toBe(true);
  });

  it('staggers guests due together: one twin at a time, earliest due, then longest waiting, then name', async () => {
    const { clock, store, launcher, scheduler } = setup({
      schedules: [daily('delta', '12:00'), daily('alpha', '12:00'), daily('charlie', '12:00'), daily('bravo', '11:00')],
      launcher: undefined,
    });
    // charlie's last run finished longest ago; alpha and delta never finished a run... give them times.
    store.saveState('alpha', { ...store.state('alpha'), lastFinishedAt: Date.parse('2026-05-31T12:00:00Z') });
    store.saveState('delta', { ...store.state('delta'), lastFinishedAt: Date.parse('2026-05-31T12:00:00Z') });
    store.saveState('charlie', { ...store.state('charlie'), lastFinishedAt: Date.parse('2026-05-30T12:00:00Z') });
    const slow = new FakeLauncher(clock, () => 90 * MIN);
    (scheduler as unknown as { o: SchedulerOptions }).o.launcher = slow;
    scheduler.start();
    await clock.advanceTo('2026-06-01T20:00:00Z');
    // bravo (11:00) runs 11:00-12:30; at 12:00 the others queue.
    expect(slow.runs.map((r) => `${r.guest}@${iso(r.start).slice(11, 16)}`)).toEqual(['bravo@11:00', 'charlie@12:30', 'alpha@14:00', 'delta@15:30']);
    expect(slow.maxActive).toBe(1);
    expect(launcher.runs).toHaveLength(0);
  });

  it('runs up to maxConcurrentTwins at once, but never more twins than free memory allows', async () => {
    let free = 20_000;
    const clock = new FakeClock('2026-06-01T00:00:00Z');
    const launcher = new FakeLauncher(clock, () => 30 * MIN);
    const mem: Record<string, number> = { a: 8192, b: 8192, c: 8192, huge: 64_000 };
    const { scheduler, events } = setup({
      clock,
      launcher,
      maxConcurrentTwins: () => 3,
      memory: { freeMiB: () => free, requiredMiB: (g) => mem[g] },
      schedules: [daily('a', '12:00'), daily('b', '12:00'), daily('c', '12:00'), daily('huge', '18:00')],
    });
    scheduler.start();
    await clock.advanceTo('2026-06-01T23:00:00Z');
    // 20000 - 512 reserve: two 8 GiB twins fit, the third waits for one to finish.
    expect(launcher.runs.map((r) => `${r.guest}@${iso(r.start).slice(11, 16)}`)).toEqual(['a@12:00', 'b@12:00', 'c@12:30']);
    expect(launcher.maxActive).toBe(2);
    const huge = events.find((e) => e.type === 'run-finished' && e.guest === 'huge');
    expect(huge).toMatchObject({ result: { status: 'failed', error: { code: 'INSUFFICIENT_MEMORY' } } });
    expect((huge as { result: { error: { message: string } } }).result.error.message).toMatch(/needs 64000 MiB/);
    free = 100_000;
  });

  it('never starts a guest twice: a slot due while it runs becomes one follow-up run', async () => {
    const clock = new FakeClock('2026-06-01T00:00:00Z');
    const launcher = new FakeLauncher(clock, () => 150 * MIN);
    const { scheduler } = setup({
      clock,
      launcher,
      maxConcurrentTwins: () => 4,
      schedules: [{ guestId: 'A' as GuestId, guest: 'A', schedule: { kind: 'interval', everyHours: 1, from: '08:00', to: '12:00' }, timeZone: 'UTC' }],
    });
    scheduler.start();
    await clock.advanceTo('2026-06-01T23:00:00Z');
    expect(launcher.doubleStarts).toBe(0);
    expect(launcher.runs.map((r) => `${iso(r.start).slice(11, 16)} ${r.opts.slots.map((s) => iso(s).slice(11, 16)).join(',')}`)).toEqual(['08:00 08:00', '10:30 09:00,10:00', '13:00 11:00,12:00']);
  });

  it('catches up runs missed while the host slept, once, when it wakes', async () => {
    const { clock, launcher, scheduler } = setup({ schedules: [daily('A', '06:00', '18:00')] });
    scheduler.start();
    await clock.advanceTo('2026-06-01T07:00:00Z');
    expect(launcher.runs).toHaveLength(1);
    await clock.suspend(40 * HOUR); // asleep 07:00 day 1 → 23:00 day 2: 3 slots missed
    await clock.advance(MIN);
    expect(launcher.runs).toHaveLength(2);
    expect(launcher.runs[1]).toMatchObject({ start: Date.parse('2026-06-02T23:00:00Z') });
    expect(launcher.runs[1]!.opts).toMatchObject({ trigger: 'catch-up' });
    expect(launcher.runs[1]!.opts.slots.map(iso)).toEqual(['2026-06-01T18:00:00.000Z', '2026-06-02T06:00:00.000Z', '2026-06-02T18:00:00.000Z']);
    await clock.advanceTo('2026-06-03T19:00:00Z');
    expect(launcher.runs.map((r) => iso(r.start).slice(0, 16))).toEqual(['2026-06-01T06:00', '2026-06-02T23:00', '2026-06-03T06:00', '2026-06-03T18:00']);
  });

  it('reports runs missed beyond the grace window instead of running them late', async () => {
    const { clock, launcher, scheduler, events } = setup({ graceMs: 2 * HOUR, schedules: [daily('A', '12:00')] });
    scheduler.start();
    await clock.advanceTo('2026-06-01T11:00:00Z');
    await clock.suspend(2 * DAY + 5 * HOUR); // back at 16:00 on day 3; the last slot was 4 h ago
    await clock.advance(MIN);
    expect(launcher.runs).toHaveLength(0);
    const missed = events.filter((e) => e.type === 'runs-missed');
    expect(missed).toHaveLength(1);
    expect((missed[0] as { slots: number[] }).slots.map(iso)).toEqual(['2026-06-01T12:00:00.000Z', '2026-06-02T12:00:00.000Z', '2026-06-03T12:00:00.000Z']);
    await clock.advanceTo('2026-06-04T13:00:00Z');
    expect(launcher.runs.map((r) => iso(r.start))).toEqual(['2026-06-04T12:00:00.000Z']);
  });

  it('catches up after the app was closed: the persisted state makes a new process run once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsnap-sched-'));
    dirs.push(dir);
    const file = join(dir, 'schedules.json');
    const clock = new FakeClock('2026-06-01T00:00:00Z');
    const first = setup({ clock, store: new JsonScheduleStore(file), schedules: [daily('A', '12:00')] });
    first.scheduler.start();
    await clock.advanceTo('2026-06-01T13:00:00Z');
    expect(first.launcher.runs).toHaveLength(1);
    await first.scheduler.stop();
    await clock.advanceTo('2026-06-04T09:00:00Z'); // app closed for three days
    const second = setup({ clock, store: new JsonScheduleStore(file) });
    second.scheduler.start();
    await clock.advance(MIN);
    expect(second.launcher.runs).toHaveLength(1);
    expect(second.launcher.runs[0]!.opts.trigger).toBe('catch-up');
    expect(second.launcher.runs[0]!.opts.slots.map(iso)).toEqual(['2026-06-02T12:00:00.000Z', '2026-06-03T12:00:00.000Z']);
    await clock.advanceTo('2026-06-04T13:00:00Z');
    expect(second.launcher.runs).toHaveLength(2);
  });

  it('re-queues a run that was queued but not started when the process stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsnap-sched-'));
    dirs.push(dir);
    const file = join(dir, 'schedules.json');
    const clock = new FakeClock('2026-06-01T00:00:00Z');
    const launcher = new FakeLauncher(clock, () => 2 * HOUR);
    const first = setup({ clock, launcher, store: new JsonScheduleStore(file), schedules: [daily('A', '12:00'), daily('B', '12:00')] });
    first.scheduler.start();
    await clock.advanceTo('2026-06-01T12:30:00Z');
    expect(first.scheduler.queued().map((q) => q.guest)).toEqual(['B']);
    await first.scheduler.stop(); // the process dies: A's backup never finished, B never started
    const second = setup({ clock, store: new JsonScheduleStore(file) });
    second.scheduler.start();
    await clock.advance(30 * MIN);
    expect(second.launcher.runs.map((r) => [r.guest, r.opts.trigger, r.opts.slots.map(iso)])).toEqual([
      ['A', 'catch-up', ['2026-06-01T12:00:00.000Z']],
      ['B', 'catch-up', ['2026-06-01T12:00:00.000Z']],
    ]);
  });

  it('a backup cancelled because the engine stops is not reported as failed and runs again at the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsnap-sched-'));
    dirs.push(dir);
    const file = join(dir, 'schedules.json');
    const clock = new FakeClock('2026-06-01T00:00:00Z');
    let cancel: (() => void) | undefined;
    const cancellable = {
      start: () => new Promise<JobResult>((r) => (cancel = () => r({ status: 'cancelled', warnings: [] }))),
    };
    const first = setup({ clock, store: new JsonScheduleStore(file), launcher: cancellable as unknown as FakeLauncher, schedules: [daily('A', '12:00')] });
    first.scheduler.start();
    await clock.advanceTo('2026-06-01T12:10:00Z');
    const stopping = first.scheduler.stop({ waitForRunning: true });
    cancel!(); // what JobManager.close() does to a running job
    await stopping;
    expect(first.events.filter((e) => e.type === 'run-finished')).toEqual([]);
    const second = setup({ clock, store: new JsonScheduleStore(file) });
    second.scheduler.start();
    await clock.advance(MIN);
    expect(second.launcher.runs.map((r) => [r.guest, r.opts.trigger, r.opts.slots.map(iso)])).toEqual([['A', 'catch-up', ['2026-06-01T12:00:00.000Z']]]);
  });

  it('applies retention after good backups and runs daily maintenance exclusively, never beside a backup', async () => {
    const clock = new FakeClock('2026-06-01T00:00:00Z');
    const maintenance = new FakeMaintenance(clock, 30 * MIN);
    const launcher = new FakeLauncher(
      clock,
      (g) => (g === 'long' ? 70 * MIN : 10 * MIN),
      (g) => (g === 'bad' ? 'failed' : 'succeeded'),
    );
    const { scheduler, events } = setup({
      clock,
      launcher,
      maintenance,
      maxConcurrentTwins: () => 2,
      maintenanceAt: '03:30',
      schedules: [daily('long', '03:00'), daily('early', '03:45'), daily('bad', '01:00')],
    });
    scheduler.start();
    await clock.advanceTo('2026-06-01T06:00:00Z');
    const gc = maintenance.calls.find((c) => c.op === 'gc')!;
    // long runs 03:00-04:10; maintenance waits for it; early (03:45) waits for maintenance.
    expect(iso(gc.at)).toBe('2026-06-01T04:10:00.000Z');
    expect(maintenance.calls.map((c) => `${c.op}${c.guest ? `:${c.guest}` : ''}`)).toEqual(['forget:long', 'forget', 'gc', 'verify', 'forget:early']);
    const early = launcher.of('early')[0]!;
    expect(early.start).toBeGreaterThanOrEqual(gc.end!);
    for (const r of launcher.runs) expect(r.end! <= gc.at || r.start >= gc.end!).toBe(true);
    expect(events.some((e) => e.type === 'maintenance-finished' && e.ok)).toBe(true);
  });

  it('warns once when a guest has had no successful backup for longer than its interval', async () => {
    const clock = new FakeClock('2026-06-01T00:00:00Z');
    const launcher = new FakeLauncher(
      clock,
      () => 10 * MIN,
      () => 'failed',
    );
    const { scheduler, events } = setup({ clock, launcher, schedules: [daily('A', '12:00')] });
    scheduler.start();
    await clock.advanceTo('2026-06-05T00:00:00Z');
    const stale = events.filter((e) => e.type === 'guest-stale');
    expect(stale).toHaveLength(1);
    // set at 00:00; stale after one day + a quarter of it, noticed on the next minute's tick
    expect(iso(stale[0]!.at)).toBe('2026-06-02T06:01:00.000Z');
    expect(events.filter((e) => e.type === 'run-finished').every((e) => e.type === 'run-finished' && e.result.status === 'failed')).toBe(true);
  });

  it('stops cleanly with no sleeper left behind', async () => {
    const { clock, scheduler } = setup({ schedules: [daily('A', '12:00')] });
    scheduler.start();
    await clock.advance(HOUR);
    await scheduler.stop();
    expect(clock.pendingSleeps()).toBe(0);
  });
});

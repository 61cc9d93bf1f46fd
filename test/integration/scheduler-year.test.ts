import { describe, expect, it } from 'vitest';
import type { GuestSchedule } from '../../shared/domain/policy.js';
import { MemoryScheduleStore } from '../../electron/engine/scheduler/memory-schedule-store.js';
import { runsBetween } from '../../electron/engine/scheduler/schedule-spec.js';
import { Scheduler, type SchedulerEvent } from '../../electron/engine/scheduler/scheduler.js';
import { FakeClock, FakeLauncher, FakeMaintenance } from '../helpers/fake-clock.js';
import type { GuestId } from '../../shared/domain/guest-id.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** 20 guests with every kind of schedule, in several time zones. */
function guests(): GuestSchedule[] {
  const zones = ['Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Tokyo', 'Australia/Sydney'];
  const out: GuestSchedule[] = [];
  for (let i = 0; i < 20; i++) {
    const timeZone = zones[i % zones.length];
    const name = `guest-${String(i).padStart(2, '0')}`;
    let schedule: GuestSchedule['schedule'];
    switch (i % 5) {
      case 0:
        schedule = { kind: 'times', times: ['12:00', '18:00'] };
        break;
      case 1:
        schedule = { kind: 'times', times: ['02:30'], weekdays: [1, 2, 3, 4, 5] };
        break;
      case 2:
        schedule = { kind: 'interval', everyHours: 2, from: '07:00', to: '19:00', weekdays: [1, 2, 3, 4, 5] };
        break;
      case 3:
        schedule = { kind: 'cron', expression: `${(i * 7) % 60} */6 * * *` };
        break;
      default:
        schedule = { kind: 'times', times: ['01:30', '23:45'], weekdays: [0, 6] };
    }
    out.push({ guestId: name as GuestId, guest: name, schedule, timeZone });
  }
  return out;
}

describe('a year of schedules on a fake clock', () => {
  it('20 guests with mixed schedules: every due slot is run exactly once or caught up, with host sleeps and DST', async () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const end = Date.parse('2027-01-01T00:00:00Z');
    const clock = new FakeClock(t0);
    // Deterministic durations 5-45 min; guest-07 fails every run (stale warnings).
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const launcher = new FakeLauncher(
      clock,
      () => Math.round(5 + rand() * 40) * MIN,
      (g) => (g === 'guest-07' ? 'failed' : 'succeeded'),
    );
    const maintenance = new FakeMaintenance(clock, 15 * MIN);
    const events: SchedulerEvent[] = [];
    const scheduler = new Scheduler({
      clock,
      store: new MemoryScheduleStore(),
      launcher,
      maintenance,
      maxConcurrentTwins: () => 2,
      memory: { freeMiB: () => 16_384, requiredMiB: () => 6_144 },
      timeZone: 'Europe/Berlin',
      maxSleepMs: 6 * HOUR,
      onEvent: (e) => events.push(e),
    });
    const gs = guests();
    for (const g of gs) scheduler.setSchedule(g);
    scheduler.start();

    // The host sleeps for a while every ~23 days (3 h to 60 h), the rest of the time it is awake.
    const sleeps: [number, number][] = [];
    let t = t0;
    while (t < end - 30 * DAY) {
      t += 23 * DAY + Math.round(rand() * 5 * HOUR);
      await clock.advanceTo(t);
      const gap = Math.round(3 + rand() * 57) * HOUR;
      sleeps.push([clock.now(), clock.now() + gap]);
      await clock.suspend(gap);
      t = clock.now();
    }
    await clock.advanceTo(end);
    await scheduler.stop({ waitForRunning: true });
    await clock.advance(2 * HOUR);

    // Oracle: the slots each schedule has in the year, computed independently of the loop.
    const runsOf = new Map(gs.map((g) => [g.guest, launcher.of(g.guest)]));
    let total = 0;
    for (const g of gs) {
      const expected = runsBetween(g.schedule, g.timeZone!, t0, end, 100_000);
      const covered = [...runsOf.get(g.guest)!.flatMap((r) => r.opts.slots), ...events.flatMap((e) => (e.type === 'runs-missed' && e.guest === g.guest ? e.slots : []))].sort((a, b) => a - b);
      // Slots still queued at the very end are neither run nor missed yet.
      const lastRunEnd = Math.max(...runsOf.get(g.guest)!.map((r) => r.start));
      const expectedUpToLastRun = expected.filter((s) => s <= lastRunEnd);
      expect(
        covered.filter((s) => s <= lastRunEnd),
        g.guest,
      ).toEqual(expectedUpToLastRun);
      expect(expected.length - expectedUpToLastRun.length, g.guest).toBeLessThanOrEqual(3);
      total += expected.length;
    }
    expect(total).toBeGreaterThan(15_000);
    expect(launcher.doubleStarts).toBe(0);
    expect(launcher.maxActive).toBe(2);
    // Runs after a host sleep are catch-ups covering the missed slots at once.
    const catchUps = launcher.runs.filter((r) => r.opts.trigger === 'catch-up');
    expect(catchUps.length).toBeGreaterThan(0);
    // Every guest's slots that fell inside one host sleep were caught up by ONE run (or one miss report).
    let gapsWithSlots = 0;
    const badGaps: string[] = [];
    for (const [sleep, wake] of sleeps) {
      for (const g of gs) {
        const inGap = runsBetween(g.schedule, g.timeZone!, sleep, wake);
        if (inGap.length === 0) continue;
        gapsWithSlots++;
        const holders = [...runsOf.get(g.guest)!.map((r) => r.opts.slots), ...events.flatMap((e) => (e.type === 'runs-missed' && e.guest === g.guest ? [e.slots] : []))].filter((slots) =>
          slots.some((x) => inGap.includes(x)),
        );
        if (holders.length !== 1) badGaps.push(`${g.guest} sleep at ${new Date(sleep).toISOString()}: ${holders.length} runs`);
      }
    }
    expect(badGaps).toEqual([]);
    expect(gapsWithSlots).toBeGreaterThan(100);
    // Maintenance ran about once a day, never beside a backup.
    const gcs = maintenance.calls.filter((c) => c.op === 'gc');
    expect(gcs.length).toBeGreaterThan(330);
    expect(gcs.length).toBeLessThanOrEqual(366);
    const overlapping = gcs.filter((gc) => launcher.runs.some((r) => r.start < gc.end! && r.end! > gc.at));
    expect(overlapping).toEqual([]);
    // The always-failing guest is reported stale exactly once (it never succeeds). A healthy guest
    // goes stale only when a host sleep fell between its last success and the warning.
    const stale = events.flatMap((e) => (e.type === 'guest-stale' ? [e] : []));
    expect(stale.filter((e) => e.guest === 'guest-07')).toHaveLength(1);
    const unexplained = stale.filter((e) => e.guest !== 'guest-07' && !sleeps.some(([s]) => s >= (e.lastSuccessAt ?? t0) && s <= e.at));
    expect(unexplained).toEqual([]);
  }, 120_000);
});

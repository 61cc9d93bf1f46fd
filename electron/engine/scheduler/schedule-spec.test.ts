import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../shared/errors/app-error.js';
import type { Schedule } from '../../../shared/domain/policy.js';
import { describeSchedule, expectedIntervalMs, nextRunAfter, nextRuns, normalizeSchedule, parseWeekdays, runsBetween } from './schedule-spec.js';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (s: string) => Date.parse(s);

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('schedule validation', () => {
  it('normalises times (sorted, unique) and drops an all-week weekday list', () => {
    expect(normalizeSchedule({ kind: 'times', times: ['18:00', '12:00', '18:00'], weekdays: [0, 1, 2, 3, 4, 5, 6] })).toEqual({
      kind: 'times',
      times: ['12:00', '18:00'],
    });
  });

  it.each<[Schedule, string | undefined, RegExp]>([
    [{ kind: 'times', times: ['24:00'] }, undefined, /invalid time '24:00'/],
    [{ kind: 'times', times: [] }, undefined, /at least one time/],
    [{ kind: 'times', times: ['12:00'], weekdays: [] }, undefined, /empty weekday list/],
    [{ kind: 'interval', everyHours: 0, from: '07:00', to: '19:00' }, undefined, /invalid interval 0 h/],
    [{ kind: 'interval', everyHours: 2, from: '7am', to: '19:00' }, undefined, /invalid window start '7am'/],
    [{ kind: 'cron', expression: '0 12 * *' }, undefined, /expected 5 fields/],
    [{ kind: 'cron', expression: '61 12 * * *' }, undefined, /invalid cron expression '61 12/],
    [{ kind: 'cron', expression: '*/5 * * * *' }, undefined, /fires every 5 min/],
    [{ kind: 'times', times: ['12:00'] }, 'Mars/Olympus', /unknown time zone 'Mars\/Olympus'/],
  ])('rejects %j (tz %s) with SCHEDULE_INVALID', (schedule, tz, msg) => {
    const e = errorOf(() => normalizeSchedule(schedule, tz));
    expect(e.code).toBe('SCHEDULE_INVALID');
    expect(e.message).toMatch(msg);
  });

  it('parses weekday lists and ranges, including wrap-around', () => {
    expect(parseWeekdays('mon-fri')).toEqual([1, 2, 3, 4, 5]);
    expect(parseWeekdays('sat-mon')).toEqual([0, 1, 6]);
    expect(parseWeekdays('Sunday,3')).toEqual([0, 3]);
    expect(errorOf(() => parseWeekdays('funday')).message).toMatch(/unknown weekday 'funday'/);
  });

  it('describes schedules for humans', () => {
    expect(describeSchedule({ kind: 'interval', everyHours: 2, from: '07:00', to: '19:00', weekdays: [1, 2, 3, 4, 5] })).toBe('every 2 h 07:00-19:00 mon-fri');
  });
});

describe('next runs in a time zone', () => {
  it('runs times of day in the guest zone, skipping excluded weekdays', () => {
    // 2026-06-05 is a Friday. Berlin is UTC+2 in summer.
    const runs = nextRuns({ kind: 'times', times: ['12:00', '18:00'], weekdays: [1, 2, 3, 4, 5] }, 'Europe/Berlin', at('2026-06-05T11:00:00Z'), 3);
    expect(runs.map(iso)).toEqual(['2026-06-05T16:00:00.000Z', '2026-06-08T10:00:00.000Z', '2026-06-08T16:00:00.000Z']);
  });

  it('runs every N hours inside the window only', () => {
    const s: Schedule = { kind: 'interval', everyHours: 2, from: '07:00', to: '19:00' };
    const runs = runsBetween(s, 'UTC', at('2026-06-01T00:00:00Z'), at('2026-06-02T00:00:00Z'));
    expect(runs.map((r) => iso(r).slice(11, 16))).toEqual(['07:00', '09:00', '11:00', '13:00', '15:00', '17:00', '19:00']);
  });

  it('runs an overnight window across midnight, keyed to the day it starts', () => {
    // 2026-06-06 is a Saturday; the Friday window (22:00-04:00) spills into Saturday.
    const s: Schedule = { kind: 'interval', everyHours: 3, from: '22:00', to: '04:00', weekdays: [5] };
    const runs = runsBetween(s, 'UTC', at('2026-06-05T00:00:00Z'), at('2026-06-07T00:00:00Z'));
    expect(runs.map(iso)).toEqual(['2026-06-05T22:00:00.000Z', '2026-06-06T01:00:00.000Z', '2026-06-06T04:00:00.000Z']);
  });

  it('matches cron expressions against the guest wall clock', () => {
    const runs = nextRuns({ kind: 'cron', expression: '15 6 * * 1' }, 'America/New_York', at('2026-01-01T00:00:00Z'), 2);
    expect(runs.map(iso)).toEqual(['2026-01-05T11:15:00.000Z', '2026-01-12T11:15:00.000Z']);
  });

  it('returns nothing for an off schedule', () => {
    expect(nextRunAfter({ kind: 'off' }, 'UTC', 0)).toBeUndefined();
    expect(expectedIntervalMs({ kind: 'off' }, 'UTC', 0)).toBeUndefined();
  });

  it('computes the expected interval as the longest gap (weekend for a weekday schedule)', () => {
    const gap = expectedIntervalMs({ kind: 'times', times: ['12:00'], weekdays: [1, 2, 3, 4, 5] }, 'UTC', at('2026-06-01T00:00:00Z'));
    expect(gap).toBe(3 * 86_400_000);
    // A weekend-only schedule seen from a Thursday: the gap is the working week, not the weekend.
    const weekend = expectedIntervalMs({ kind: 'times', times: ['01:30', '23:45'], weekdays: [0, 6] }, 'UTC', at('2026-01-01T00:00:00Z'));
    expect(weekend).toBe(5 * 86_400_000 + 105 * 60_000);
  });
});

describe('daylight saving time', () => {
  const cases: [string, string, string, string, string[]][] = [
    // zone, spring/fall, day, local time inside the gap/overlap, expected UTC runs of the day before, the day, the day after
    ['Europe/Berlin', 'spring forward', '2026-03-29', '02:30', ['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']],
    ['Europe/Berlin', 'fall back', '2026-10-25', '02:30', ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']],
    ['America/New_York', 'spring forward', '2026-03-08', '02:30', ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']],
    ['America/New_York', 'fall back', '2026-11-01', '01:30', ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']],
  ];
  it.each(cases)('%s %s (%s): a daily %s run happens exactly once that day', (tz, _what, day, time, expected) => {
    const start = at(`${day}T00:00:00Z`) - 86_400_000 - 6 * 3_600_000;
    const [h, m] = time.split(':').map(Number);
    for (const s of [{ kind: 'times', times: [time] } as Schedule, { kind: 'cron', expression: `${m} ${h} * * *` } as Schedule]) {
      const runs = runsBetween(s, tz, start, start + 3 * 86_400_000);
      expect(runs.map(iso)).toEqual(expected);
    }
  });

  it('Europe/Berlin spring forward: the non-existent 02:30 runs at the shifted instant 03:30 CEST', () => {
    const [r] = nextRuns({ kind: 'times', times: ['02:30'] }, 'Europe/Berlin', at('2026-03-29T00:00:00Z'), 1);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', timeStyle: 'long' }).format(r)).toBe('03:30:00 CEST');
  });

  it('an hourly run never fires twice for the repeated hour and keeps order on fall-back day', () => {
    const s: Schedule = { kind: 'interval', everyHours: 1, from: '00:00', to: '23:00' };
    const day = runsBetween(s, 'Europe/Berlin', at('2026-10-24T22:00:00Z') - 1, at('2026-10-25T23:00:00Z') - 1);
    expect(day.length).toBe(24); // 24 wall-clock hours, the repeated 02:00 once
    expect(new Set(day).size).toBe(day.length);
    for (let i = 1; i < day.length; i++) expect(day[i]!).toBeGreaterThan(day[i - 1]!);
    const spring = runsBetween(s, 'Europe/Berlin', at('2026-03-28T23:00:00Z') - 1, at('2026-03-29T22:00:00Z') - 1);
    expect(spring.length).toBe(23); // 02:00 does not exist and is shifted onto 03:00: one run
  });
});

import { Cron } from 'croner';
import { AppError } from '../../../shared/errors/app-error.js';
import type { Schedule } from '../../../shared/domain/policy.js';
import { assertTimeZone, fromWall, toWall, wallDayStart, wallWeekday } from './zoned-time.js';

/**
 * Schedule specifications: validation and next-run computation in a guest's IANA time zone.
 *
 * Every kind of schedule is evaluated the same way: it yields WALL-clock slots (local date +
 * time, see zoned-time.ts) in ascending order, and each slot is mapped to an instant with one
 * DST rule — a non-existent local time (spring forward) runs once at the shifted instant, a
 * repeated local time (fall back) runs once, at its first occurrence. Cron expressions are
 * matched against the wall clock too, so `30 2 * * *` behaves exactly like `--times 02:30`.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Largest DST shift we look around a slot for (Lord Howe has 30 min, most zones 1 h). */
const DST_SLACK = 3 * HOUR;
/** Cron schedules firing more often than this are rejected: a twin backup takes minutes. */
export const MIN_CRON_SPACING_MS = 10 * MINUTE;
const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function invalid(message: string, details?: Record<string, unknown>): never {
  throw new AppError('SCHEDULE_INVALID', message, { details });
}

/** Minutes since midnight of `HH:MM`; throws SCHEDULE_INVALID. */
export function parseHhmm(s: string, what = 'time'): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
  const h = m ? Number(m[1]) : NaN;
  const min = m ? Number(m[2]) : NaN;
  if (!m || h > 23 || min > 59) invalid(`invalid ${what} '${s}': expected HH:MM between 00:00 and 23:59`, { value: s });
  return h * 60 + min;
}

/** `HH:MM` of minutes since midnight. */
export function formatHhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/**
 * Parses a weekday list such as `mon-fri`, `sat,sun`, `1,3,5` or `mon-wed,fri` into sorted
 * day numbers (0 = Sunday). Throws SCHEDULE_INVALID.
 */
export function parseWeekdays(spec: string): number[] {
  const full = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
  const day = (t: string): number => {
    const s = t.trim().toLowerCase();
    if (/^[0-7]$/.test(s)) return Number(s) % 7;
    const i = s.length === 3 ? WEEKDAY_NAMES.indexOf(s) : full.indexOf(s);
    if (i < 0) invalid(`unknown weekday '${t}': use mon, tue, wed, thu, fri, sat, sun or 0-6`);
    return i;
  };
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    if (!part.trim()) invalid(`empty weekday in '${spec}'`);
    const [a, b, extra] = part.split('-');
    if (extra !== undefined) invalid(`invalid weekday range '${part}'`);
    if (b === undefined) out.add(day(a!));
    else {
      const from = day(a!);
      const to = day(b);
      for (let d = from; ; d = (d + 1) % 7) {
        out.add(d);
        if (d === to) break;
      }
    }
  }
  return [...out].sort((x, y) => x - y);
}

function checkWeekdays(weekdays: number[] | undefined): number[] | undefined {
  if (weekdays === undefined) return undefined;
  if (weekdays.length === 0) invalid('the schedule has an empty weekday list: pick at least one day, or turn the schedule off');
  for (const d of weekdays) if (!Number.isInteger(d) || d < 0 || d > 6) invalid(`invalid weekday ${d}: expected 0 (Sunday) to 6 (Saturday)`);
  const u = [...new Set(weekdays)].sort((a, b) => a - b);
  return u.length === 7 ? undefined : u;
}

const cronCache = new Map<string, Cron>();

function compileCron(expression: string): Cron {
  const hit = cronCache.get(expression);
  if (hit) return hit;
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    invalid(`invalid cron expression '${expression}': expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`, {
      expression,
    });
  }
  try {
    const cron = new Cron(fields.join(' '), { utcOffset: 0, paused: true });
    if (cronCache.size > 1000) cronCache.clear();
    cronCache.set(expression, cron);
    return cron;
  } catch (cause) {
    throw new AppError('SCHEDULE_INVALID', `invalid cron expression '${expression}': ${(cause as Error).message}`, {
      cause,
      details: { expression },
    });
  }
}

/**
 * Validates a schedule (and its time zone) and returns its normal form: times sorted and
 * de-duplicated, an all-week weekday list dropped, a cron expression's whitespace collapsed.
 * Throws SCHEDULE_INVALID with a message that names the offending value.
 */
export function normalizeSchedule(schedule: Schedule, timeZone?: string): Schedule {
  if (timeZone !== undefined) assertTimeZone(timeZone);
  switch (schedule.kind) {
    case 'off':
      return { kind: 'off' };
    case 'times': {
      if (!schedule.times || schedule.times.length === 0) invalid('a times-of-day schedule needs at least one time, e.g. 12:00');
      const mins = [...new Set(schedule.times.map((t) => parseHhmm(t)))].sort((a, b) => a - b);
      const weekdays = checkWeekdays(schedule.weekdays);
      return { kind: 'times', times: mins.map(formatHhmm), ...(weekdays ? { weekdays } : {}) };
    }
    case 'interval': {
      const n = schedule.everyHours;
      if (!Number.isInteger(n) || n < 1 || n > 24) invalid(`invalid interval ${n} h: expected a whole number of hours from 1 to 24`);
      const from = parseHhmm(schedule.from, 'window start');
      const to = parseHhmm(schedule.to, 'window end');
      const weekdays = checkWeekdays(schedule.weekdays);
      return { kind: 'interval', everyHours: n, from: formatHhmm(from), to: formatHhmm(to), ...(weekdays ? { weekdays } : {}) };
    }
    case 'cron': {
      const expression = schedule.expression.trim().split(/\s+/).join(' ');
      const cron = compileCron(expression);
      // Reject schedules that (almost) never fire or fire every few minutes.
      let cursor = Date.UTC(2030, 0, 1);
      const first = cron.nextRun(new Date(cursor));
      if (!first) invalid(`cron expression '${expression}' never fires`);
      cursor = first.getTime();
      for (let i = 0; i < 48; i++) {
        const next = cron.nextRun(new Date(cursor))?.getTime();
        if (next === undefined) break;
        if (next - cursor < MIN_CRON_SPACING_MS) {
          invalid(`cron expression '${expression}' fires every ${Math.round((next - cursor) / MINUTE)} min: backups must be at least ${MIN_CRON_SPACING_MS / MINUTE} min apart`);
        }
        cursor = next;
      }
      return { kind: 'cron', expression };
    }
    default:
      return invalid(`unknown schedule kind '${(schedule as { kind: string }).kind}'`);
  }
}

/** Wall slots (ascending, >= `fromWall`) of a normalised schedule. */
function* wallSlots(schedule: Schedule, fromWall: number, untilWall: number): Generator<number> {
  if (schedule.kind === 'off') return;
  if (schedule.kind === 'cron') {
    const cron = compileCron(schedule.expression);
    let cursor = fromWall - 1;
    while (cursor < untilWall) {
      const n = cron.nextRun(new Date(cursor))?.getTime();
      if (n === undefined || n > untilWall) return;
      if (n >= fromWall) yield n;
      cursor = n;
    }
    return;
  }
  const weekdays = schedule.weekdays;
  const dayOk = (dayStart: number) => !weekdays || weekdays.includes(wallWeekday(dayStart));
  let mins: number[];
  if (schedule.kind === 'times') mins = schedule.times.map((t) => parseHhmm(t));
  else {
    const from = parseHhmm(schedule.from);
    let to = parseHhmm(schedule.to);
    if (to < from) to += 24 * 60; // overnight window: slots spill into the next day
    mins = [];
    for (let m = from; m <= to; m += schedule.everyHours * 60) mins.push(m);
  }
  // Start one day early: an overnight window of the previous day may spill past `fromWall`.
  for (let day = wallDayStart(fromWall) - DAY; day <= untilWall; day += DAY) {
    if (!dayOk(day)) continue;
    for (const m of mins) {
      const s = day + m * MINUTE;
      if (s > untilWall) return;
      if (s >= fromWall) yield s;
    }
  }
}

/**
 * The first run strictly after instant `afterMs`, or undefined (schedule off / never within
 * `horizonMs`, default 400 days). The schedule must be normalised.
 */
export function nextRunAfter(schedule: Schedule, timeZone: string, afterMs: number, horizonMs = 400 * DAY): number | undefined {
  if (schedule.kind === 'off') return undefined;
  const w = toWall(afterMs, timeZone);
  let best: number | undefined;
  let bestWall = 0;
  // Look a few hours back in wall time: a slot in a DST gap maps to a later instant.
  for (const s of wallSlots(schedule, w - DST_SLACK, w + horizonMs)) {
    if (best !== undefined && s > bestWall + DST_SLACK) break;
    const inst = fromWall(s, timeZone);
    if (inst > afterMs && (best === undefined || inst < best)) {
      best = inst;
      bestWall = s;
    }
  }
  return best;
}

/** The next `count` runs strictly after `afterMs` (ascending instants, never two equal). */
export function nextRuns(schedule: Schedule, timeZone: string, afterMs: number, count: number): number[] {
  const out: number[] = [];
  let t = afterMs;
  while (out.length < count) {
    const n = nextRunAfter(schedule, timeZone, t);
    if (n === undefined) break;
    out.push(n);
    t = n;
  }
  return out;
}

/** Every run in (`fromExclusive`, `toInclusive`], ascending and distinct, at most `limit` of them. */
export function runsBetween(schedule: Schedule, timeZone: string, fromExclusive: number, toInclusive: number, limit = 10_000): number[] {
  if (schedule.kind === 'off' || toInclusive <= fromExclusive) return [];
  const fromW = toWall(fromExclusive, timeZone) - DST_SLACK;
  const toW = toWall(toInclusive, timeZone) + DST_SLACK;
  const set = new Set<number>();
  for (const s of wallSlots(schedule, fromW, toW)) {
    const inst = fromWall(s, timeZone);
    if (inst > fromExclusive && inst <= toInclusive) set.add(inst);
  }
  return [...set].sort((a, b) => a - b).slice(0, limit);
}

/**
 * The longest gap between consecutive runs over the 15 days after `atMs` — how long a guest
 * may go without a backup before it counts as stale. Undefined for an off schedule.
 */
export function expectedIntervalMs(schedule: Schedule, timeZone: string, atMs: number): number | undefined {
  if (schedule.kind === 'off') return undefined;
  const runs = runsBetween(schedule, timeZone, atMs, atMs + 15 * DAY, 2000);
  if (runs.length < 2) return 31 * DAY;
  let max = 0;
  for (let i = 1; i < runs.length; i++) max = Math.max(max, runs[i]! - runs[i - 1]!);
  return max;
}

function describeWeekdays(weekdays: number[] | undefined): string {
  if (!weekdays) return 'every day';
  if (weekdays.join() === '1,2,3,4,5') return 'mon-fri';
  if (weekdays.join() === '0,6') return 'weekends';
  return weekdays.map((d) => WEEKDAY_NAMES[d]).join(',');
}

/** A one-line human description, e.g. `12:00, 18:00 every day` or `every 2 h 07:00-19:00 mon-fri`. */
export function describeSchedule(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'off':
      return 'off';
    case 'times':
      return `${schedule.times.join(', ')} ${describeWeekdays(schedule.weekdays)}`;
    case 'interval':
      return `every ${schedule.everyHours} h ${schedule.from}-${schedule.to} ${describeWeekdays(schedule.weekdays)}`;
    case 'cron':
      return `cron '${schedule.expression}'`;
  }
}

import { AppError } from '../../../shared/errors/app-error.js';

/**
 * Wall-clock arithmetic in IANA time zones without a date library.
 *
 * A "wall" time is the local date and time of a zone encoded as if it were UTC epoch ms
 * (`Date.UTC(y, m, d, h, min)`), so calendar arithmetic on it is plain integer arithmetic.
 * Converting a wall time back to an instant resolves daylight-saving edge cases the same way
 * everywhere in the scheduler:
 * - a wall time that does not exist (spring-forward gap, e.g. 02:30 in Europe/Berlin on the
 *   last Sunday of March) is shifted forward by the gap (→ 03:30 summer time), so it still runs
 *   once;
 * - a wall time that exists twice (fall-back, e.g. 02:30 on the last Sunday of October) maps to
 *   its FIRST occurrence, so it runs once.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws SCHEDULE_INVALID unless `timeZone` is an IANA zone this runtime knows. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatter(timeZone);
  } catch {
    throw new AppError('SCHEDULE_INVALID', `unknown time zone '${timeZone}': use an IANA name such as 'Europe/Berlin' or 'UTC'`, {
      details: { timeZone },
    });
  }
}

/** The host's IANA time zone (falls back to UTC). */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const BUCKET = 15 * 60_000;
const offsetCache = new Map<string, Map<number, number>>();

/**
 * UTC offset (wall − instant, ms) of `timeZone` at instant `ms`. Offsets of modern zones change
 * only on quarter-hour boundaries, so they are memoised per 15-minute bucket (the scheduler asks
 * for the same few instants over and over).
 */
export function offsetAt(ms: number, timeZone: string): number {
  const bucket = Math.floor(ms / BUCKET) * BUCKET;
  let zone = offsetCache.get(timeZone);
  if (!zone) offsetCache.set(timeZone, (zone = new Map()));
  let off = zone.get(bucket);
  if (off === undefined) {
    const parts = formatter(timeZone).formatToParts(new Date(bucket));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
    off = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - bucket;
    if (zone.size > 200_000) zone.clear();
    zone.set(bucket, off);
  }
  return off;
}

/** The wall time (see module doc) of instant `ms` in `timeZone`. */
export function toWall(ms: number, timeZone: string): number {
  return ms + offsetAt(ms, timeZone);
}

const HOUR = 3_600_000;

/**
 * The instant of wall time `wall` in `timeZone`: the first occurrence when it is ambiguous,
 * shifted forward by the gap when it does not exist.
 */
export function fromWall(wall: number, timeZone: string): number {
  const before = offsetAt(wall - 14 * HOUR, timeZone);
  const after = offsetAt(wall + 14 * HOUR, timeZone);
  if (before === after) return wall - before;
  const candidates = [wall - before, wall - after].filter((inst) => toWall(inst, timeZone) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  // Gap: use the offset in force before the transition, which lands after it.
  return wall - before;
}

/** Day of week (0 = Sunday) of a wall time. */
export function wallWeekday(wall: number): number {
  return new Date(wall).getUTCDay();
}

/** Midnight of the wall day containing `wall`. */
export function wallDayStart(wall: number): number {
  return Math.floor(wall / 86_400_000) * 86_400_000;
}

/** `YYYY-MM-DD HH:MM` of a wall time (for messages and logs). */
export function formatWall(wall: number): string {
  return new Date(wall).toISOString().slice(0, 16).replace('T', ' ');
}

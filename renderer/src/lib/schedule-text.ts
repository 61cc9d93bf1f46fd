import type { RetentionPolicy, Schedule } from '../../../shared/domain/policy.js';

const DAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Weekdays as short text: "every day", "Mon–Fri", "Sat, Sun", "Mon, Wed, Fri". */
export function weekdaysText(days: number[] | undefined): string {
  if (!days || days.length === 0 || days.length === 7) return 'every day';
  const s = [...new Set(days)].sort((a, b) => a - b);
  if (s.join() === '1,2,3,4,5') return 'Mon–Fri';
  if (s.join() === '0,6') return 'Sat, Sun';
  return s.map((d) => DAY[d]).join(', ');
}

/** A schedule in a few words: "12:00 · 18:00", "every 4 h, 08:00–20:00, Mon–Fri", "not scheduled". */
export function scheduleText(s: Schedule | undefined): string {
  if (!s || s.kind === 'off') return 'not scheduled';
  if (s.kind === 'cron') return `cron ${s.expression}`;
  const wd = weekdaysText(s.weekdays);
  const suffix = wd === 'every day' ? '' : `, ${wd}`;
  if (s.kind === 'times') return `${s.times.length === 1 ? 'daily ' : ''}${s.times.join(' · ')}${suffix}`;
  return `every ${s.everyHours} h, ${s.from}–${s.to}${suffix}`;
}

/** A retention policy in a few words: "keep last 3, 14 d, 30 daily, 12 weekly". */
export function retentionText(p: RetentionPolicy | undefined): string {
  if (!p) return '';
  const parts: string[] = [];
  if (p.keepLast) parts.push(`last ${p.keepLast}`);
  if (p.keepWithinDays) parts.push(`${p.keepWithinDays} d`);
  if (p.keepHourly) parts.push(`${p.keepHourly} hourly`);
  if (p.keepDaily) parts.push(`${p.keepDaily} daily`);
  if (p.keepWeekly) parts.push(`${p.keepWeekly} weekly`);
  if (p.keepMonthly) parts.push(`${p.keepMonthly} monthly`);
  if (p.keepYearly) parts.push(`${p.keepYearly} yearly`);
  return parts.length ? `keep ${parts.join(', ')}` : 'keep everything';
}

/**
 * The longest expected gap between two scheduled backups, in hours (undefined when not scheduled):
 * used to call a guest "stale" when its last good point is older than twice that.
 */
export function expectedGapHours(s: Schedule | undefined): number | undefined {
  if (!s || s.kind === 'off') return undefined;
  const daysPerWeek = s.kind === 'cron' || !s.weekdays || s.weekdays.length === 0 ? 7 : new Set(s.weekdays).size;
  const weekGap = 24 * (7 - daysPerWeek + 1);
  if (s.kind === 'cron') return 24;
  if (s.kind === 'interval') return Math.max(s.everyHours, daysPerWeek === 7 ? 0 : weekGap);
  const mins = s.times.map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3))).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 0; i < mins.length; i++) gap = Math.max(gap, ((i + 1 < mins.length ? mins[i + 1] : mins[0] + 1440) - mins[i]) / 60);
  return daysPerWeek === 7 ? gap : Math.max(gap, weekGap);
}

/** True when the newest good point is older than twice the expected gap. */
export function isStale(lastGood: string | undefined, s: Schedule | undefined, now: number): boolean {
  const gap = expectedGapHours(s);
  if (gap === undefined) return false;
  if (!lastGood) return true;
  return now - Date.parse(lastGood) > 2 * gap * 3600_000;
}

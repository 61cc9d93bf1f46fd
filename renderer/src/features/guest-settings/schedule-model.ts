import type { Schedule } from '../../../../shared/domain/policy.js';

/** The editor's working state (all kinds' fields kept while switching kind). */
export interface ScheduleDraft {
  kind: 'off' | 'times' | 'interval' | 'cron';
  times: string[];
  everyHours: number;
  from: string;
  to: string;
  weekdays: number[];
  expression: string;
}

/** Default draft fields: no times yet, every day (kind set by draftOf). */
export function defaultDraft(): ScheduleDraft {
  return { kind: 'times', times: [], everyHours: 4, from: '08:00', to: '20:00', weekdays: [0, 1, 2, 3, 4, 5, 6], expression: '0 2 * * *' };
}

/** Editor state from a stored schedule; a guest without one shows Off (nothing pre-selected that would be saved unseen). */
export function draftOf(s: Schedule | undefined): ScheduleDraft {
  const d = defaultDraft();
  if (!s) return { ...d, kind: 'off' };
  switch (s.kind) {
    case 'off':
      return { ...d, kind: 'off' };
    case 'times':
      return { ...d, kind: 'times', times: [...s.times], weekdays: s.weekdays ?? d.weekdays };
    case 'interval':
      return { ...d, kind: 'interval', everyHours: s.everyHours, from: s.from, to: s.to, weekdays: s.weekdays ?? d.weekdays };
    case 'cron':
      return { ...d, kind: 'cron', expression: s.expression };
  }
}

/** The schedule a draft stands for, or a message saying what is missing. */
export function scheduleOf(d: ScheduleDraft): { schedule: Schedule } | { problem: string } {
  const wd = d.weekdays.length === 7 ? undefined : [...d.weekdays].sort((a, b) => a - b);
  if (d.kind !== 'off' && d.kind !== 'cron' && d.weekdays.length === 0) return { problem: 'pick at least one weekday' };
  switch (d.kind) {
    case 'off':
      return { schedule: { kind: 'off' } };
    case 'times': {
      if (d.times.length === 0) return { problem: 'add at least one time of day' };
      const times = [...new Set(d.times)].sort();
      return { schedule: wd ? { kind: 'times', times, weekdays: wd } : { kind: 'times', times } };
    }
    case 'interval':
      if (d.from >= d.to) return { problem: 'the window must start before it ends' };
      return { schedule: wd ? { kind: 'interval', everyHours: d.everyHours, from: d.from, to: d.to, weekdays: wd } : { kind: 'interval', everyHours: d.everyHours, from: d.from, to: d.to } };
    case 'cron':
      return d.expression.trim().length >= 9 ? { schedule: { kind: 'cron', expression: d.expression.trim() } } : { problem: 'enter a cron expression like 0 2 * * *' };
  }
}

/** A 24-hour "HH:MM" from what was typed ("3:30", "03:30", "1530"), or undefined. */
export function parseTimeOfDay(text: string): string | undefined {
  const m = /^\s*(\d{1,2}):?(\d{2})\s*$/.exec(text);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return undefined;
  return `${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`;
}

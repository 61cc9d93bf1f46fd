import type { Schedule } from '../../../../shared/domain/policy.js';

/** A schedule suggested for one guest on first run. */
export interface SuggestedSchedule {
  guest: string;
  schedule: Extract<Schedule, { kind: 'times' }>;
}

/** Minutes between two guests' start times: twins boot one after another, not all at once. */
export const STAGGER_MINUTES = 15;
/** The two daily runs of the first guest: lunch time and late evening. */
export const BASE_TIMES = ['12:00', '23:00'] as const;

function addMinutes(hhmm: string, minutes: number): string {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const t = (((h * 60 + m + minutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
}

/**
 * Staggered twice-daily schedules for the guests that have none yet: guest i (in the order
 * given) runs at 12:00 + i×15 min and 23:00 + i×15 min, wrapping past midnight.
 */
export function suggestSchedules(guests: string[], scheduled: ReadonlySet<string> = new Set()): SuggestedSchedule[] {
  return guests
    .filter((g) => !scheduled.has(g))
    .map((guest, i) => ({
      guest,
      schedule: { kind: 'times', times: BASE_TIMES.map((t) => addMinutes(t, i * STAGGER_MINUTES)).sort() },
    }));
}

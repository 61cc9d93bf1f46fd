import { describe, expect, it } from 'vitest';
import { expectedGapHours, isStale, retentionText, scheduleText, weekdaysText } from './schedule-text.js';

describe('schedule text', () => {
  it('describes schedules and weekdays', () => {
    expect(scheduleText({ kind: 'times', times: ['12:00', '18:00'] })).toBe('12:00 · 18:00');
    expect(scheduleText({ kind: 'times', times: ['02:00'], weekdays: [1, 2, 3, 4, 5] })).toBe('daily 02:00, Mon–Fri');
    expect(scheduleText({ kind: 'interval', everyHours: 4, from: '08:00', to: '20:00' })).toBe('every 4 h, 08:00–20:00');
    expect(scheduleText({ kind: 'off' })).toBe('not scheduled');
    expect(weekdaysText([5, 1, 3])).toBe('Mon, Wed, Fri');
    expect(retentionText({ keepLast: 3, keepWithinDays: 14 })).toBe('keep last 3, 14 d');
  });

  it('computes the expected gap and staleness', () => {
    expect(expectedGapHours({ kind: 'times', times: ['12:00', '18:00'] })).toBe(18);
    expect(expectedGapHours({ kind: 'times', times: ['02:00'], weekdays: [1, 2, 3, 4, 5] })).toBe(72);
    expect(expectedGapHours({ kind: 'off' })).toBeUndefined();
    const now = Date.parse('2026-11-22T12:00:00Z');
    expect(isStale('2026-11-21T12:00:00Z', { kind: 'times', times: ['02:00'] }, now)).toBe(false);
    expect(isStale('2026-11-19T12:00:00Z', { kind: 'times', times: ['02:00'] }, now)).toBe(true);
    expect(isStale(undefined, { kind: 'times', times: ['02:00'] }, now)).toBe(true);
    expect(isStale(undefined, undefined, now)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../../../shared/domain/policy.js';
import { defaultDraft, draftOf, scheduleOf } from './schedule-model.js';

describe('schedule draft', () => {
  it('round-trips stored schedules', () => {
    const all: Schedule[] = [{ kind: 'off' }, { kind: 'times', times: ['02:00', '12:00'], weekdays: [1, 2, 3, 4, 5] }, { kind: 'interval', everyHours: 4, from: '08:00', to: '20:00' }];
    for (const s of all) {
      expect(scheduleOf(draftOf(s))).toEqual({ schedule: s });
    }
  });
  it('sorts and de-duplicates times and reports what is missing', () => {
    expect(scheduleOf({ ...defaultDraft(), times: ['18:00', '06:00', '18:00'] })).toEqual({ schedule: { kind: 'times', times: ['06:00', '18:00'] } });
    expect(scheduleOf({ ...defaultDraft(), times: [] })).toEqual({ problem: 'add at least one time of day' });
    expect(scheduleOf({ ...defaultDraft(), weekdays: [] })).toEqual({ problem: 'pick at least one weekday' });
    expect(scheduleOf({ ...defaultDraft(), kind: 'interval', from: '20:00', to: '08:00' })).toMatchObject({ problem: expect.stringMatching(/window/) });
  });
});

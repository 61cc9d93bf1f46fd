import type { Guest } from '../../../../shared/domain/guest.js';
import type { GuestSchedule } from '../../../../shared/domain/policy.js';
import { idle, track, type Loadable } from '../loadable.js';
import type { SliceCreator } from './types.js';

/** A guest's schedule as listed by the engine. */
export type ScheduleRow = GuestSchedule & { nextRuns: string[] };

/** Guests of every hypervisor and their schedules. */
export interface GuestsSlice {
  guests: Loadable<Guest[]>;
  schedules: Loadable<ScheduleRow[]>;
  refreshGuests(refresh?: boolean): Promise<void>;
  refreshSchedules(): Promise<void>;
}

/** Creates the guests slice. */
export const createGuestsSlice: SliceCreator<GuestsSlice> = (deps) => (set, get) => ({
  guests: idle(),
  schedules: idle(),
  async refreshGuests(refresh) {
    await track(
      () => get().guests,
      (guests) => set({ guests }),
      () => deps.engine['guests.list'](refresh ? { refresh: true } : {}),
    );
  },
  async refreshSchedules() {
    await track(
      () => get().schedules,
      (schedules) => set({ schedules }),
      () => deps.engine['schedules.list']({}),
    );
  },
});

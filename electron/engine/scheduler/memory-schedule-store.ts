import type { GuestSchedule } from '../../../shared/domain/policy.js';
import type { GuestRunState, MaintenanceState, ScheduleStore } from './ports.js';

/** A ScheduleStore held in memory (tests, one-shot tools). */
export class MemoryScheduleStore implements ScheduleStore {
  protected schedules = new Map<string, GuestSchedule>();
  protected states = new Map<string, GuestRunState>();
  protected maintenance: MaintenanceState = {};

  list(): GuestSchedule[] {
    return [...this.schedules.values()].sort((a, b) => a.guestId.localeCompare(b.guestId));
  }
  get(guest: string): GuestSchedule | undefined {
    return this.schedules.get(guest);
  }
  set(schedule: GuestSchedule): void {
    this.schedules.set(schedule.guestId, structuredClone(schedule));
    this.persist();
  }
  state(guest: string): GuestRunState {
    const st = this.states.get(guest);
    return st ? { ...st, ...(st.pendingSlots ? { pendingSlots: [...st.pendingSlots] } : {}) } : {};
  }
  saveState(guest: string, state: GuestRunState): void {
    this.states.set(guest, { ...state, ...(state.pendingSlots ? { pendingSlots: [...state.pendingSlots] } : {}) });
    this.persist();
  }
  maintenanceState(): MaintenanceState {
    return { ...this.maintenance };
  }
  saveMaintenanceState(state: MaintenanceState): void {
    this.maintenance = { ...state };
    this.persist();
  }
  /** Called after every change; subclasses write to disk. */
  protected persist(): void {}
}

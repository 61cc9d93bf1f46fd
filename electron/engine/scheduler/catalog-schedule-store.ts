import type { GuestSchedule } from '../../../shared/domain/policy.js';
import type { GuestRunState, MaintenanceState, ScheduleStore } from './ports.js';

/** The parts of the catalog this store uses (its `schedules` and `settings` tables). */
export interface CatalogTables {
  schedules: { get(guest: string): GuestSchedule | undefined; set(s: GuestSchedule): void; list(): GuestSchedule[] };
  settings: { get<T>(key: string): T | undefined; set(key: string, value: unknown): void };
}

const STATE_KEY = (guest: string) => `scheduler.state.${guest}`;
const MAINTENANCE_KEY = 'scheduler.maintenance';

/**
 * A ScheduleStore over the SQLite catalog: schedules in its `schedules` table, run state in its
 * `settings` table. Nothing is cached, so a CLI or app process that changes a schedule is seen
 * by the daemon's scheduler on its next tick.
 */
export class CatalogScheduleStore implements ScheduleStore {
  constructor(private readonly t: CatalogTables) {}

  list(): GuestSchedule[] {
    return this.t.schedules.list();
  }
  get(guest: string): GuestSchedule | undefined {
    return this.t.schedules.get(guest);
  }
  set(schedule: GuestSchedule): void {
    this.t.schedules.set(schedule);
  }
  state(guest: string): GuestRunState {
    return this.t.settings.get<GuestRunState>(STATE_KEY(guest)) ?? {};
  }
  saveState(guest: string, state: GuestRunState): void {
    this.t.settings.set(STATE_KEY(guest), state);
  }
  maintenanceState(): MaintenanceState {
    return this.t.settings.get<MaintenanceState>(MAINTENANCE_KEY) ?? {};
  }
  saveMaintenanceState(state: MaintenanceState): void {
    this.t.settings.set(MAINTENANCE_KEY, state);
  }
}

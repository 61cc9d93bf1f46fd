import type { GuestSchedule, RetentionPolicy } from '../../../shared/domain/policy.js';
import type { Db } from './catalog-db.js';

/** Per-guest schedules (the whole GuestSchedule as JSON). */
export interface ScheduleStore {
  get(guest: string): GuestSchedule | undefined;
  /** Inserts or replaces the guest's schedule. */
  set(s: GuestSchedule): void;
  /** All schedules, by guest name. */
  list(): GuestSchedule[];
  delete(guest: string): void;
}

/** Per-guest retention policies. */
export interface RetentionStore {
  get(guest: string): RetentionPolicy | undefined;
  set(guest: string, policy: RetentionPolicy): void;
  list(): { guest: string; policy: RetentionPolicy }[];
  delete(guest: string): void;
}

/** Free-form app settings / state values (JSON), by key. */
export interface SettingStore {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  /** Every setting, by key. */
  all(): Record<string, unknown>;
}

/** Creates the schedule, retention and settings stores over `db`. */
export function createPolicyStores(db: Db): { schedules: ScheduleStore; retention: RetentionStore; settings: SettingStore } {
  const kv = (table: string, keyCol: string, valCol: string) => ({
    get: db.prepare(`SELECT ${valCol} AS v FROM ${table} WHERE ${keyCol} = ?`),
    set: db.prepare(`INSERT INTO ${table} (${keyCol}, ${valCol}) VALUES (?, ?) ON CONFLICT(${keyCol}) DO UPDATE SET ${valCol} = excluded.${valCol}`),
    list: db.prepare(`SELECT ${keyCol} AS k, ${valCol} AS v FROM ${table} ORDER BY ${keyCol}`),
    del: db.prepare(`DELETE FROM ${table} WHERE ${keyCol} = ?`),
  });
  const s = kv('schedules', 'guest', 'schedule_json');
  const r = kv('retention_policies', 'guest', 'policy_json');
  const st = kv('settings', 'key', 'value_json');
  const read = <T>(row: unknown): T | undefined => (row ? (JSON.parse((row as { v: string }).v) as T) : undefined);
  return {
    schedules: {
      get: (guest) => read<GuestSchedule>(s.get.get(guest)),
      set: (v) => void s.set.run(v.guest, JSON.stringify(v)),
      list: () => (s.list.all() as { v: string }[]).map((row) => JSON.parse(row.v) as GuestSchedule),
      delete: (guest) => void s.del.run(guest),
    },
    retention: {
      get: (guest) => read<RetentionPolicy>(r.get.get(guest)),
      set: (guest, policy) => void r.set.run(guest, JSON.stringify(policy)),
      list: () => (r.list.all() as { k: string; v: string }[]).map((row) => ({ guest: row.k, policy: JSON.parse(row.v) as RetentionPolicy })),
      delete: (guest) => void r.del.run(guest),
    },
    settings: {
      get: <T>(key: string) => read<T>(st.get.get(key)),
      set: (key, value) => void st.set.run(key, JSON.stringify(value)),
      delete: (key) => void st.del.run(key),
      all: () => Object.fromEntries((st.list.all() as { k: string; v: string }[]).map((row) => [row.k, JSON.parse(row.v) as unknown])),
    },
  };
}

import type { GuestSchedule, RetentionPolicy } from '../../../shared/domain/policy.js';
import type { GuestId } from '../../../shared/domain/guest-id.js';
import type { Db } from './catalog-db.js';

/** Per-guest schedules (the whole GuestSchedule as JSON), keyed by guest id. */
export interface ScheduleStore {
  get(guestId: GuestId): GuestSchedule | undefined;
  /** Inserts or replaces the schedule of `s.guestId`. */
  set(s: GuestSchedule): void;
  /** All schedules, by guest id. */
  list(): GuestSchedule[];
  delete(guestId: GuestId): void;
}

/** A guest's retention policy with the guest's display name when it was saved. */
export interface RetentionEntry {
  guestId: GuestId;
  guest: string;
  policy: RetentionPolicy;
}

/** Per-guest retention policies, keyed by guest id. */
export interface RetentionStore {
  get(guestId: GuestId): RetentionPolicy | undefined;
  set(guestId: GuestId, guest: string, policy: RetentionPolicy): void;
  list(): RetentionEntry[];
  delete(guestId: GuestId): void;
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
  const s = kv('schedules', 'guest_id', 'schedule_json');
  const r = kv('retention_policies', 'guest_id', 'policy_json');
  const rSet = db.prepare(
    'INSERT INTO retention_policies (guest_id, guest, policy_json) VALUES (?, ?, ?) ON CONFLICT(guest_id) DO UPDATE SET guest = excluded.guest, policy_json = excluded.policy_json',
  );
  const rList = db.prepare('SELECT guest_id, guest, policy_json FROM retention_policies ORDER BY guest, guest_id');
  const st = kv('settings', 'key', 'value_json');
  const read = <T>(row: unknown): T | undefined => (row ? (JSON.parse((row as { v: string }).v) as T) : undefined);
  return {
    schedules: {
      get: (guest) => read<GuestSchedule>(s.get.get(guest)),
      set: (v) => void s.set.run(v.guestId, JSON.stringify(v)),
      list: () => (s.list.all() as { v: string }[]).map((row) => JSON.parse(row.v) as GuestSchedule),
      delete: (guest) => void s.del.run(guest),
    },
    retention: {
      get: (guest) => read<RetentionPolicy>(r.get.get(guest)),
      set: (guestId, guest, policy) => void rSet.run(guestId, guest, JSON.stringify(policy)),
      list: () =>
        (rList.all() as { guest_id: GuestId; guest: string; policy_json: string }[]).map((row) => ({
          guestId: row.guest_id,
          guest: row.guest,
          policy: JSON.parse(row.policy_json) as RetentionPolicy,
        })),
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

/**
 * The catalog's versioned schema migrations. Each entry moves the schema from `version - 1` to
 * `version`; they run in order inside one transaction each and `PRAGMA user_version` records
 * the last applied one. Append only: never edit a migration that has shipped.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** All migrations, in order. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE guests (
        name TEXT PRIMARY KEY,
        hypervisor TEXT,
        first_seen_ms INTEGER NOT NULL
      );
      CREATE TABLE snapshots (
        id TEXT PRIMARY KEY,
        guest TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        consistency TEXT NOT NULL CHECK (consistency IN ('clean-twin','crash','cold')),
        pause_ms INTEGER,
        logical_bytes INTEGER NOT NULL,
        new_bytes INTEGER,
        job_id TEXT
      );
      CREATE INDEX snapshots_guest_time ON snapshots (guest, time_ms);
      CREATE TABLE snapshot_disks (
        snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        source_format TEXT,
        data_bytes INTEGER,
        ord INTEGER NOT NULL,
        PRIMARY KEY (snapshot_id, name)
      );
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        guest TEXT,
        status TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        info_json TEXT NOT NULL
      );
      CREATE INDEX jobs_guest ON jobs (guest, created_ms);
      CREATE TABLE job_logs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        at TEXT NOT NULL,
        level TEXT NOT NULL,
        step TEXT,
        message TEXT NOT NULL
      );
      CREATE INDEX job_logs_job ON job_logs (job_id, seq);
      CREATE TABLE schedules (
        guest TEXT PRIMARY KEY,
        schedule_json TEXT NOT NULL
      );
      CREATE TABLE retention_policies (
        guest TEXT PRIMARY KEY,
        policy_json TEXT NOT NULL
      );
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value_json TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'snapshot-verify',
    sql: `
      ALTER TABLE snapshots ADD COLUMN verify_ok INTEGER;
      ALTER TABLE snapshots ADD COLUMN verify_at TEXT;
      ALTER TABLE snapshots ADD COLUMN verify_boot_ms INTEGER;
      CREATE INDEX jobs_created ON jobs (created_ms);
    `,
  },
  {
    version: 3,
    name: 'snapshot-boot-verify',
    // The backup's boot verification (seed 002), kept apart from verify_* (repository checks).
    // ok/at as columns for queries (calendar: boot-verified snapshots); the whole record as JSON.
    sql: `
      ALTER TABLE snapshots ADD COLUMN boot_verify_ok INTEGER;
      ALTER TABLE snapshots ADD COLUMN boot_verify_at TEXT;
      ALTER TABLE snapshots ADD COLUMN boot_verify_json TEXT;
    `,
  },
  {
    version: 4,
    name: 'guest-identity',
    // Every record is keyed by the guest's identity (shared/domain/guest-id.ts), the display name
    // becomes a label. Rows of older catalogs know only a name: they get `name:<name>`, which the
    // engine adopts into a VM's real id once exactly one VM of that name is seen (guest_aliases
    // remembers it, so a catalog rebuild maps old manifests the same way). snapshots and jobs get
    // a column (rebuilding `snapshots` would cascade-delete snapshot_disks under foreign_keys=ON).
    sql: `
      CREATE TABLE guests_v4 (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hypervisor TEXT,
        folder TEXT,
        first_seen_ms INTEGER NOT NULL
      );
      INSERT INTO guests_v4 (id, name, hypervisor, first_seen_ms) SELECT 'name:' || name, name, hypervisor, first_seen_ms FROM guests;
      INSERT OR IGNORE INTO guests_v4 (id, name, first_seen_ms) SELECT 'name:' || guest, guest, MIN(time_ms) FROM snapshots GROUP BY guest;
      DROP TABLE guests;
      ALTER TABLE guests_v4 RENAME TO guests;
      CREATE TABLE guest_aliases (
        alias TEXT PRIMARY KEY,
        guest_id TEXT NOT NULL REFERENCES guests(id) ON DELETE CASCADE
      );
      ALTER TABLE snapshots ADD COLUMN guest_id TEXT REFERENCES guests(id);
      UPDATE snapshots SET guest_id = 'name:' || guest;
      CREATE INDEX snapshots_guest_id_time ON snapshots (guest_id, time_ms);
      ALTER TABLE jobs ADD COLUMN guest_id TEXT;
      UPDATE jobs SET guest_id = 'name:' || guest WHERE guest IS NOT NULL;
      CREATE INDEX jobs_guest_id ON jobs (guest_id, created_ms);
      CREATE TABLE schedules_v4 (
        guest_id TEXT PRIMARY KEY,
        schedule_json TEXT NOT NULL
      );
      INSERT INTO schedules_v4 (guest_id, schedule_json) SELECT 'name:' || guest, json_set(schedule_json, '$.guestId', 'name:' || guest) FROM schedules;
      DROP TABLE schedules;
      ALTER TABLE schedules_v4 RENAME TO schedules;
      CREATE TABLE retention_v4 (
        guest_id TEXT PRIMARY KEY,
        guest TEXT NOT NULL,
        policy_json TEXT NOT NULL
      );
      INSERT INTO retention_v4 (guest_id, guest, policy_json) SELECT 'name:' || guest, guest, policy_json FROM retention_policies;
      DROP TABLE retention_policies;
      ALTER TABLE retention_v4 RENAME TO retention_policies;
      UPDATE settings SET key = 'scheduler.state.name:' || substr(key, 17) WHERE key LIKE 'scheduler.state.%';
    `,
  },
];

/** The schema version this build writes. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * The SQLite catalog: jobs and their logs, schedules, retention policies, settings, and a cache
 * of the repository's snapshots. The only module that imports better-sqlite3. See README.md.
 */
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { openCatalogDb, schemaVersion, type Db, type OpenDbOptions } from './catalog-db.js';
import { createJobStores, type JobLogStore, type JobStore } from './job-queries.js';
import { createPolicyStores, type RetentionStore, type ScheduleStore, type SettingStore } from './policy-queries.js';
import { createSnapshotStores, type GuestStore, type SnapshotStore } from './snapshot-queries.js';

export type { JobStore, JobLogStore } from './job-queries.js';
export type { ScheduleStore, RetentionStore, SettingStore } from './policy-queries.js';
export type { SnapshotStore, GuestStore } from './snapshot-queries.js';
export { LATEST_VERSION } from './migrations/migrations.js';

/** File name of the catalog inside the app data folder. */
export const CATALOG_FILE = 'catalog.sqlite';

/** The catalog path for an app data folder. */
export function catalogPath(dataDir: string): string {
  return join(dataDir, CATALOG_FILE);
}

/**
 * An open catalog. Every method is synchronous (better-sqlite3) and safe to use from several
 * processes at once (WAL + busy timeout). Caller must `close()` it.
 */
export interface Catalog {
  readonly file: string;
  readonly jobs: JobStore;
  readonly jobLog: JobLogStore;
  readonly schedules: ScheduleStore;
  readonly retention: RetentionStore;
  readonly settings: SettingStore;
  readonly snapshots: SnapshotStore;
  readonly guests: GuestStore;
  /** Current schema version. */
  version(): number;
  /** Runs `fn` in one IMMEDIATE transaction. */
  transaction<T>(fn: () => T): T;
  /** `PRAGMA integrity_check` result ('ok' when healthy). */
  integrityCheck(): string;
  close(): void;
}

/** Options of openCatalog. */
export interface OpenCatalogOptions extends OpenDbOptions {
  /** Epoch-ms source (the engine Clock's `now`). */
  now?: () => number;
}

/** Opens (creating and migrating as needed) the catalog file. */
export function openCatalog(file: string, opts: OpenCatalogOptions = {}): Catalog {
  const db: Db = openCatalogDb(file, opts);
  const now = opts.now ?? systemClock.now;
  return {
    file,
    ...createJobStores(db),
    ...createPolicyStores(db),
    ...createSnapshotStores(db, now),
    version: () => schemaVersion(db),
    transaction: <T>(fn: () => T) => db.transaction(fn).immediate(),
    integrityCheck: () => String(db.pragma('integrity_check', { simple: true })),
    close: () => {
      if (db.open) db.close();
    },
  };
}

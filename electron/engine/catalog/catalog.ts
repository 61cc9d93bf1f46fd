/**
 * The SQLite catalog: jobs and their logs, schedules, retention policies, settings, and a cache
 * of the repository's snapshots. The only module that imports better-sqlite3. See README.md.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAppError } from '../../../shared/errors/app-error.js';
import type { CatalogRecovery } from '../../../shared/domain/engine.js';
import { systemClock } from '../core/clock.js';
import { openCatalogDb, schemaVersion, type Db, type OpenDbOptions } from './catalog-db.js';
import { policyMirrorPath, readPolicyMirror, writePolicyMirror } from './policy-mirror.js';
import { createJobStores, type JobLogStore, type JobStore } from './job-queries.js';
import { createPolicyStores, type RetentionStore, type ScheduleStore, type SettingStore } from './policy-queries.js';
import { createSnapshotStores, type GuestStore, type SnapshotStore } from './snapshot-queries.js';

export type { JobStore, JobLogStore } from './job-queries.js';
export type { ScheduleStore, RetentionStore, RetentionEntry, SettingStore } from './policy-queries.js';
export type { SnapshotStore, GuestStore, GuestRecord } from './snapshot-queries.js';
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
  /**
   * Set when this open had to recreate the catalog (the file was damaged and moved aside, or it
   * was missing while `policies.json` remained): what happened and what came back. Announce it.
   */
  readonly recovered?: CatalogRecovery;
  close(): void;
}

/** Options of openCatalog. */
export interface OpenCatalogOptions extends OpenDbOptions {
  /** Epoch-ms source (the engine Clock's `now`). */
  now?: () => number;
}

/** `20261207T164500Z`: a file-name-safe UTC time. */
function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Moves a damaged catalog (and its WAL) aside as `catalog.sqlite.corrupt-<time>`; returns the new name. */
function moveAside(file: string, nowMs: number): string {
  const to = `${file}.corrupt-${stamp(nowMs)}`;
  renameSync(file, to);
  if (existsSync(`${file}-wal`)) renameSync(`${file}-wal`, `${to}-wal`);
  rmSync(`${file}-shm`, { force: true });
  return to;
}

/**
 * Opens (creating and migrating as needed) the catalog file. A damaged file (not a database,
 * truncated, failing `quick_check`) is moved aside as `catalog.sqlite.corrupt-<time>` and a new
 * one created; snapshots come back from the repository at the next sync, and schedules,
 * retention policies and settings from `policies.json`, which mirrors them on every change.
 * `recovered` says what happened (the engine logs it, notifies and shows it in its status).
 */
export function openCatalog(file: string, opts: OpenCatalogOptions = {}): Catalog {
  const now = opts.now ?? systemClock.now;
  const onDisk = file !== ':memory:';
  const existed = onDisk && existsSync(file);
  let db: Db;
  let recovered: CatalogRecovery | undefined;
  try {
    db = openCatalogDb(file, opts);
  } catch (e) {
    if (!onDisk || !isAppError(e, 'CATALOG_CORRUPT') || e.details?.reason !== 'corrupt') throw e;
    const movedTo = moveAside(file, now());
    db = openCatalogDb(file, opts);
    recovered = { reason: 'corrupt', at: new Date(now()).toISOString(), movedTo, error: e.message, restored: null };
  }
  const policies = createPolicyStores(db);
  const mirrorFile = policyMirrorPath(file);
  const mirror = () => {
    if (!onDisk) return;
    writePolicyMirror(mirrorFile, { format: 1, schedules: policies.schedules.list(), retention: policies.retention.list(), settings: policies.settings.all() });
  };
  if (onDisk && (recovered || !existed)) {
    const m = readPolicyMirror(mirrorFile);
    if (m) {
      db.transaction(() => {
        for (const s of m.schedules) policies.schedules.set(s);
        for (const r of m.retention) policies.retention.set(r.guestId, r.guest, r.policy);
        for (const [k, v] of Object.entries(m.settings)) policies.settings.set(k, v);
      }).immediate();
      recovered ??= { reason: 'missing', at: new Date(now()).toISOString(), restored: null };
      recovered.restored = { schedules: m.schedules.length, retention: m.retention.length, settings: Object.keys(m.settings).length };
    }
  }
  // an existing catalog without a mirror (made by an older version) gets one now
  if (onDisk && !existsSync(mirrorFile)) mirror();
  const mirrored = <T extends object>(store: T, mutators: (keyof T)[]): T => {
    const out = { ...store };
    for (const k of mutators) {
      const fn = store[k] as (...a: unknown[]) => unknown;
      (out as Record<keyof T, unknown>)[k] = (...a: unknown[]) => {
        const r = fn(...a);
        mirror();
        return r;
      };
    }
    return out;
  };
  return {
    file,
    ...createJobStores(db),
    schedules: mirrored(policies.schedules, ['set', 'delete']),
    retention: mirrored(policies.retention, ['set', 'delete']),
    settings: mirrored(policies.settings, ['set', 'delete']),
    ...createSnapshotStores(db, now),
    version: () => schemaVersion(db),
    transaction: <T>(fn: () => T) => db.transaction(fn).immediate(),
    integrityCheck: () => String(db.pragma('integrity_check', { simple: true })),
    ...(recovered ? { recovered } : {}),
    close: () => {
      if (db.open) db.close();
    },
  };
}

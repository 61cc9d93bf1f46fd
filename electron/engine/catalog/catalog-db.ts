import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import { LATEST_VERSION, MIGRATIONS, type Migration } from './migrations/migrations.js';

/** The raw better-sqlite3 handle type (only code inside catalog/ sees it). */
export type Db = Database.Database;

/** Options of openCatalogDb. */
export interface OpenDbOptions {
  /** Apply migrations up to this version only (tests of individual migrations). */
  migrateTo?: number;
  /** Milliseconds to wait for another process's write lock (default 10 s). */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the catalog database at `file`: WAL journal, NORMAL sync (durable
 * at checkpoints, never corrupt), foreign keys on, busy timeout so several processes (app, CLI,
 * background service) can share it, then applies pending migrations. A file that is not a
 * SQLite database or fails `quick_check` is CATALOG_CORRUPT (rebuild it from the repository).
 */
export function openCatalogDb(file: string, opts: OpenDbOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file, { timeout: opts.busyTimeoutMs ?? 10_000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
  } catch (cause) {
    // only a damaged file is `corrupt` (moved aside and rebuilt by openCatalog); a busy or
    // unreadable one is not, and is never touched
    const code = String((cause as { code?: unknown }).code ?? '');
    const reason = code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT') ? 'corrupt' : 'unavailable';
    throw new AppError('CATALOG_CORRUPT', `unable to open catalog '${file}': ${(cause as Error).message}`, { cause, details: { file, reason } });
  }
  migrate(db, opts.migrateTo ?? LATEST_VERSION);
  return db;
}

/** The schema version of an open database (`PRAGMA user_version`). */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every migration above the current version up to `target`, each in its own
 * IMMEDIATE transaction (so two processes opening a fresh catalog do not both migrate).
 * A database newer than this build is refused rather than misread.
 */
export function migrate(db: Db, target: number = LATEST_VERSION, migrations: Migration[] = MIGRATIONS): void {
  const current = schemaVersion(db);
  if (current > LATEST_VERSION) {
    throw new AppError('CATALOG_CORRUPT', `catalog schema version ${current} is newer than this version of twinsnap supports (${LATEST_VERSION})`, { details: { reason: 'newer' } });
  }
  for (const m of migrations) {
    if (m.version > target) break;
    const apply = db.transaction(() => {
      // re-read inside the write lock: another process may have migrated meanwhile
      if (schemaVersion(db) >= m.version) return;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    });
    apply.immediate();
  }
}

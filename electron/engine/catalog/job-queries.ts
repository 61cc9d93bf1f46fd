import type { GuestId } from '../../../shared/domain/guest-id.js';
import type { JobInfo, JobLogLine } from '../../../shared/domain/job.js';
import { AppError } from '../../../shared/errors/app-error.js';
import type { Db } from './catalog-db.js';

/** Jobs table: the whole JobInfo as JSON plus indexed columns for listing. */
export interface JobStore {
  /** Inserts a new job (ALREADY_EXISTS if the id is taken). */
  insert(job: JobInfo): void;
  /** Merges `patch` into the stored job and returns the result (JOB_NOT_FOUND if absent). */
  update(jobId: string, patch: Partial<Omit<JobInfo, 'id'>>): JobInfo;
  /** The job, or undefined. */
  get(jobId: string): JobInfo | undefined;
  /** Newest first, optionally for one guest (by id), at most `limit` (default 100). */
  list(opts?: { guestId?: GuestId; limit?: number; status?: JobInfo['status'][] }): JobInfo[];
  /** Deletes a job and its log lines. */
  delete(jobId: string): void;
}

/** Job step log lines, in append order. */
export interface JobLogStore {
  /** Appends one line. */
  append(jobId: string, line: JobLogLine): void;
  /** All lines of a job, oldest first. */
  list(jobId: string): JobLogLine[];
}

/** Creates the job stores over `db`. */
export function createJobStores(db: Db): { jobs: JobStore; jobLog: JobLogStore } {
  const ins = db.prepare('INSERT INTO jobs (id, kind, guest, guest_id, status, created_ms, info_json) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const upd = db.prepare('UPDATE jobs SET kind = ?, guest = ?, status = ?, info_json = ? WHERE id = ?');
  const one = db.prepare('SELECT info_json, guest_id FROM jobs WHERE id = ?');
  // the guest_id column is the truth (an adopted `name:` id is re-keyed there, not in the JSON)
  const withId = (r: { info_json: string; guest_id: string | null }): JobInfo => {
    const j = JSON.parse(r.info_json) as JobInfo;
    return r.guest_id ? { ...j, guestId: r.guest_id as GuestId } : j;
  };
  const del = db.prepare('DELETE FROM jobs WHERE id = ?');
  const delLog = db.prepare('DELETE FROM job_logs WHERE job_id = ?');
  const insLog = db.prepare('INSERT INTO job_logs (job_id, at, level, step, message) VALUES (?, ?, ?, ?, ?)');
  const listLog = db.prepare('SELECT at, level, step, message FROM job_logs WHERE job_id = ? ORDER BY seq');
  const get = (id: string): JobInfo | undefined => {
    const r = one.get(id) as { info_json: string; guest_id: string | null } | undefined;
    return r ? withId(r) : undefined;
  };
  const jobs: JobStore = {
    insert(job) {
      try {
        ins.run(job.id, job.kind, job.guest ?? null, job.guestId ?? null, job.status, Date.parse(job.createdAt) || 0, JSON.stringify(job));
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AppError('ALREADY_EXISTS', `job '${job.id}' already exists`);
        throw e;
      }
    },
    update: db.transaction((jobId: string, patch: Partial<JobInfo>) => {
      const cur = get(jobId);
      if (!cur) throw new AppError('JOB_NOT_FOUND', `job '${jobId}' not found`);
      const next: JobInfo = { ...cur, ...patch, id: jobId };
      upd.run(next.kind, next.guest ?? null, next.status, JSON.stringify(next), jobId);
      return next;
    }) as JobStore['update'],
    get,
    list(opts = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (opts.guestId) {
        where.push('guest_id = ?');
        args.push(opts.guestId);
      }
      if (opts.status?.length) {
        where.push(`status IN (${opts.status.map(() => '?').join(',')})`);
        args.push(...opts.status);
      }
      const sql = `SELECT info_json, guest_id FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_ms DESC, id DESC LIMIT ?`;
      args.push(opts.limit ?? 100);
      return (db.prepare(sql).all(...args) as { info_json: string; guest_id: string | null }[]).map(withId);
    },
    delete: db.transaction((jobId: string) => {
      delLog.run(jobId);
      del.run(jobId);
    }) as (jobId: string) => void,
  };
  const jobLog: JobLogStore = {
    append(jobId, l) {
      insLog.run(jobId, l.at, l.level, l.step ?? null, l.message);
    },
    list(jobId) {
      return (listLog.all(jobId) as { at: string; level: JobLogLine['level']; step: string | null; message: string }[]).map((r) => ({
        at: r.at,
        level: r.level,
        message: r.message,
        ...(r.step ? { step: r.step } : {}),
      }));
    },
  };
  return { jobs, jobLog };
}

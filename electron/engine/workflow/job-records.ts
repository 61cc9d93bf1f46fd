import type { JobInfo, JobLogLine } from '../../../shared/domain/job.js';
import { AppError } from '../../../shared/errors/app-error.js';

/**
 * Where jobs and their logs are recorded (the catalog's `jobs` / `job_logs` tables). The shape
 * matches the catalog's JobStore / JobLogStore, so a Catalog can be passed as is.
 */
export interface JobRecords {
  jobs: {
    insert(job: JobInfo): void;
    update(jobId: string, patch: Partial<Omit<JobInfo, 'id'>>): JobInfo;
    get(jobId: string): JobInfo | undefined;
    list(opts?: { guest?: string; limit?: number; status?: JobInfo['status'][] }): JobInfo[];
  };
  jobLog: {
    append(jobId: string, line: JobLogLine): void;
    list(jobId: string): JobLogLine[];
  };
}

/** JobRecords in memory (tests, and engines without a catalog). */
export function memoryJobRecords(): JobRecords {
  const jobs = new Map<string, JobInfo>();
  const logs = new Map<string, JobLogLine[]>();
  return {
    jobs: {
      insert(job) {
        if (jobs.has(job.id)) throw new AppError('ALREADY_EXISTS', `job '${job.id}' already exists`);
        jobs.set(job.id, structuredClone(job));
      },
      update(jobId, patch) {
        const cur = jobs.get(jobId);
        if (!cur) throw new AppError('JOB_NOT_FOUND', `job '${jobId}' not found`);
        const next = structuredClone({ ...cur, ...patch, id: jobId }) as JobInfo;
        jobs.set(jobId, next);
        return structuredClone(next);
      },
      get: (jobId) => {
        const j = jobs.get(jobId);
        return j ? structuredClone(j) : undefined;
      },
      list(opts = {}) {
        return [...jobs.values()]
          .filter((j) => !opts.guest || j.guest === opts.guest)
          .filter((j) => !opts.status?.length || opts.status.includes(j.status))
          .sort((a, b) => (a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt)))
          .slice(0, opts.limit ?? 100)
          .map((j) => structuredClone(j));
      },
    },
    jobLog: {
      append(jobId, line) {
        const l = logs.get(jobId) ?? [];
        l.push({ ...line });
        logs.set(jobId, l);
      },
      list: (jobId) => (logs.get(jobId) ?? []).map((l) => ({ ...l })),
    },
  };
}

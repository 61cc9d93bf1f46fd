import type { JobInfo, JobProgress } from '../../../../shared/domain/job.js';
import { friendlyError } from '../../app/error-messages.js';
import { idle, loaded, track, type Loadable } from '../loadable.js';
import type { SliceCreator } from './types.js';

/** Live rate figures of a running job (from jobs.progress). */
export interface JobRate {
  bytesPerSecond?: number;
  etaSeconds?: number;
  step?: string;
}

/** Jobs: the list, live progress and the actions that start or stop them. */
export interface JobsSlice {
  jobs: Loadable<JobInfo[]>;
  rates: Record<string, JobRate>;
  refreshJobs(): Promise<void>;
  applyProgress(p: JobProgress): void;
  applyFinished(j: JobInfo): void;
  /** Starts backups; returns the new job ids (empty on failure, which is reported as a notice). */
  backupNow(guests: string[]): Promise<string[]>;
  cancelJob(jobId: string): Promise<boolean>;
}

/** Newest first, by creation time. */
export function sortJobs(jobs: JobInfo[]): JobInfo[] {
  return [...jobs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

const STATUS_RANK: Record<JobInfo['status'], number> = { queued: 0, running: 1, succeeded: 2, warning: 2, failed: 2, cancelled: 2 };

/**
 * How far a job has got, for ordering two copies of the same job: finished beats running beats
 * queued; among running copies, the one with more steps started or over wins.
 */
export function jobProgressRank(j: JobInfo): number {
  let steps = 0;
  for (const s of j.steps) steps += s.status === 'pending' ? 0 : s.status === 'running' ? 1 : 2;
  return STATUS_RANK[j.status] * 10_000 + steps;
}

/**
 * Merges a fetched job list with what the store already has: a copy that live events moved
 * further while the list was in flight is kept (a stale list must never roll a job back, e.g.
 * show a finished backup as still at pre-flight).
 */
export function mergeJobs(current: JobInfo[] | undefined, fetched: JobInfo[]): JobInfo[] {
  if (!current?.length) return sortJobs(fetched);
  const mine = new Map(current.map((j) => [j.id, j]));
  const out = fetched.map((f) => {
    const c = mine.get(f.id);
    return c && jobProgressRank(c) > jobProgressRank(f) ? c : f;
  });
  const seen = new Set(fetched.map((f) => f.id));
  // Jobs announced by events after the list was taken (not in it yet) stay, if still active.
  for (const c of current) if (!seen.has(c.id) && (c.status === 'running' || c.status === 'queued')) out.push(c);
  return sortJobs(out);
}

/** Replaces (or inserts) a job in a list. */
export function upsertJob(list: JobInfo[] | undefined, job: JobInfo): JobInfo[] {
  const rest = (list ?? []).filter((j) => j.id !== job.id);
  return sortJobs([job, ...rest]);
}

/** Creates the jobs slice. */
export const createJobsSlice: SliceCreator<JobsSlice> = (deps) => (set, get) => ({
  jobs: idle(),
  rates: {},
  async refreshJobs() {
    await track(
      () => get().jobs,
      (jobs) => set({ jobs }),
      async () => {
        const fetched = await deps.engine['jobs.list']({ limit: 500 });
        return mergeJobs(get().jobs.data, fetched);
      },
    );
  },
  applyProgress(p) {
    const { jobs, rates } = get();
    const have = jobs.data?.find((j) => j.id === p.jobId);
    // A late throttled progress event must not roll back a job that already finished.
    if (have && jobProgressRank(have) > jobProgressRank(p.job) && have.status !== 'running') return;
    set({
      jobs: { ...(jobs.data ? jobs : loaded<JobInfo[]>([])), data: upsertJob(jobs.data, p.job) },
      rates: { ...rates, [p.jobId]: { bytesPerSecond: p.bytesPerSecond, etaSeconds: p.etaSeconds, step: p.step } },
    });
  },
  applyFinished(job) {
    const { jobs, rates } = get();
    const nextRates = { ...rates };
    delete nextRates[job.id];
    set({ jobs: { ...(jobs.data ? jobs : loaded<JobInfo[]>([])), data: upsertJob(jobs.data, job) }, rates: nextRates });
  },
  async backupNow(guests) {
    try {
      const { jobIds } = await deps.engine['jobs.backupNow']({ guests });
      get().notify(jobIds.length === 1 ? 'Backup started' : `${jobIds.length} backups started`, 'success');
      void get().refreshJobs();
      return jobIds;
    } catch (e) {
      get().notifyError(e, 'Back up now');
      return [];
    }
  },
  async cancelJob(jobId) {
    try {
      const { cancelled } = await deps.engine['jobs.cancel']({ jobId });
      get().notify(cancelled ? 'Cancelling…' : 'The job had already finished', 'info');
      return cancelled;
    } catch (e) {
      get().notify(friendlyError(e).title, 'error');
      return false;
    }
  },
});

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
      async () => sortJobs(await deps.engine['jobs.list']({ limit: 500 })),
    );
  },
  applyProgress(p) {
    const { jobs, rates } = get();
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

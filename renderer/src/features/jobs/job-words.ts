import type { JobKind, JobStatus, JobTrigger } from '../../../../shared/domain/job.js';

/** Job kinds in words. */
export const JOB_KIND: Record<JobKind, string> = {
  backup: 'backup',
  restore: 'restore',
  verify: 'verify',
  gc: 'garbage collection',
  forget: 'forget',
  import: 'import',
  maintenance: 'maintenance',
  offsite: 'offsite copy',
};

/** Job statuses in words. */
export const JOB_STATUS: Record<JobStatus, string> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  warning: 'finished with warnings',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** Who started a job, in words. */
export const JOB_TRIGGER: Record<JobTrigger, string> = {
  manual: 'started by hand',
  scheduled: 'scheduled',
};

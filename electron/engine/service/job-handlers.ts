import type { BackupReport, JobInfo } from '../../../shared/domain/job.js';
import type { BackupOutcome } from '../workflow/backup-run.js';
import type { HandlerFactory } from './handlers.js';

const r1 = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);

/** The report of a finished backup (what `jobs.wait` returns). */
export function backupReport(job: JobInfo, o: BackupOutcome): BackupReport {
  const m = o.metrics;
  return {
    jobId: job.id,
    guest: job.guest ?? '',
    status: o.status,
    snapshotId: o.snapshotId,
    consistency: o.consistency,
    pauseMs: r1(m.pauseMs),
    engineShareMs: r1(m.engineShareMs),
    hypervisorFreezeMs: r1(m.hvFreezeMs),
    hypervisorResumeMs: r1(m.hvResumeMs),
    twinBootMs: r1(m.twinBootMs),
    twinShutdownMs: r1(m.twinShutdownMs),
    steps: Object.fromEntries(Object.entries(m.steps).map(([k, v]) => [k, Math.round(v)])),
    bytes: { logical: o.logicalBytes, new: o.newBytes, archived: m.archiveBytes, MBps: r1(m.archiveMBps) },
    verify: o.verify ? { ok: o.verify.ok, bootMs: r1(o.verify.bootMs), detail: o.verify.detail } : undefined,
    twin: o.twin,
    warnings: o.warnings,
    error: o.error,
  };
}

/** jobs.backupNow / list / get / log / cancel / wait over the engine's job manager. */
export const jobHandlers: HandlerFactory = (ctx) => {
  const jobs = () => ctx.jobs.started();
  return {
    'jobs.backupNow': async (req) => (await jobs()).backupNow(req),
    'jobs.list': async (req) => (await jobs()).list(req),
    'jobs.get': async ({ jobId }) => (await jobs()).get(jobId),
    'jobs.log': async ({ jobId }) => (await jobs()).log(jobId),
    'jobs.cancel': async ({ jobId }) => (await jobs()).cancel(jobId),
    'jobs.wait': async ({ jobId }) => {
      const manager = await jobs();
      const outcome = await manager.wait(jobId);
      return backupReport(manager.get(jobId), outcome);
    },
  };
};

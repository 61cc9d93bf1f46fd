import type { BackupReport, JobInfo } from '../../../shared/domain/job.js';
import type { BackupOutcome } from '../workflow/backup-run.js';
import type { BackupTarget } from '../workflow/job-manager.js';
import type { HandlerFactory } from './handlers.js';

const r1 = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);

/** The report of a finished backup (what `jobs.wait` returns). */
export function backupReport(job: JobInfo, o: BackupOutcome): BackupReport {
  const m = o.metrics;
  return {
    jobId: job.id,
    guest: job.guest ?? '',
    ...(job.guestId ? { guestId: job.guestId } : {}),
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
    'jobs.backupNow': async ({ guests, consistency, verify }) => {
      const m = await jobs();
      // one listing for all of them ("back up all" with N guests must not list N times)
      const live = await ctx.guests.live();
      const targets: BackupTarget[] = [];
      for (const ref of guests) {
        const g = await ctx.guests.resolve(ref, { liveOnly: true, live });
        if (!targets.some((t) => t.guestId === g.id)) targets.push({ guestId: g.id, hypervisor: g.live!.hypervisor, vm: g.live!.vm });
      }
      return m.backupNow({ targets, consistency, verify });
    },
    'jobs.list': async ({ guest, limit }) => {
      const guestId = guest ? (await ctx.guests.resolve(guest)).id : undefined;
      return (await jobs()).list({ ...(guestId ? { guestId } : {}), ...(limit ? { limit } : {}) });
    },
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

import { syncCatalog } from '../repository/repository.js';
import { JobManager, type BackupTarget } from '../workflow/job-manager.js';
import { getGuestDirectory } from './guest-directory.js';
import type { BackupStepId } from '../workflow/backup-steps.js';
import { RepositorySnapshotSink } from '../workflow/repository-snapshot-sink.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';
import { getCatalog, getRepository } from './repository-access.js';

/** The engine's job manager plus the promise of its start-up crash recovery. */
export interface JobService {
  manager: JobManager;
  /** Resolves once interrupted jobs of earlier engines have been recovered (never rejects). */
  ready: Promise<void>;
}

/**
 * The engine's single JobManager (created on first use; recovery of interrupted jobs runs then,
 * before any new job starts). Shared with the scheduler and the CLI.
 * `ctx.options.stepTimeouts` may override per-step time limits (tests, simulators).
 */
export function getJobService(ctx: EngineContext): JobService {
  return ctx.lazy('jobService', () => {
    const catalog = getCatalog(ctx);
    const manager = new JobManager({
      clock: ctx.clock,
      logger: ctx.logger.child({ area: 'workflow' }),
      dataDir: ctx.dataDir,
      hypervisors: ctx.hypervisors,
      records: { jobs: catalog.jobs, jobLog: catalog.jobLog },
      sink: new RepositorySnapshotSink(() => getRepository(ctx), () => ctx.clock.now(), (s) => catalog.snapshots.upsert(s)),
      maxConcurrentTwins: ctx.config().maxConcurrentTwins,
      timeouts: ctx.options.stepTimeouts as Partial<Record<BackupStepId, number>> | undefined,
      events: {
        progress: (p) => ctx.emit('jobs.progress', p),
        finished: (job) => {
          // Bring the catalog's snapshot cache up to date before telling clients.
          void (async () => {
            if (job.snapshotId) {
              try {
                await syncCatalog(await getRepository(ctx), catalog);
              } catch (e) {
                ctx.logger.warn('could not sync the catalog after a backup', { error: e, jobId: job.id });
              }
            }
            ctx.emit('jobs.finished', job);
          })();
        },
      },
    });
    ctx.onClose(() => manager.close());
    const ready = manager.recover().then(
      (res) => {
        for (const r of res) ctx.logger[r.recovered ? 'warn' : 'error']('interrupted job recovered at start-up', { ...r });
      },
      (e) => ctx.logger.error('crash recovery failed', { error: e }),
    );
    return { manager, ready };
  });
}

/** jobs.backupNow / list / get / log / cancel. Also feeds `engine.status`'s running-job count. */
export const jobHandlers: HandlerFactory = (ctx) => {
  let created = false;
  const jobs = async () => {
    const s = getJobService(ctx);
    created = true;
    await s.ready;
    return s.manager;
  };
  ctx.lazy('runningJobs', () => ({ count: () => (created ? getJobService(ctx).manager.runningCount() : 0) }));
  return {
    'jobs.backupNow': async ({ guests, consistency, verify }) => {
      const m = await jobs();
      m.twinSlots.setLimit(ctx.config().maxConcurrentTwins);
      // one listing for all of them ("back up all" with N guests must not list N times)
      const dir = getGuestDirectory(ctx);
      const live = await dir.live();
      const targets: BackupTarget[] = [];
      for (const ref of guests) {
        const g = await dir.resolve(ref, { liveOnly: true, live });
        if (!targets.some((t) => t.guestId === g.id)) targets.push({ guestId: g.id, hypervisor: g.live!.hypervisor, vm: g.live!.vm });
      }
      return m.backupNow({ targets, consistency, verify });
    },
    'jobs.list': async ({ guest, limit }) => {
      const guestId = guest ? (await getGuestDirectory(ctx).resolve(guest)).id : undefined;
      return (await jobs()).list({ ...(guestId ? { guestId } : {}), ...(limit ? { limit } : {}) });
    },
    'jobs.get': async ({ jobId }) => (await jobs()).get(jobId),
    'jobs.log': async ({ jobId }) => (await jobs()).log(jobId),
    'jobs.cancel': async ({ jobId }) => (await jobs()).cancel(jobId),
  };
};

/** A finished backup as the scheduler sees it (structurally the scheduler's `JobResult`). */
export interface LaunchedBackup {
  jobId?: string;
  status: 'succeeded' | 'warning' | 'failed' | 'cancelled';
  snapshotId?: string;
  error?: { code: string; message: string };
  warnings: string[];
  bytes?: number;
}

/**
 * The scheduler's BackupLauncher over the engine's JobManager (structurally typed, so the
 * scheduler's port can take it as is): starts a backup and resolves when it ends; never rejects.
 */
export function jobBackupLauncher(ctx: EngineContext): {
  start(guestId: string, opts: { consistency?: 'require-clean' | 'allow-crash'; verify?: boolean; trigger?: 'manual' | 'scheduled' }): Promise<LaunchedBackup>;
} {
  return {
    async start(guestId, opts) {
      const { manager, ready } = getJobService(ctx);
      await ready;
      manager.twinSlots.setLimit(ctx.config().maxConcurrentTwins);
      let jobId: string | undefined;
      try {
        // schedules are keyed by id: a renamed VM keeps its schedule, a same-named one never gets it
        const g = await getGuestDirectory(ctx).resolve(guestId, { liveOnly: true });
        jobId = (await manager.backupNow({ targets: [{ guestId: g.id, hypervisor: g.live!.hypervisor, vm: g.live!.vm }], consistency: opts.consistency, verify: opts.verify, trigger: opts.trigger ?? 'scheduled' })).jobIds[0]!;
        const o = await manager.wait(jobId);
        return { jobId, status: o.status, snapshotId: o.snapshotId, error: o.error, warnings: o.warnings, bytes: o.logicalBytes };
      } catch (e) {
        const err = e as { code?: string; message?: string };
        return { jobId, status: 'failed', error: { code: err.code ?? 'INTERNAL', message: err.message ?? String(e) }, warnings: [] };
      }
    },
  };
}

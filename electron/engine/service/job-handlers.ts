import { syncCatalog } from '../repository/repository.js';
import { JobManager } from '../workflow/job-manager.js';
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
    'jobs.backupNow': async (req) => {
      const m = await jobs();
      m.twinSlots.setLimit(ctx.config().maxConcurrentTwins);
      return m.backupNow(req);
    },
    'jobs.list': async (req) => (await jobs()).list(req),
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
  start(guest: string, opts: { consistency?: 'require-clean' | 'allow-crash'; verify?: boolean; trigger?: 'manual' | 'scheduled' }): Promise<LaunchedBackup>;
} {
  return {
    async start(guest, opts) {
      const { manager, ready } = getJobService(ctx);
      await ready;
      manager.twinSlots.setLimit(ctx.config().maxConcurrentTwins);
      let jobId: string | undefined;
      try {
        jobId = (await manager.backupNow({ guests: [guest], consistency: opts.consistency, verify: opts.verify, trigger: opts.trigger ?? 'scheduled' })).jobIds[0]!;
        const o = await manager.wait(jobId);
        return { jobId, status: o.status, snapshotId: o.snapshotId, error: o.error, warnings: o.warnings, bytes: o.logicalBytes };
      } catch (e) {
        const err = e as { code?: string; message?: string };
        return { jobId, status: 'failed', error: { code: err.code ?? 'INTERNAL', message: err.message ?? String(e) }, warnings: [] };
      }
    },
  };
}

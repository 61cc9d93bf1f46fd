import { syncCatalog } from '../repository/repository.js';
import { JobManager } from '../workflow/job-manager.js';
import { RepositorySnapshotSink } from '../workflow/repository-snapshot-sink.js';
import type { EngineBase } from './engine-context.js';
import type { GuestDirectory } from './guest-directory.js';
import type { RepositoryAccess } from './repository-access.js';

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
 * The engine's single JobManager, created on first use: recovery of interrupted jobs of earlier
 * engines runs then, before any new job starts. Shared by the job handlers, the scheduler and
 * doctor. `tuning.stepTimeouts` may override per-step time limits (tests, simulators).
 */
export class JobService {
  private created?: { manager: JobManager; ready: Promise<void> };

  constructor(
    private readonly base: EngineBase,
    private readonly store: RepositoryAccess,
    private readonly guests: GuestDirectory,
  ) {}

  /** The job manager (created, and its recovery started, on first use). */
  get manager(): JobManager {
    return this.open().manager;
  }

  /** Resolves once interrupted jobs of earlier engines have been recovered (never rejects). */
  get ready(): Promise<void> {
    return this.open().ready;
  }

  /** The manager once recovery is done, with the twin limit of the live config applied. */
  async started(): Promise<JobManager> {
    const { manager, ready } = this.open();
    await ready;
    manager.twinSlots.setLimit(this.base.config().maxConcurrentTwins);
    return manager;
  }

  /** Backups running now (0 while no job was ever asked for: the manager is not created for it). */
  runningCount(): number {
    return this.created ? this.created.manager.runningCount() : 0;
  }

  /**
   * The scheduler's BackupLauncher over the job manager (structurally typed, so the scheduler's
   * port can take it as is): starts a backup and resolves when it ends; never rejects.
   */
  async launch(guestId: string, opts: { consistency?: 'require-clean' | 'allow-crash'; verify?: boolean; trigger?: 'manual' | 'scheduled' }): Promise<LaunchedBackup> {
    let jobId: string | undefined;
    try {
      const manager = await this.started();
      // schedules are keyed by id: a renamed VM keeps its schedule, a same-named one never gets it
      const g = await this.guests.resolve(guestId, { liveOnly: true });
      jobId = (
        await manager.backupNow({
          targets: [{ guestId: g.id, hypervisor: g.live!.hypervisor, vm: g.live!.vm }],
          consistency: opts.consistency,
          verify: opts.verify,
          trigger: opts.trigger ?? 'scheduled',
        })
      ).jobIds[0]!;
      return await this.outcomeOf(jobId);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      return { jobId, status: 'failed', error: { code: err.code ?? 'INTERNAL', message: err.message ?? String(e) }, warnings: [] };
    }
  }

  /** Waits for a job of this engine and returns its outcome in the launcher's terms. */
  async outcomeOf(jobId: string): Promise<LaunchedBackup> {
    const o = await this.manager.wait(jobId);
    return { jobId, status: o.status, snapshotId: o.snapshotId, error: o.error, warnings: o.warnings, bytes: o.logicalBytes };
  }

  private open(): { manager: JobManager; ready: Promise<void> } {
    if (this.created) return this.created;
    const { base, store } = this;
    const catalog = store.catalog();
    const manager = new JobManager({
      clock: base.clock,
      logger: base.logger.child({ area: 'workflow' }),
      dataDir: base.dataDir,
      hypervisors: base.hypervisors,
      records: { jobs: catalog.jobs, jobLog: catalog.jobLog },
      sink: new RepositorySnapshotSink(
        () => store.repository(),
        () => base.clock.now(),
        (s) => catalog.snapshots.upsert(s),
      ),
      maxConcurrentTwins: base.config().maxConcurrentTwins,
      timeouts: base.tuning.stepTimeouts,
      events: {
        progress: (p) => base.emit('jobs.progress', p),
        finished: (job) => {
          // Bring the catalog's snapshot cache up to date before telling clients.
          void (async () => {
            if (job.snapshotId) {
              try {
                await syncCatalog(await store.repository(), catalog);
              } catch (e) {
                base.logger.warn('could not sync the catalog after a backup', { error: e, jobId: job.id });
              }
            }
            base.emit('jobs.finished', job);
          })();
        },
      },
    });
    base.onClose(() => manager.close());
    const ready = manager.recover().then(
      (res) => {
        for (const r of res) base.logger[r.recovered ? 'warn' : 'error']('interrupted job recovered at start-up', { ...r });
      },
      (e) => base.logger.error('crash recovery failed', { error: e }),
    );
    this.created = { manager, ready };
    return this.created;
  }
}

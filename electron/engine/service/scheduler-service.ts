import { freemem } from 'node:os';
import type { GuestId } from '../../../shared/domain/guest-id.js';
import { syncCatalog } from '../repository/repository.js';
import type { Notifier } from '../notify/notifier.js';
import { CatalogScheduleStore } from '../scheduler/catalog-schedule-store.js';
import type { BackupLauncher, HostMemory, JobResult, MaintenanceRunner } from '../scheduler/ports.js';
import { SchedulerLock, type SchedulerLockHolder } from '../scheduler/scheduler-lock.js';
import { Scheduler, type SchedulerEvent } from '../scheduler/scheduler.js';
import type { EngineBase, RecordingDeps } from './engine-context.js';
import type { GuestDirectory } from './guest-directory.js';
import type { JobService } from './job-service.js';
import { recordFailedStart, runAsJob } from './job-traces.js';
import type { RepositoryAccess } from './repository-access.js';
import { verifyDetail, verifyRepository } from './repository-handlers.js';
import { runOffsiteCopy, runOffsitePrune, scheduledCopyOptions } from './offsite-access.js';

/** What the scheduler service is built from (see createEngine). */
export interface SchedulerServiceDeps extends EngineBase {
  readonly store: RepositoryAccess;
  readonly guests: GuestDirectory;
  readonly jobs: JobService;
  readonly notifier: Notifier;
}

/**
 * The engine's scheduler: always usable for schedules.*; its loop runs only in the process that
 * holds the repository's scheduler lock. The Scheduler itself is built on first use (it reads
 * the catalog); the engine stops it when it closes.
 */
export class SchedulerService {
  private built?: Scheduler;
  private lock?: SchedulerLock;
  private other?: SchedulerLockHolder;
  private readonly listeners = new Set<(e: SchedulerEvent) => void>();
  private readonly memory: HostMemory & { refresh(): Promise<void> };

  constructor(private readonly deps: SchedulerServiceDeps) {
    this.memory = hostMemory(deps);
  }

  get scheduler(): Scheduler {
    if (this.built) return this.built;
    const { deps } = this;
    const t = deps.tuning;
    this.built = new Scheduler({
      clock: deps.clock,
      logger: deps.logger.child({ area: 'scheduler' }),
      store: new CatalogScheduleStore(deps.store.catalog()),
      launcher: jobLauncher(deps.jobs),
      maintenance: repositoryMaintenance(deps),
      memory: this.memory,
      maxConcurrentTwins: () => deps.config().maxConcurrentTwins,
      // tuning (tests, `daemon --catch-up-grace`) wins over config.json's scheduler keys
      graceMs: t.catchUpGraceMs ?? deps.config().scheduler.catchUpGraceHours * 3_600_000,
      // read at each use: the Repository page's daily time (offsite.configure) changes it live
      maintenanceAt: () => t.maintenanceAt ?? deps.config().scheduler.maintenanceAt,
      maxSleepMs: t.schedulerMaxSleepMs,
      onEvent: (e) => {
        onSchedulerEvent(deps, e);
        for (const fn of this.listeners) fn(e);
      },
    });
    // registered after the catalog it uses, so the engine stops it before closing the catalog
    deps.onClose(() => this.stop());
    return this.built;
  }

  /** Whether this process runs the loop (holds the repository's scheduler lock). */
  running(): boolean {
    return this.lock !== undefined;
  }

  /** Who holds the lock when another process runs the scheduler. */
  holder(): SchedulerLockHolder | undefined {
    return this.other;
  }

  /** Tries to take the lock and start the loop; returns the other holder when it is taken. */
  start(o: { role?: string; endpoint?: string } = {}): { started: boolean; holder?: SchedulerLockHolder } {
    if (this.lock) return { started: true };
    const { deps } = this;
    const scheduler = this.scheduler;
    const r = SchedulerLock.acquire(deps.config().repository, { role: o.role ?? 'daemon', clock: deps.clock, endpoint: o.endpoint });
    if (!r.acquired) {
      this.other = r.holder;
      deps.logger.info('another process runs the scheduler of this repository; acting as its client', { ...r.holder });
      return { started: false, holder: r.holder };
    }
    this.lock = r.lock;
    const mine = this.lock;
    // Start once the guests' RAM is known, unless stopped meanwhile (engine closing).
    void this.memory.refresh().finally(() => {
      if (this.lock === mine) scheduler.start();
    });
    deps.logger.info('scheduler started', { repository: deps.config().repository });
    return { started: true };
  }

  async stop(o: { waitForRunning?: boolean } = {}): Promise<void> {
    await this.built?.stop(o);
    this.lock?.release();
    this.lock = undefined;
  }

  /** Subscribes to scheduler events (the daemon logs them); returns an unsubscribe function. */
  onEvent(fn: (e: SchedulerEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/**
 * Starts scheduled backups through the workflow's launcher (JobManager + live twin limit) and
 * adds what the scheduler needs on top: a backup started by hand that is already running serves
 * the slot (its outcome is reported), and the status is honest — a job that finished with
 * warnings (e.g. archived a crash-consistent fallback) is a warning, never a success.
 */
function jobLauncher(jobs: JobService): BackupLauncher {
  return {
    async start(guest, opts): Promise<JobResult> {
      let r: JobResult = await jobs.launch(guest, { consistency: opts.consistency, verify: opts.verify, trigger: 'scheduled' });
      if (r.status === 'failed' && r.error?.code === 'JOB_ALREADY_RUNNING') {
        const running = jobs.manager.list({ guestId: guest as GuestId, limit: 5 }).find((j) => j.status === 'running' || j.status === 'queued');
        if (running) r = await jobs.outcomeOf(running.id);
      }
      if (r.status === 'succeeded' && r.warnings.length > 0) r = { ...r, status: 'warning' };
      return r;
    },
  };
}

/** Retention, GC, a light verify and the scheduled offsite copy of the configured repository. */
export function repositoryMaintenance(ctx: RecordingDeps & Pick<EngineBase, 'config' | 's3Endpoint' | 'secrets' | 'dataDir'>): MaintenanceRunner {
  return {
    // the scheduled offsite job of the repository: a copy, then a prune of what retention forgot
    offsite: async () => {
      const o = ctx.config().offsite;
      if (!o) return;
      const repo = await ctx.store.repository();
      await runOffsiteCopy(ctx, repo, o, { trigger: 'scheduled', ...scheduledCopyOptions(o) });
      ctx.store.dropOffsite();
      await runOffsitePrune(ctx, repo, o);
    },
    // after each backup (one guest) quietly; the daily run over every guest is a job of its own
    forget: (guest) =>
      guest !== undefined
        ? forget(guest)
        : runAsJob(
            ctx,
            { kind: 'forget', trigger: 'scheduled', label: 'Apply every retention policy' },
            () => forget(),
            (r) => ({
              detail: r.forgotten ? `${r.forgotten} restore point(s) forgotten by the retention policies` : 'nothing to forget',
            }),
          ),
    gc: () =>
      runAsJob(
        ctx,
        { kind: 'gc', trigger: 'scheduled', label: 'Free unused space (gc)' },
        async () => {
          const r = await (await ctx.store.repository()).gc();
          return { removedChunks: r.removedChunks, freedBytes: r.freedBytes };
        },
        (r) => ({ detail: `${r.removedChunks} unused chunk(s) removed, ${Math.round(r.freedBytes / 1048576)} MiB freed` }),
      ),
    verify: () =>
      runAsJob(
        ctx,
        { kind: 'verify', trigger: 'scheduled', label: 'Verify the repository (light)' },
        () => verifyRepository(ctx, false),
        (r) => verifyDetail(r.damagedPoints),
      ),
  };
  async function forget(guest?: string): Promise<{ forgotten: number }> {
    const repo = await ctx.store.repository();
    const catalog = ctx.store.catalog();
    // by id: a guest that shares another's name never loses that one's snapshots
    const policies = catalog.retention.list().filter((p) => guest === undefined || p.guestId === guest);
    let forgotten = 0;
    for (const p of policies) {
      if (Object.keys(p.policy).length === 0) continue; // no policy = keep everything
      const r = await repo.applyRetention({ guestId: p.guestId, guest: p.guest, aliases: catalog.guests.aliases(p.guestId) }, p.policy);
      forgotten += r.forgetCount;
      if (r.forgetCount > 0) ctx.emit('snapshots.changed', { guest: p.guest, guestId: p.guestId });
    }
    if (forgotten > 0) await syncCatalog(repo, catalog);
    return { forgotten };
  }
}

/** Host memory from the OS; guests' RAM (by guest id) from the last guest listing (refreshed in the background). */
function hostMemory(ctx: Pick<EngineBase, 'logger'> & { readonly guests: GuestDirectory }): HostMemory & { refresh(): Promise<void> } {
  const ram = new Map<string, number>();
  return {
    freeMiB: () => Math.floor(freemem() / 1024 / 1024),
    requiredMiB: (guest) => ram.get(guest),
    async refresh() {
      try {
        for (const { guest, vm } of await ctx.guests.live()) if (vm.memoryMiB) ram.set(guest.id, vm.memoryMiB);
      } catch (e) {
        ctx.logger.debug('guest listing for the memory limit failed', { error: (e as Error).message });
      }
    },
  };
}

/** Forwards scheduler events to the job list, the log and the notifier. */
function onSchedulerEvent(ctx: RecordingDeps & { readonly notifier: Notifier }, e: SchedulerEvent): void {
  const traced = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      ctx.logger.error('could not record a scheduled run as a job', { guest: 'guest' in e ? e.guest : undefined, error: err });
      return undefined;
    }
  };
  const guestId = ('guestId' in e ? e.guestId : '') as GuestId;
  const guest = 'guest' in e ? e.guest : '';
  const n = ctx.notifier;
  const log = (p: Promise<unknown>) => void p.catch((err) => ctx.logger.warn('notification failed', { error: (err as Error).message }));
  switch (e.type) {
    case 'run-finished': {
      // A run that never became a job (the guest could not be found, no memory for a twin) is
      // recorded as a failed one: listed, a ✕ on the calendar, and named in the notification.
      let jobId = e.result.jobId;
      if (!jobId && e.result.status === 'failed') {
        jobId = traced(
          () =>
            recordFailedStart(
              ctx,
              { kind: 'backup', guest, guestId, trigger: 'scheduled', label: 'Start the scheduled backup' },
              e.result.error ?? { code: 'INTERNAL', message: 'the scheduled backup could not start' },
            ).id,
        );
      }
      log(n.backupFinished({ guest, jobId, status: e.result.status, error: e.result.error, warnings: e.result.warnings, slots: e.slots, trigger: e.trigger }));
      break;
    }
    case 'guest-stale':
      log(n.staleGuest(guest, e.lastSuccessAt, e.expectedMs));
      break;
    case 'runs-missed': {
      const when = e.slots.map((t) => new Date(t).toISOString().slice(0, 16).replace('T', ' ')).join(', ');
      traced(() =>
        recordFailedStart(
          ctx,
          { kind: 'backup', guest, guestId, trigger: 'scheduled', label: 'Start the scheduled backup' },
          { code: 'TIMEOUT', message: `${e.slots.length} scheduled run(s) of '${guest}' (${when} UTC) missed: ${e.reason}` },
        ),
      );
      log(n.missedRuns(guest, e.slots, e.reason));
      break;
    }
    case 'maintenance-finished':
      log(n.maintenanceFinished(e));
      break;
    default:
      break;
  }
}

import { SMTP_PASSWORD } from '../core/secrets.js';
import { freemem } from 'node:os';
import { AppError } from '../../../shared/errors/app-error.js';
import type { GuestSchedule } from '../../../shared/domain/policy.js';
import { syncCatalog } from '../repository/repository.js';
import { CatalogScheduleStore } from '../scheduler/catalog-schedule-store.js';
import type { BackupLauncher, HostMemory, JobResult, MaintenanceRunner } from '../scheduler/ports.js';
import { nextRuns, normalizeSchedule } from '../scheduler/schedule-spec.js';
import { SchedulerLock, type SchedulerLockHolder } from '../scheduler/scheduler-lock.js';
import { Scheduler, type SchedulerEvent } from '../scheduler/scheduler.js';
import { hostTimeZone } from '../scheduler/zoned-time.js';
import { SmtpEmailChannel } from '../notify/email-channel.js';
import type { NotificationChannel } from '../notify/notification.js';
import { Notifier } from '../notify/notifier.js';
import { HttpWebhookChannel } from '../notify/webhook-channel.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';
import { getJobService, jobBackupLauncher } from './job-handlers.js';
import { getCatalog, getRepository } from './repository-access.js';
import { recordFailedStart, runAsJob } from './job-traces.js';
import { verifyDetail, verifyRepository } from './repository-handlers.js';
import { runOffsiteCopy, runOffsitePrune } from './offsite-access.js';

/** How many upcoming runs schedules.list / set / preview show by default. */
const PREVIEW_COUNT = 5;

/** The notification channels configured in the settings. */
export function configuredChannels(ctx: EngineContext): NotificationChannel[] {
  const n = ctx.config().notifications;
  const out: NotificationChannel[] = [desktopChannel(ctx)];
  if (n.email) {
    // the password lives in the secret store (never in config.json)
    const problem = ctx.secrets.problem(SMTP_PASSWORD);
    if (problem) ctx.logger.warn(`the stored SMTP password cannot be used: ${problem}`);
    out.push(new SmtpEmailChannel({ ...n.email, password: ctx.secrets.get(SMTP_PASSWORD) }));
  }
  if (n.webhookUrl) out.push(new HttpWebhookChannel(n.webhookUrl));
  return out;
}

/** Desktop notifications: an engine event that the Electron app (and the browser UI) shows. */
function desktopChannel(ctx: EngineContext): NotificationChannel {
  return {
    name: 'desktop',
    send: async (n) => {
      const { details: _details, ...plain } = n;
      ctx.emit('notify.raised', plain);
    },
  };
}

/** The engine's notifier (channels and the on-success flag are read from the live config). */
export function getNotifier(ctx: EngineContext): Notifier {
  return ctx.lazy('notifier', () => new Notifier({ clock: ctx.clock, logger: ctx.logger.child({ area: 'notify' }), channels: () => configuredChannels(ctx), onSuccess: () => ctx.config().notifications.onSuccess }));
}

/**
 * Starts scheduled backups through the workflow's launcher (JobManager + live twin limit) and
 * adds what the scheduler needs on top: a backup started by hand that is already running serves
 * the slot (its outcome is reported), and the status is honest — a job that finished with
 * warnings (e.g. archived a crash-consistent fallback) is a warning, never a success.
 */
function jobLauncher(ctx: EngineContext): BackupLauncher {
  const base = jobBackupLauncher(ctx);
  return {
    async start(guest, opts): Promise<JobResult> {
      let r: JobResult = await base.start(guest, { consistency: opts.consistency, verify: opts.verify, trigger: 'scheduled' });
      if (r.status === 'failed' && r.error?.code === 'JOB_ALREADY_RUNNING') {
        const { manager } = getJobService(ctx);
        const running = manager.list({ guest, limit: 5 }).find((j) => j.status === 'running' || j.status === 'queued');
        if (running) {
          const o = await manager.wait(running.id);
          r = { jobId: running.id, status: o.status, snapshotId: o.snapshotId, error: o.error, warnings: o.warnings, bytes: o.logicalBytes };
        }
      }
      if (r.status === 'succeeded' && r.warnings.length > 0) r = { ...r, status: 'warning' };
      return r;
    },
  };
}

/** Retention, GC and a light verify on the configured repository. */
export function repositoryMaintenance(ctx: EngineContext): MaintenanceRunner {
  return {
    // the scheduled offsite job of the repository: a copy, then a prune of what retention forgot
    offsite: async () => {
      const o = ctx.config().offsite;
      if (!o) return;
      const repo = await getRepository(ctx);
      await runOffsiteCopy(ctx, repo, o.to, { trigger: 'scheduled', endpoint: o.endpoint, limitRate: o.limitRate, ...(o.lockDays ? { lock: { days: o.lockDays, mode: o.lockMode ?? 'COMPLIANCE' } } : {}) });
      await runOffsitePrune(ctx, repo, o.to, { endpoint: o.endpoint });
    },
    // after each backup (one guest) quietly; the daily run over every guest is a job of its own
    forget: (guest) =>
      guest !== undefined
        ? forget(guest)
        : runAsJob(ctx, { kind: 'forget', trigger: 'scheduled', label: 'Apply every retention policy' }, () => forget(), (r) => ({
            detail: r.forgotten ? `${r.forgotten} restore point(s) forgotten by the retention policies` : 'nothing to forget',
          })),
    gc: () =>
      runAsJob(ctx, { kind: 'gc', trigger: 'scheduled', label: 'Free unused space (gc)' }, async () => {
        const r = await (await getRepository(ctx)).gc();
        return { removedChunks: r.removedChunks, freedBytes: r.freedBytes };
      }, (r) => ({ detail: `${r.removedChunks} unused chunk(s) removed, ${Math.round(r.freedBytes / 1048576)} MiB freed` })),
    verify: () =>
      runAsJob(ctx, { kind: 'verify', trigger: 'scheduled', label: 'Verify the repository (light)' }, () => verifyRepository(ctx, false), (r) => verifyDetail(r.damagedPoints)),
  };
  async function forget(guest?: string): Promise<{ forgotten: number }> {
    const repo = await getRepository(ctx);
    const catalog = getCatalog(ctx);
    const policies = catalog.retention.list().filter((p) => guest === undefined || p.guest === guest);
    let forgotten = 0;
    for (const p of policies) {
      if (Object.keys(p.policy).length === 0) continue; // no policy = keep everything
      const r = await repo.applyRetention(p.guest, p.policy);
      forgotten += r.forgetCount;
      if (r.forgetCount > 0) ctx.emit('snapshots.changed', { guest: p.guest });
    }
    if (forgotten > 0) await syncCatalog(repo, catalog);
    return { forgotten };
  }
}

/** Host memory from the OS; guests' RAM from the last guest listing (refreshed in the background). */
function hostMemory(ctx: EngineContext): HostMemory & { refresh(): Promise<void> } {
  const ram = new Map<string, number>();
  return {
    freeMiB: () => Math.floor(freemem() / 1024 / 1024),
    requiredMiB: (guest) => ram.get(guest),
    async refresh() {
      for (const h of ctx.hypervisors) {
        try {
          if (!(await h.detect()).available) continue;
          for (const vm of await h.listVms()) if (vm.memoryMiB) ram.set(vm.name, vm.memoryMiB);
        } catch (e) {
          ctx.logger.debug('guest listing for the memory limit failed', { error: (e as Error).message });
        }
      }
    },
  };
}

/** Forwards scheduler events to the job list, the log and the notifier. */
function onSchedulerEvent(ctx: EngineContext, e: SchedulerEvent): void {
  const traced = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      ctx.logger.error('could not record a scheduled run as a job', { guest: 'guest' in e ? e.guest : undefined, error: err });
      return undefined;
    }
  };
  const n = getNotifier(ctx);
  const log = (p: Promise<unknown>) => void p.catch((err) => ctx.logger.warn('notification failed', { error: (err as Error).message }));
  switch (e.type) {
    case 'run-finished': {
      // A run that never became a job (the guest could not be found, no memory for a twin) is
      // recorded as a failed one: listed, a ✕ on the calendar, and named in the notification.
      let jobId = e.result.jobId;
      if (!jobId && e.result.status === 'failed') {
        jobId = traced(() => recordFailedStart(ctx, { kind: 'backup', guest: e.guest, trigger: 'scheduled', label: 'Start the scheduled backup' }, e.result.error ?? { code: 'INTERNAL', message: 'the scheduled backup could not start' }).id);
      }
      log(n.backupFinished({ guest: e.guest, jobId, status: e.result.status, error: e.result.error, warnings: e.result.warnings, slots: e.slots, trigger: e.trigger }));
      break;
    }
    case 'guest-stale':
      log(n.staleGuest(e.guest, e.lastSuccessAt, e.expectedMs));
      break;
    case 'runs-missed': {
      const when = e.slots.map((t) => new Date(t).toISOString().slice(0, 16).replace('T', ' ')).join(', ');
      traced(() => recordFailedStart(ctx, { kind: 'backup', guest: e.guest, trigger: 'scheduled', label: 'Start the scheduled backup' }, { code: 'TIMEOUT', message: `${e.slots.length} scheduled run(s) of '${e.guest}' (${when} UTC) missed: ${e.reason}` }));
      log(n.missedRuns(e.guest, e.slots, e.reason));
      break;
    }
    case 'maintenance-finished':
      log(n.maintenanceFinished(e));
      break;
    default:
      break;
  }
}

/** The engine's scheduler: always usable for schedules.*; its loop runs only in the owning process. */
export interface SchedulerService {
  scheduler: Scheduler;
  /** Whether this process runs the loop (holds the repository's scheduler lock). */
  running(): boolean;
  /** Who holds the lock when another process runs the scheduler. */
  holder(): SchedulerLockHolder | undefined;
  /** Tries to take the lock and start the loop; returns the other holder when it is taken. */
  start(opts?: { role?: string; endpoint?: string }): { started: boolean; holder?: SchedulerLockHolder };
  stop(opts?: { waitForRunning?: boolean }): Promise<void>;
  /** Subscribes to scheduler events (the daemon logs them); returns an unsubscribe function. */
  onEvent(fn: (e: SchedulerEvent) => void): () => void;
}

/** The engine's SchedulerService (created on first use, stopped when the engine closes). */
export function getSchedulerService(ctx: EngineContext): SchedulerService {
  return ctx.lazy('schedulerService', () => {
    const memory = hostMemory(ctx);
    const opt = ctx.options as Record<string, unknown>;
    const listeners = new Set<(e: SchedulerEvent) => void>();
    const scheduler = new Scheduler({
      clock: ctx.clock,
      logger: ctx.logger.child({ area: 'scheduler' }),
      store: new CatalogScheduleStore(getCatalog(ctx)),
      launcher: jobLauncher(ctx),
      maintenance: repositoryMaintenance(ctx),
      memory,
      maxConcurrentTwins: () => ctx.config().maxConcurrentTwins,
      // engine options (tests, `daemon --catch-up-hours`) win over config.json's scheduler keys
      graceMs: typeof opt.catchUpGraceMs === 'number' ? opt.catchUpGraceMs : ctx.config().scheduler.catchUpGraceHours * 3_600_000,
      maintenanceAt: typeof opt.maintenanceAt === 'string' ? opt.maintenanceAt : ctx.config().scheduler.maintenanceAt,
      maxSleepMs: typeof opt.schedulerMaxSleepMs === 'number' ? opt.schedulerMaxSleepMs : undefined,
      onEvent: (e) => {
        onSchedulerEvent(ctx, e);
        for (const fn of listeners) fn(e);
      },
    });
    let lock: SchedulerLock | undefined;
    let other: SchedulerLockHolder | undefined;
    const svc: SchedulerService = {
      scheduler,
      running: () => lock !== undefined,
      holder: () => other,
      start(o = {}) {
        if (lock) return { started: true };
        const r = SchedulerLock.acquire(ctx.config().repository, { role: o.role ?? 'daemon', clock: ctx.clock, endpoint: o.endpoint });
        if (!r.acquired) {
          other = r.holder;
          ctx.logger.info('another process runs the scheduler of this repository; acting as its client', { ...r.holder });
          return { started: false, holder: r.holder };
        }
        lock = r.lock;
        const mine = lock;
        // Start once the guests' RAM is known, unless stopped meanwhile (engine closing).
        void memory.refresh().finally(() => {
          if (lock === mine) scheduler.start();
        });
        ctx.logger.info('scheduler started', { repository: ctx.config().repository });
        return { started: true };
      },
      onEvent(fn) {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
      async stop(o = {}) {
        await scheduler.stop(o);
        lock?.release();
        lock = undefined;
      },
    };
    ctx.onClose(() => svc.stop());
    return svc;
  });
}

function withNextRuns(ctx: EngineContext, s: GuestSchedule): GuestSchedule & { nextRuns: string[] } {
  const runs = nextRuns(s.schedule, s.timeZone ?? hostTimeZone(), ctx.clock.now(), PREVIEW_COUNT);
  return { ...s, nextRuns: runs.map((r) => new Date(r).toISOString()) };
}

/** schedules.list/set/preview and notifications.test. */
export const scheduleHandlers: HandlerFactory = (ctx) => ({
  'schedules.list': async () =>
    new CatalogScheduleStore(getCatalog(ctx))
      .list()
      .map((s) => withNextRuns(ctx, s))
      .sort((a, b) => a.guest.localeCompare(b.guest)),
  'schedules.set': async (req) => {
    const saved = getSchedulerService(ctx).scheduler.setSchedule({
      guest: req.guest,
      schedule: req.schedule,
      ...(req.timeZone ? { timeZone: req.timeZone } : {}),
      ...(req.consistency ? { consistency: req.consistency } : {}),
      ...(req.verify !== undefined ? { verify: req.verify } : {}),
    });
    return withNextRuns(ctx, saved);
  },
  'schedules.preview': async ({ schedule, timeZone, count }) => {
    const s = normalizeSchedule(schedule, timeZone);
    const runs = nextRuns(s, timeZone ?? hostTimeZone(), ctx.clock.now(), count ?? PREVIEW_COUNT);
    return { nextRuns: runs.map((r) => new Date(r).toISOString()) };
  },
  'notifications.test': async ({ channel }) => {
    const n = ctx.config().notifications;
    if (channel === 'email' && !n.email) throw new AppError('CONFIG_INVALID', 'no e-mail settings: set notifications.email (host, port, from, to) first');
    if (channel === 'webhook' && !n.webhookUrl) throw new AppError('CONFIG_INVALID', 'no webhook URL: set notifications.webhookUrl first');
    const r = await getNotifier(ctx).send(
      { severity: 'info', topic: 'test', title: 'test notification', body: 'this is a test of the TwinSnap notification settings; no action needed' },
      channel,
    );
    const failed = r.failed[0];
    if (failed) throw new AppError('NOTIFY_FAILED', failed.message, { details: { channel } });
    return { delivered: r.delivered.includes(channel) };
  },
});

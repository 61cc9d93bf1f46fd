import type { JobInfo, JobLogLine, JobProgress, JobStep, JobTrigger } from '../../../shared/domain/job.js';
import type { GuestId } from '../../../shared/domain/guest-id.js';
import { AppError } from '../../../shared/errors/app-error.js';
import { timeId } from '../core/ids.js';
import { iso } from '../core/clock.js';
import type { Hypervisor, VmInfo } from '../hypervisor/hypervisor.js';
import { BackupRun, type BackupOutcome, type BackupReporter, type WorkflowDeps } from './backup-run.js';
import { BACKUP_STEPS, STEP_LABELS, type BackupStepId } from './backup-steps.js';
import { HostSemaphore } from './host-semaphore.js';
import { recoverJobs, type RecoveredJob } from './job-recovery.js';
import type { JobRecords } from './job-records.js';
import { ProgressThrottle } from './progress-throttle.js';

/** Events the manager publishes (the service forwards them as `jobs.progress` / `jobs.finished`). */
export interface JobEvents {
  progress(p: JobProgress): void;
  finished(job: JobInfo): void;
}

/** Dependencies of the JobManager. */
export interface JobManagerDeps extends Omit<WorkflowDeps, 'twinSlots'> {
  hypervisors: Hypervisor[];
  records: JobRecords;
  events?: JobEvents;
  /** Twins allowed at once on this host (default 1). */
  maxConcurrentTwins?: number;
  /** Progress events per second per job (default 4). */
  progressPerSecond?: number;
}

/** A guest to back up, already resolved (service/guest-directory.ts is the one resolver). */
export interface BackupTarget {
  guestId: GuestId;
  hypervisor: Hypervisor;
  vm: VmInfo;
}

/** A backup request: the resolved guests and how to back them up. */
export interface BackupNowRequest {
  targets: BackupTarget[];
  consistency?: 'require-clean' | 'allow-crash';
  verify?: boolean;
  /** Who asked (default manual; the scheduler's launcher says scheduled). */
  trigger?: JobTrigger;
}

interface Active {
  controller: AbortController;
  guestId: GuestId;
  /** `<hypervisor kind>:<adapter's VM id>`: what journals and crash recovery know the VM by. */
  vmKey: string;
  done: Promise<BackupOutcome>;
}

/**
 * Queues and runs backup jobs, keeps their records (JobRecords) up to date, publishes throttled
 * progress, cancels on request, and recovers interrupted jobs at start-up. One job per guest at a
 * time; twins share a host-wide semaphore. Caller must `close()` (cancels what still runs).
 */
export class JobManager {
  private readonly active = new Map<string, Active>();
  private readonly outcomes = new Map<string, BackupOutcome>();
  readonly twinSlots: HostSemaphore;

  constructor(private readonly deps: JobManagerDeps) {
    this.twinSlots = new HostSemaphore(deps.maxConcurrentTwins ?? 1);
  }

  /** Jobs running now. */
  runningCount(): number {
    return this.active.size;
  }

  /** Starts one backup job per guest; returns at once with their ids. */
  async backupNow(req: BackupNowRequest): Promise<{ jobIds: string[] }> {
    const jobIds: string[] = [];
    for (const t of req.targets) {
      if ([...this.active.values()].some((a) => a.guestId === t.guestId)) {
        throw new AppError('JOB_ALREADY_RUNNING', `a backup of '${t.vm.name}' (${t.guestId}) is already running: wait for it or cancel it`);
      }
      jobIds.push(this.start(t, req.consistency ?? 'require-clean', req.verify ?? false, req.trigger ?? 'manual'));
    }
    return { jobIds };
  }

  private start({ guestId, hypervisor, vm }: BackupTarget, policy: 'require-clean' | 'allow-crash', verify: boolean, trigger: JobTrigger): string {
    const { clock } = this.deps;
    const jobId = timeId(clock.now());
    const job: JobInfo = {
      id: jobId,
      kind: 'backup',
      guest: vm.name,
      guestId,
      trigger,
      status: 'queued',
      createdAt: iso(clock.now()),
      steps: BACKUP_STEPS.map((id) => ({ id, label: STEP_LABELS[id], status: 'pending' })),
      warnings: [],
    };
    this.deps.records.jobs.insert(job);
    const controller = new AbortController();
    let state = job;
    const throttle = new ProgressThrottle<JobProgress>(
      (p) => this.deps.events?.progress(p),
      () => clock.monotonic(),
      1000 / (this.deps.progressPerSecond ?? 4),
    );
    let current: BackupStepId | undefined;
    let archiveStart = 0;
    const save = (patch: Partial<JobInfo>) => {
      state = this.deps.records.jobs.update(jobId, patch);
      return state;
    };
    const reporter: BackupReporter = {
      step: (id, patch) => {
        const steps = state.steps.map((s): JobStep => (s.id === id ? { ...s, ...patch } : s));
        save({ steps });
        if (patch.status === 'running') current = id;
        throttle.push({ jobId, step: current, job: state });
      },
      log: (line: JobLogLine) => this.deps.records.jobLog.append(jobId, line),
      waiting: (queued) => {
        save({ status: queued ? 'queued' : 'running' });
        throttle.push({ jobId, step: current, job: state });
      },
      progress: (p) => {
        if (p.bytesDone === undefined) return throttle.push({ jobId, step: p.step, job: state });
        if (p.bytesDone === 0 || !archiveStart) archiveStart = clock.monotonic();
        const secs = (clock.monotonic() - archiveStart) / 1000;
        const rate = secs > 0 ? p.bytesDone / secs : undefined;
        state = { ...state, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal };
        throttle.push({
          jobId,
          step: p.step,
          bytesDone: p.bytesDone,
          bytesTotal: p.bytesTotal,
          bytesPerSecond: rate,
          etaSeconds: rate && p.bytesTotal ? Math.max(0, (p.bytesTotal - p.bytesDone) / rate) : undefined,
          job: state,
        });
      },
    };
    save({ status: 'running', startedAt: iso(clock.now()) });
    let run: BackupRun;
    try {
      run = new BackupRun({ ...this.deps, twinSlots: this.twinSlots }, { jobId, guestId, guest: vm.name, hypervisor, vmId: vm.id, policy, verify }, reporter, controller.signal);
    } catch (e) {
      // The journal could not be created (disk full, permissions): nothing was touched.
      const error = { code: 'INTERNAL', message: `unable to start the job: ${(e as Error).message}` };
      const failed = save({ status: 'failed', finishedAt: iso(clock.now()), error });
      this.deps.events?.finished(failed);
      throw e;
    }
    const vmKey = `${hypervisor.kind}:${vm.id}`;
    const done = this.clearLeftovers(jobId, vmKey, reporter)
      .then(() => run.run())
      .then((outcome) => {
        this.outcomes.set(jobId, outcome);
        const final = save({
          status: outcome.status,
          finishedAt: iso(clock.now()),
          pauseMs: outcome.metrics.pauseMs,
          snapshotId: outcome.snapshotId,
          bytesDone: outcome.metrics.archiveBytes ?? state.bytesDone,
          error: outcome.error,
          warnings: outcome.warnings,
        });
        this.active.delete(jobId);
        throttle.flush();
        this.deps.events?.finished(final);
        return outcome;
      });
    this.active.set(jobId, { controller, guestId, vmKey, done });
    return jobId;
  }

  /** Jobs, newest first. */
  list(opts: { guestId?: GuestId; limit?: number } = {}): JobInfo[] {
    return this.deps.records.jobs.list(opts);
  }

  /** One job; JOB_NOT_FOUND. */
  get(jobId: string): JobInfo {
    const j = this.deps.records.jobs.get(jobId);
    if (!j) throw new AppError('JOB_NOT_FOUND', `job '${jobId}' not found: run 'twinsnap jobs' to list jobs`);
    return j;
  }

  /** The log of a job, oldest first. */
  log(jobId: string): JobLogLine[] {
    this.get(jobId);
    return this.deps.records.jobLog.list(jobId);
  }

  /** Requests cancellation; clean-up (resume production first) runs before the job ends. */
  cancel(jobId: string): { cancelled: boolean } {
    const a = this.active.get(jobId);
    if (!a) {
      this.get(jobId);
      return { cancelled: false };
    }
    a.controller.abort(new AppError('CANCELLED', `job ${jobId} cancelled`));
    return { cancelled: true };
  }

  /** Waits for a job started by this manager to end; its outcome (metrics, consistency). */
  async wait(jobId: string): Promise<BackupOutcome> {
    const a = this.active.get(jobId);
    if (a) return a.done;
    const o = this.outcomes.get(jobId);
    if (o) return o;
    throw new AppError('JOB_NOT_FOUND', `job '${jobId}' is not running in this engine`);
  }

  /** The full outcome of a job that ended in this engine (metrics included). */
  outcome(jobId: string): BackupOutcome | undefined {
    return this.outcomes.get(jobId);
  }

  /** Crash recovery of journals left by a previous engine (see recoverJobs). */
  recover(): Promise<RecoveredJob[]> {
    return recoverJobs({ ...this.deps, records: this.deps.records, skip: (id) => this.active.has(id), busyVms: () => [...this.active.values()].map((a) => a.vmKey) });
  }

  /**
   * Before a backup freezes its VM, what an earlier job of that VM left behind (a clean-up that
   * failed: a snapshot not released, a twin not deleted) is cleaned up, so snapshots never stack
   * and the new freeze starts from production's real chain. A failure is logged and the backup
   * goes on (the adapter copes with an extra snapshot; start-up recovery retries).
   */
  private async clearLeftovers(jobId: string, vmKey: string, reporter: BackupReporter): Promise<void> {
    const at = () => iso(this.deps.clock.now());
    try {
      const res = await recoverJobs({ ...this.deps, records: this.deps.records, onlyVm: vmKey, skip: (id) => id === jobId || this.active.has(id) });
      for (const r of res) {
        if (r.recovered) reporter.log({ at: at(), level: 'warn', message: `left over by job ${r.jobId} and cleaned up first: ${r.actions.join('; ') || 'nothing to do'}` });
        else reporter.log({ at: at(), level: 'warn', message: `what job ${r.jobId} left over could not be cleaned up (${r.error ?? 'unknown'}); the backup goes on` });
      }
    } catch (e) {
      reporter.log({ at: at(), level: 'warn', message: `looking for leftovers of earlier jobs failed: ${(e as Error).message}` });
    }
  }

  /** Cancels running jobs and waits for their clean-up. */
  async close(): Promise<void> {
    const all = [...this.active.values()];
    for (const a of all) a.controller.abort(new AppError('CANCELLED', 'the engine is closing'));
    await Promise.allSettled(all.map((a) => a.done));
  }
}

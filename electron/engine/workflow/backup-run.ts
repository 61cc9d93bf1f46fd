import { dirname, extname } from 'node:path';
import type { JobLogLine, JobStatus, JobStep } from '../../../shared/domain/job.js';
import { nameGuestId, type GuestId } from '../../../shared/domain/guest-id.js';
import type { Consistency } from '../../../shared/domain/snapshot.js';
import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import { toSerializedError } from '../../../shared/errors/serialize.js';
import { iso, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { CallProgress, FrozenState, Hypervisor, ShutdownReport, TwinStartReport, TwinVm, VmDisk, VmInfo, WorkflowStepLimits } from '../hypervisor/hypervisor.js';
import { BACKUP_STEPS, DEFAULT_STEP_TIMEOUTS, type BackupStepId } from './backup-steps.js';
import { stepCeiling, stepIdleLimit, stepLimit } from './step-limits.js';
import type { HostSemaphore } from './host-semaphore.js';
import { JobJournal } from './job-journal.js';
import {
  DEFAULT_MARGINS,
  failedChecks,
  guestRoleCheck,
  hostSpaceCheck,
  repositoryCheck,
  runPreflight,
  systemHostProbe,
  type BackupPlan,
  type HostProbe,
  type PreflightCheck,
  type PreflightMargins,
  type RepositoryRoom,
} from './preflight.js';
import type { BackupMetrics, SinkDisk, SnapshotSink, TwinRecord, VerifyResult } from './snapshot-sink.js';
import { guarded } from './step-guard.js';

/** What a backup run needs from the engine. */
export interface WorkflowDeps {
  clock: Clock;
  logger: Logger;
  /** App data folder: journals live in `<dataDir>/jobs/`. */
  dataDir: string;
  sink: SnapshotSink;
  /** Host-wide twin slots (one twin at a time by default). */
  twinSlots: HostSemaphore;
  probe?: HostProbe;
  margins?: PreflightMargins;
  /**
   * Per-step time limits the user configured explicitly: they replace both DEFAULT_STEP_TIMEOUTS
   * and the adapter's `stepLimits(vm)` (see step-limits.ts).
   */
  timeouts?: Partial<Record<BackupStepId, number>>;
  /** How long the booted twin may take until its tools answer (default: the boot-twin limit). */
  twinToolsWaitMs?: number;
  /** Poll interval for the twin's tools (default 500 ms). */
  pollMs?: number;
}

/** One backup to run. */
export interface BackupRequest {
  jobId: string;
  /** The guest's identity (the snapshot's key; default `name:<guest>`, a guest known only by its name). */
  guestId?: GuestId;
  /** The guest's display name (recorded in the snapshot as a label). */
  guest: string;
  hypervisor: Hypervisor;
  vmId: string;
  policy: 'require-clean' | 'allow-crash';
  verify: boolean;
}

/** Where a run reports what happens (the job manager turns it into records and events). */
export interface BackupReporter {
  step(id: BackupStepId, patch: Partial<JobStep>): void;
  log(line: JobLogLine): void;
  progress(p: { step: BackupStepId; bytesDone?: number; bytesTotal?: number }): void;
  /** The job waits for a twin slot (`true`: show it as queued) or got one (`false`: running again). */
  waiting?(queued: boolean): void;
}

/** The result of a run. Never thrown: errors are in `error`. */
export interface BackupOutcome {
  status: Extract<JobStatus, 'succeeded' | 'warning' | 'failed' | 'cancelled'>;
  consistency?: Consistency;
  snapshotId?: string;
  logicalBytes?: number;
  newBytes?: number;
  metrics: BackupMetrics;
  verify?: VerifyResult;
  /** Twin backups: what the manifest records about the twin (isolation, shutdown method, host bytes). */
  twin?: TwinRecord;
  warnings: string[];
  error?: { code: string; message: string };
}

const RESUME_ATTEMPTS = 3;
/** Why a twin whose isolation the adapter could not verify leads to the policy. */
export const NOT_ISOLATED = 'twin isolation could not be verified';
/** Time allowed to power off a twin that did not shut down cleanly. */
const POWER_OFF_MS = 60_000;

/**
 * One backup job: preflight → freeze → copy-config → resume → boot twin → shut twin down →
 * archive → verify → clean up, each step journaled before its side effect. Invariant: once
 * `freeze` has been called, production is resumed on every path (error, cancel, timeout)
 * right after copy-config — and never through the job's cancel signal.
 */
export class BackupRun {
  private readonly journal: JobJournal;
  private readonly log: JobLogLine[] = [];
  private readonly metrics: BackupMetrics = { steps: {} };
  private readonly warnings: string[] = [];
  private readonly hv: Hypervisor;
  private readonly probe: HostProbe;
  private current: BackupStepId | undefined;

  constructor(
    private readonly deps: WorkflowDeps,
    private readonly req: BackupRequest,
    private readonly report: BackupReporter,
    private readonly signal: AbortSignal,
  ) {
    this.hv = req.hypervisor;
    this.probe = deps.probe ?? systemHostProbe;
    this.journal = JobJournal.open(deps.dataDir, req.jobId, deps.clock);
  }

  /** Runs the job to its end. Resolves with the outcome; the journal is closed after. */
  async run(): Promise<BackupOutcome> {
    const { req } = this;
    this.journal.append({ kind: 'begin', jobId: req.jobId, guest: req.guest, hypervisor: this.hv.kind, vmId: req.vmId, policy: req.policy, verify: req.verify, pid: process.pid });
    let outcome: BackupOutcome;
    try {
      outcome = await this.execute();
    } catch (e) {
      const err = toSerializedError(e);
      const status = isAppError(e, 'CANCELLED') ? 'cancelled' : 'failed';
      this.say(status === 'cancelled' ? 'warn' : 'error', `job ${status}: ${err.message}`);
      outcome = { status, metrics: this.metrics, warnings: this.warnings, error: { code: err.code, message: err.message } };
    }
    if (this.cleanupError !== undefined) {
      const msg = `clean-up incomplete (${(this.cleanupError as Error).message}); it is retried when the engine next starts`;
      this.warnings.push(msg);
      this.say('warn', msg, 'cleanup');
      if (outcome.status === 'succeeded') outcome = { ...outcome, status: 'warning' };
    }
    const pending = BACKUP_STEPS.filter((s) => this.metrics.steps[s] === undefined && !this.skipped.has(s));
    for (const s of pending) this.report.step(s, { status: 'skipped' });
    try {
      this.journal.append({ kind: 'end', status: outcome.status, snapshotId: outcome.snapshotId, error: outcome.error, ...(this.cleanupError !== undefined ? { leftovers: true } : {}) });
    } finally {
      this.journal.close();
    }
    return outcome;
  }

  private async execute(): Promise<BackupOutcome> {
    const { vm, plan } = await this.step('preflight', () => this.preflight());
    const time = this.deps.clock.now();
    if (plan === 'cold') {
      const consistency: Consistency = vm.state === 'off' ? 'cold' : 'crash';
      if (consistency === 'crash') this.warn(`vm '${vm.name}' is ${vm.state}: archived crash-consistent`);
      const stored = await this.archive(vm.disks, consistency, vm, [], time, []);
      return this.finish(consistency, stored, undefined);
    }
    if (plan === 'crash') return this.crashBackup(vm, time);
    return this.twinBackup(vm, time);
  }

  private async preflight(): Promise<{ vm: VmInfo; plan: BackupPlan }> {
    const info = await this.hv.detect();
    const vm = await this.hv.getVm(this.req.vmId, { timeoutMs: this.timeout('preflight') });
    this.adapterLimits = this.adapterStepLimits(vm);
    const margins = this.deps.margins ?? DEFAULT_MARGINS;
    const { plan, checks } = runPreflight({ info, hypervisor: this.hv, vm, policy: this.req.policy, probe: this.probe, margins });
    let room: RepositoryRoom | undefined;
    if (this.deps.sink.room) {
      const r = await this.deps.sink
        .room({ guestId: this.req.guestId ?? nameGuestId(this.req.guest), diskPaths: vm.disks.map((d) => d.path) })
        .catch((e: unknown) => ({ error: toSerializedError(e) }));
      if (!('error' in r)) room = r;
      checks.push(repositoryCheck(r));
    }
    if (plan !== 'cold' && vm.state === 'running' && !failedChecks(checks)) checks.push(...(await this.hostChecks(vm, plan, room, margins)));
    for (const c of checks) {
      if (c.warn) this.warn(`check ${c.id}: ${c.message}`);
      else this.say(c.ok ? 'info' : 'error', `check ${c.id}: ${c.message}`, 'preflight');
    }
    const failed = failedChecks(checks);
    if (failed) {
      const code = failed.length === 1 && failed[0]!.code ? failed[0]!.code : 'PREFLIGHT_FAILED';
      throw new AppError(code, `pre-flight checks failed for '${vm.name}': ${failed.map((f) => f.message).join('; ')}`, {
        details: { checks: failed.map((f) => ({ id: f.id, code: f.code, message: f.message })) },
      });
    }
    this.say('info', `plan: ${plan}`, 'preflight');
    return { vm, plan };
  }

  /**
   * Checks that ask the adapter about this host before anything is frozen: the guest's role (a
   * domain controller and Standard checkpoints) and room on every volume the backup writes to.
   */
  private async hostChecks(vm: VmInfo, plan: BackupPlan, room: RepositoryRoom | undefined, margins: PreflightMargins): Promise<PreflightCheck[]> {
    const out: PreflightCheck[] = [];
    const o = { timeoutMs: this.timeout('preflight') };
    if (this.hv.guestRoles) {
      const roles = await this.hv.guestRoles(vm, o).catch((e: unknown) => ({ evidence: `the guest's role could not be read: ${toSerializedError(e).message}` }));
      out.push(guestRoleCheck(vm, roles, this.req.policy));
    }
    if (plan === 'twin' && this.hv.hostSpaceNeeds) {
      const needs = await this.hv.hostSpaceNeeds(vm, o);
      out.push(hostSpaceCheck({ vm, needs, repository: room ? { path: room.path, neededBytes: room.neededBytes } : undefined, probe: this.probe, margins }));
    }
    return out;
  }

  /** Freeze → resume → archive the frozen disks alone (no twin). */
  private async crashBackup(vm: VmInfo, time: number): Promise<BackupOutcome> {
    this.warn(`no clean twin possible for '${vm.name}': archived crash-consistent (policy allow-crash)`);
    const frozen = await this.freeze(vm);
    try {
      await this.resumeProduction(frozen, undefined);
      this.skip('copy-config', 'no twin (crash-consistent backup)');
      this.skip('boot-twin', 'no twin');
      this.skip('shutdown-twin', 'no twin');
      const stored = await this.archive(frozen.frozenDisks, 'crash', vm, frozen.configFiles, time, frozen.frozenDisks);
      return this.finish('crash', stored, undefined);
    } finally {
      await this.cleanupKeepingOutcome(frozen, undefined);
    }
  }

  private async twinBackup(vm: VmInfo, time: number): Promise<BackupOutcome> {
    const wait = this.deps.twinSlots.wouldWait();
    if (wait) {
      this.say('info', 'queued: waiting for a free twin slot on this host');
      this.report.waiting?.(true);
    }
    const release = await this.deps.twinSlots.acquire(this.signal).finally(() => wait && this.report.waiting?.(false));
    let frozen: FrozenState | undefined;
    let twin: TwinVm | undefined;
    try {
      frozen = await this.freeze(vm);
      if (this.hv.capabilities.runningAfterFreeze) {
        // Production already runs (the pause was inside the checkpoint call): resume() closes the
        // pause measurement; the twin — possibly a full copy — is built while production runs.
        await this.resumeProduction(frozen, undefined);
        twin = await this.buildTwin(frozen);
      } else {
        try {
          twin = await this.buildTwin(frozen);
        } finally {
          await this.resumeProduction(frozen, twin);
        }
      }
      const clean = await this.bootAndShutdown(twin, vm);
      const consistency: Consistency = clean ? 'clean-twin' : 'crash';
      const disks = clean ? twin.disks : frozen.frozenDisks;
      // the twin's own configuration (Hyper-V: the export's) makes a whole-VM restore importable
      const stored = await this.archive(disks, consistency, vm, [...frozen.configFiles, ...(twin.configFiles ?? [])], time, frozen.frozenDisks);
      let verify: VerifyResult | undefined;
      if (!this.req.verify) this.skip('verify', 'not requested');
      else if (!clean) {
        // The archive holds the frozen disks; booting the twin would check something else.
        this.skip('verify', "the archived disks are the frozen ones, not the twin's");
        this.warn(`boot verification skipped: snapshot ${stored.snapshotId} holds the frozen disks (crash-consistent), which are not what the twin would boot`);
      } else verify = await this.verify(twin, stored.snapshotId);
      return this.finish(consistency, stored, verify);
    } finally {
      try {
        if (frozen) await this.cleanupKeepingOutcome(frozen, twin);
      } finally {
        release();
      }
    }
  }

  private async freeze(vm: VmInfo): Promise<FrozenState> {
    let inner: Promise<FrozenState> | undefined;
    try {
      return await this.step('freeze', async (signal) => {
        this.journal.append({ kind: 'intent', step: 'freeze', action: `about to freeze vm '${vm.name}'`, data: { vmId: vm.id } });
        const t0 = this.deps.clock.monotonic();
        this.pauseStart = t0;
        this.freezeTime = this.deps.clock.now();
        this.whilePaused = [];
        inner = this.hv.freeze(vm, { timeoutMs: this.timeout('freeze'), signal });
        const frozen = await inner;
        const callMs = this.deps.clock.monotonic() - t0;
        // Adapters that do more than wait on the hypervisor inside freeze() (link the suspend
        // state aside…) report the hypervisor's own share; the rest counts as the engine's.
        const hvOwn = (frozen as { hypervisorCallMs?: number }).hypervisorCallMs;
        this.metrics.hvFreezeMs = typeof hvOwn === 'number' && hvOwn <= callMs ? hvOwn : callMs;
        this.metrics.freezeCallMs = callMs;
        // One record for "frozen" and "about to build the twin": one fsync less while production waits.
        this.journal.append({ kind: 'fact', step: 'freeze', fact: `frozen handle ${frozen.handle}`, data: { frozen, twinName: this.twinName() } });
        return frozen;
      });
    } catch (e) {
      // The freeze may have half-happened (suspended, no snapshot) or may still complete after a
      // timeout / cancel: make sure production runs now, and again if the call lands later.
      this.flushPaused();
      this.journal.append({ kind: 'intent', step: 'freeze', action: 'freeze failed: recovering production' });
      await this.safely('recover production after a failed freeze', () => this.hv.recover({ vmId: vm.id }, { timeoutMs: this.timeout('resume') }));
      this.journal.append({ kind: 'fact', step: 'freeze', fact: 'production recovered' });
      inner?.then(
        (late) => this.safely('recover a late freeze', () => this.hv.recover({ vmId: vm.id, handle: late.handle }, { timeoutMs: this.timeout('resume') })),
        () => {},
      );
      throw e;
    }
  }

  private pauseStart = 0;
  /** Epoch ms of the freeze call: the snapshot's time. */
  private freezeTime: number | undefined;
  private twinAttempted = false;

  private twinName(): string {
    return `${this.req.guest}-twin-${this.req.jobId}`;
  }

  private async buildTwin(frozen: FrozenState): Promise<TwinVm> {
    const twinName = this.twinName();
    let inner: Promise<TwinVm> | undefined;
    this.twinAttempted = true;
    try {
      return await this.step('copy-config', async (signal, alive) => {
        const t0 = this.deps.clock.monotonic();
        inner = this.hv.buildTwin(frozen, twinName, { timeoutMs: this.ceiling('copy-config'), signal, onProgress: this.progressFor('copy-config', alive) });
        const twin = await inner;
        this.metrics.buildTwinMs = this.deps.clock.monotonic() - t0;
        if (twin.hostBytesWritten !== undefined) this.twinRecord.hostBytesWritten = twin.hostBytesWritten;
        // One record for "built" and "about to resume": one fsync less while production waits.
        this.journal.append({ kind: 'fact', step: 'copy-config', fact: `twin '${twin.name}' built`, data: { twin } });
        return twin;
      });
    } catch (e) {
      // A build abandoned on time / cancel may still finish: delete that twin when it does.
      inner?.then(
        (late) => this.safely('delete a late twin', () => this.hv.deleteTwin(late, { timeoutMs: this.timeout('cleanup') })),
        () => {},
      );
      throw e;
    }
  }

  /** Never cancellable by the job; retried, then full hypervisor recovery. Throws only if production could not be resumed. */
  private async resumeProduction(frozen: FrozenState, twin: TwinVm | undefined): Promise<void> {
    const signalFree = new AbortController().signal;
    try {
      await this.resumeStep(frozen, twin, signalFree);
    } finally {
      this.flushPaused();
    }
  }

  private async resumeStep(frozen: FrozenState, twin: TwinVm | undefined, signalFree: AbortSignal): Promise<void> {
    await this.step(
      'resume',
      async () => {
        let last: unknown;
        for (let attempt = 1; attempt <= RESUME_ATTEMPTS; attempt++) {
          const t0 = this.deps.clock.monotonic();
          try {
            await guarded(this.deps.clock, `resuming vm '${frozen.vm.name}'`, { timeoutMs: this.timeout('resume') }, (s) => this.hv.resume(frozen, { timeoutMs: this.timeout('resume'), signal: s }));
            const t1 = this.deps.clock.monotonic();
            this.metrics.hvResumeMs = t1 - t0;
            this.metrics.pauseMs = t1 - this.pauseStart;
            this.metrics.engineShareMs = Math.max(0, this.metrics.pauseMs - (this.metrics.hvFreezeMs ?? 0) - this.metrics.hvResumeMs);
            this.journal.append({ kind: 'fact', step: 'resume', fact: 'production running', data: { pauseMs: this.metrics.pauseMs } });
            this.flushPaused();
            this.say(
              'info',
              `production paused ${this.metrics.pauseMs.toFixed(1)} ms (hypervisor freeze ${this.metrics.hvFreezeMs?.toFixed(1)} ms, resume ${this.metrics.hvResumeMs.toFixed(1)} ms, engine ${this.metrics.engineShareMs.toFixed(1)} ms)`,
              'resume',
            );
            return;
          } catch (e) {
            last = e;
            this.say('warn', `resume attempt ${attempt} failed: ${(e as Error).message}`, 'resume');
          }
        }
        this.say('error', 'resume failed: running full hypervisor recovery for production', 'resume');
        await this.hv.recover({ vmId: frozen.vm.id, handle: frozen.handle, twin }, { timeoutMs: this.timeout('cleanup') });
        this.journal.append({ kind: 'fact', step: 'resume', fact: 'production recovered' });
        throw new AppError('HV_COMMAND_FAILED', `unable to resume vm '${frozen.vm.name}'; it was recovered and the backup abandoned: ${(last as Error)?.message}`, { cause: last });
      },
      { signal: signalFree, timeoutMs: 0 },
    );
  }

  /** Boots the twin and shuts it down. Returns true when it powered off cleanly; applies the policy otherwise. */
  private async bootAndShutdown(twin: TwinVm, vm: VmInfo): Promise<boolean> {
    let notIsolated: string | undefined;
    const toolsUp = await this.step('boot-twin', async (signal) => {
      this.journal.append({ kind: 'intent', step: 'boot-twin', action: `about to start twin '${twin.name}'` });
      const t0 = this.deps.clock.monotonic();
      try {
        const report = await this.hv.startTwin(twin, { timeoutMs: this.timeout('boot-twin'), signal });
        this.recordIsolation(report);
        if (report?.isolation && !report.isolation.verified) {
          // An adapter should have rejected; never let an unverified twin run on.
          await this.safely('power off the twin', () => this.hv.powerOffTwin(twin, { timeoutMs: POWER_OFF_MS }));
          throw new AppError('HV_TWIN_NOT_ISOLATED', report.isolation.detail || report.isolation.method);
        }
      } catch (e) {
        if (!isAppError(e, 'HV_TWIN_NOT_ISOLATED') || signal.aborted) throw e;
        // The twin is already off (the adapter powers it off before rejecting): treated like a failed clean shutdown.
        notIsolated = `${NOT_ISOLATED} (${(e as Error).message})`;
        this.twinRecord.isolation ??= { verified: false, method: 'adapter refused', detail: (e as Error).message };
        this.say('error', `twin '${twin.name}': ${notIsolated}; it was powered off at once`, 'boot-twin');
        return false;
      }
      const up = await this.waitForTools(twin, this.toolsBudget('boot-twin', t0, this.deps.twinToolsWaitMs), signal);
      this.metrics.twinBootMs = this.deps.clock.monotonic() - t0;
      this.say(up ? 'info' : 'warn', up ? `twin up in ${this.metrics.twinBootMs.toFixed(0)} ms` : "the twin's guest tools never answered", 'boot-twin');
      return up;
    });
    return this.step(
      'shutdown-twin',
      async (signal) => {
        let why: string | undefined;
        if (notIsolated) why = notIsolated;
        else if (!toolsUp) why = 'guest tools in the twin never answered';
        else {
          this.journal.append({ kind: 'intent', step: 'shutdown-twin', action: `about to shut down twin '${twin.name}'` });
          const t0 = this.deps.clock.monotonic();
          try {
            // the clean shutdown keeps the step's own limit (an adapter that hangs past it fails the
            // job with TIMEOUT, as every step does); only the power-off below gets extra time
            const limit = this.timeout('shutdown-twin');
            const call = (sig: AbortSignal) => this.hv.shutdownTwin(twin, { timeoutMs: Math.max(1000, limit - 5000), signal: sig });
            const report: ShutdownReport | void = await (limit > 0 ? guarded(this.deps.clock, "step 'shutdown-twin'", { timeoutMs: limit, signal }, call) : call(signal));
            this.metrics.twinShutdownMs = this.deps.clock.monotonic() - t0;
            if (report?.method) this.twinRecord.shutdownMethod = report.method;
            this.say('info', `twin shut down cleanly in ${this.metrics.twinShutdownMs.toFixed(0)} ms${report?.method ? ` (${report.method})` : ''}`, 'shutdown-twin');
            return true;
          } catch (e) {
            if (isAppError(e, 'CANCELLED') || isAppError(e, 'TIMEOUT') || signal.aborted) throw e;
            why = (e as Error).message;
          }
        }
        this.journal.append({ kind: 'intent', step: 'shutdown-twin', action: `about to power off twin '${twin.name}'` });
        await this.safely('power off the twin', () => this.hv.powerOffTwin(twin, { timeoutMs: POWER_OFF_MS }));
        this.twinRecord.crashReason = why;
        if (this.req.policy === 'require-clean') {
          if (notIsolated) {
            throw new AppError(
              'HV_TWIN_NOT_ISOLATED',
              `the twin of '${vm.name}' was powered off at once: ${why}; nothing was archived (policy require-clean). run \`twinsnap doctor\` on a test vm of this host, or set the policy to allow-crash`,
            );
          }
          throw new AppError(
            'HV_SHUTDOWN_TIMEOUT',
            `the twin of '${vm.name}' did not shut down cleanly (${why}); nothing was archived (policy require-clean). check the guest's tools / power-button handling, or set the policy to allow-crash`,
          );
        }
        this.warn(
          notIsolated
            ? `the twin of '${vm.name}' was powered off: ${why}: archived the frozen disks as crash-consistent (policy allow-crash)`
            : `the twin of '${vm.name}' did not shut down cleanly (${why}): archived the frozen disks as crash-consistent (policy allow-crash)`,
        );
        return false;
        // the power-off after a failed clean shutdown has its own budget on top of the step's limit:
        // a slow host must not turn "apply the policy" into a failed job
      },
      { timeoutMs: this.timeout('shutdown-twin') > 0 ? this.timeout('shutdown-twin') + POWER_OFF_MS : this.timeout('shutdown-twin') },
    );
  }

  /**
   * How long a step may still poll the twin's tools: `cap` (default: the step's limit), but
   * never past the step's own limit minus what it used and a margin to power the twin off — so
   * a guest that never answers ends the poll with "no" (policy / failed verification) instead
   * of the step timing out and failing the whole job.
   */
  private toolsBudget(id: BackupStepId, since: number, cap?: number): number {
    const limit = this.timeout(id);
    let budget = cap ?? (limit > 0 ? limit : DEFAULT_STEP_TIMEOUTS[id]);
    if (limit > 0) budget = Math.min(budget, limit - (this.deps.clock.monotonic() - since) - Math.min(5000, limit / 10));
    return Math.max(0, budget);
  }

  private async waitForTools(twin: TwinVm, limitMs: number, signal: AbortSignal): Promise<boolean> {
    const deadline = this.deps.clock.monotonic() + limitMs;
    const poll = this.deps.pollMs ?? 500;
    for (;;) {
      try {
        if (await this.hv.twinToolsRunning(twin, { timeoutMs: 30_000, signal })) return true;
      } catch (e) {
        if (signal.aborted) throw e;
      }
      if (this.deps.clock.monotonic() + poll > deadline) return false;
      await this.deps.clock.sleep(poll, signal);
    }
  }

  private async archive(disks: VmDisk[], consistency: Consistency, vm: VmInfo, configFiles: FrozenState['configFiles'], time: number, frozenDisks: VmDisk[]) {
    return this.step('archive', async (signal) => {
      const sinkDisks: SinkDisk[] = disks.map((d) => ({ name: diskName(d.slot), path: d.path }));
      const chainDirs = chainFolders(vm, frozenDisks);
      this.journal.append({ kind: 'intent', step: 'archive', action: `about to archive ${sinkDisks.length} disk(s) as ${consistency}`, data: { disks: sinkDisks } });
      const t0 = this.deps.clock.monotonic();
      let bytes = 0;
      const stored = await this.deps.sink.createSnapshot(
        {
          jobId: this.req.jobId,
          guestId: this.req.guestId ?? nameGuestId(this.req.guest),
          guest: this.req.guest,
          time: this.freezeTime ?? time,
          consistency,
          metrics: this.metrics,
          log: [...this.log],
          configFiles,
          disks: sinkDisks,
          chainDirs,
          ...(Object.keys(this.twinRecord).length ? { twin: { ...this.twinRecord } } : {}),
        },
        {
          signal,
          onProgress: (done, total) => {
            bytes = done;
            this.report.progress({ step: 'archive', bytesDone: done, bytesTotal: total });
          },
        },
      );
      const ms = this.deps.clock.monotonic() - t0;
      this.metrics.archiveMs = ms;
      this.metrics.archiveBytes = Math.max(bytes, stored.logicalBytes);
      this.metrics.archiveMBps = ms > 0 ? this.metrics.archiveBytes / 1e6 / (ms / 1000) : undefined;
      this.journal.append({ kind: 'fact', step: 'archive', fact: `snapshot ${stored.snapshotId} stored`, data: { snapshotId: stored.snapshotId } });
      this.say(
        'info',
        `snapshot ${stored.snapshotId}: ${stored.logicalBytes} logical bytes in ${ms.toFixed(0)} ms${this.metrics.archiveMBps ? ` (${this.metrics.archiveMBps.toFixed(1)} MB/s)` : ''}`,
        'archive',
      );
      return stored;
    });
  }

  /** Seed 002: boots the archived state (the twin's disks, exactly what was archived) isolated and waits for its tools. */
  private async verify(twin: TwinVm, snapshotId: string): Promise<VerifyResult> {
    const result = await this.step('verify', async (signal) => {
      this.journal.append({ kind: 'intent', step: 'verify', action: `about to boot twin '${twin.name}' for verification` });
      const t0 = this.deps.clock.monotonic();
      let ok = false;
      let detail: string | undefined;
      try {
        const report = await this.hv.startTwin(twin, { timeoutMs: this.timeout('verify'), signal });
        if (report?.isolation && !report.isolation.verified) {
          // never let an unverified twin run on: off at once (below), verification failed
          detail = `${NOT_ISOLATED}: ${report.isolation.detail || report.isolation.method}`;
        } else {
          ok = await this.waitForTools(twin, this.toolsBudget('verify', t0), signal);
          if (!ok) detail = 'guest tools never answered';
        }
      } catch (e) {
        if (signal.aborted) throw e;
        detail = isAppError(e, 'HV_TWIN_NOT_ISOLATED') ? `${NOT_ISOLATED}: ${(e as Error).message}` : (e as Error).message;
      }
      const bootMs = this.deps.clock.monotonic() - t0;
      await this.safely('power off the verification boot', () => this.hv.powerOffTwin(twin, { timeoutMs: 60_000 }));
      const r: VerifyResult = {
        ok,
        at: iso(this.deps.clock.now()),
        method: 'guest-tools',
        hypervisor: this.hv.kind,
        limitMs: this.timeout('verify'),
        ...(ok ? { bootMs: Math.round(bootMs * 10) / 10 } : {}),
        ...(detail !== undefined ? { detail } : {}),
      };
      this.say(ok ? 'info' : 'warn', ok ? `boot verification passed in ${bootMs.toFixed(0)} ms` : `boot verification failed: ${detail}`, 'verify');
      return r;
    });
    if (!result.ok) this.warn(`boot verification of snapshot ${snapshotId} failed: ${result.detail}`);
    if (this.deps.sink.recordVerification) {
      // journaled first: if the engine dies before the manifest has it, start-up recovery records it
      this.journal.append({ kind: 'fact', step: 'verify', fact: 'verified', data: { verify: result } });
      const recorded = await this.safely('record the verification', () => this.deps.sink.recordVerification!(snapshotId, result));
      if (recorded) this.journal.append({ kind: 'fact', step: 'verify', fact: 'verification recorded' });
    }
    return result;
  }

  /**
   * Clean-up that never replaces the job's outcome: a failure is remembered (the job ends with a
   * warning, its journal is marked `leftovers` so start-up recovery retries the clean-up).
   */
  private async cleanupKeepingOutcome(frozen: FrozenState, twin: TwinVm | undefined): Promise<void> {
    try {
      await this.cleanup(frozen, twin);
    } catch (e) {
      this.cleanupError = e;
    }
  }

  private cleanupError: unknown;

  /** Deletes the twin and releases the frozen state. Not cancellable; errors are logged and rethrown after both tries. */
  private async cleanup(frozen: FrozenState, twin: TwinVm | undefined): Promise<void> {
    const free = new AbortController().signal;
    await this.step(
      'cleanup',
      async () => {
        const errors: unknown[] = [];
        const t = this.timeout('cleanup');
        if (twin) {
          this.journal.append({ kind: 'intent', step: 'cleanup', action: `about to delete twin '${twin.name}'` });
          try {
            await guarded(this.deps.clock, `deleting twin '${twin.name}'`, { timeoutMs: t }, async (s) => {
              await this.hv.powerOffTwin(twin, { timeoutMs: 60_000, signal: s }).catch(() => {});
              await this.hv.deleteTwin(twin, { timeoutMs: t, signal: s });
            });
            this.journal.append({ kind: 'fact', step: 'cleanup', fact: 'twin deleted' });
          } catch (e) {
            errors.push(e);
          }
        }
        this.journal.append({ kind: 'intent', step: 'cleanup', action: `about to release frozen state ${frozen.handle}` });
        try {
          const limits = { timeoutMs: t, idleMs: this.idle('cleanup'), ceilingMs: this.ceiling('cleanup') };
          await guarded(this.deps.clock, `releasing frozen state of '${frozen.vm.name}'`, limits, async (s, alive) => {
            if (twin || !this.twinAttempted) return this.hv.releaseFrozen(frozen, { timeoutMs: limits.ceilingMs, signal: s, onProgress: this.progressFor('cleanup', alive) });
            // A twin build that failed may have left a partial twin: the adapter's recovery finds it by name.
            const record: Parameters<Hypervisor['recover']>[0] & { twinName?: string } = { vmId: frozen.vm.id, handle: frozen.handle, twinName: this.twinName() };
            return this.hv.recover(record, { timeoutMs: t, signal: s });
          });
          this.journal.append({ kind: 'fact', step: 'cleanup', fact: 'frozen state released' });
        } catch (e) {
          errors.push(e);
        }
        if (errors.length) throw errors[0];
      },
      { signal: free, timeoutMs: 0 },
    );
  }

  private finish(consistency: Consistency, stored: { snapshotId: string; logicalBytes: number; newBytes?: number }, verify: VerifyResult | undefined): BackupOutcome {
    const status = this.warnings.length ? 'warning' : 'succeeded';
    const twin = Object.keys(this.twinRecord).length ? { twin: { ...this.twinRecord } } : {};
    return { status, consistency, snapshotId: stored.snapshotId, logicalBytes: stored.logicalBytes, newBytes: stored.newBytes, metrics: this.metrics, verify, ...twin, warnings: this.warnings };
  }

  /** Runs one step: reports it, bounds it in time and by the cancel signal, records its duration. */
  private async step<T>(id: BackupStepId, fn: (signal: AbortSignal, alive: () => void) => Promise<T>, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<T> {
    this.current = id;
    const t0 = this.deps.clock.monotonic();
    const startedAt = iso(this.deps.clock.now());
    this.out(() => {
      this.report.step(id, { status: 'running', startedAt });
      this.report.progress({ step: id });
    });
    try {
      const limit = opts?.timeoutMs ?? this.timeout(id);
      const out = await guarded(
        this.deps.clock,
        `step '${id}'`,
        { timeoutMs: limit, idleMs: this.idle(id), ceilingMs: limit > 0 ? Math.max(limit, this.ceiling(id)) : 0, signal: opts?.signal ?? this.signal },
        fn,
      );
      const ms = this.deps.clock.monotonic() - t0;
      this.metrics.steps[id] = ms;
      this.out(() => this.report.step(id, { status: 'done', durationMs: Math.round(ms) }));
      this.journal.append({ kind: 'step', step: id, status: 'done', durationMs: ms }, false);
      this.current = undefined;
      return out;
    } catch (e) {
      const ms = this.deps.clock.monotonic() - t0;
      this.metrics.steps[id] = ms;
      this.out(() => this.report.step(id, { status: 'failed', durationMs: Math.round(ms), detail: (e as Error).message }));
      this.journal.append({ kind: 'step', step: id, status: 'failed', durationMs: ms, detail: (e as Error).message }, false);
      this.current = undefined;
      throw e;
    }
  }

  private skip(id: BackupStepId, detail: string): void {
    this.report.step(id, { status: 'skipped', detail });
    this.skipped.add(id);
  }

  private readonly skipped = new Set<BackupStepId>();

  /**
   * Reports to the job records and logs — or, while production is paused, queues the report
   * until it runs again: the catalog writes must not lengthen the pause.
   */
  private out(fn: () => void): void {
    if (this.whilePaused) this.whilePaused.push(fn);
    else fn();
  }

  private whilePaused: (() => void)[] | undefined;

  private flushPaused(): void {
    const q = this.whilePaused ?? [];
    this.whilePaused = undefined;
    for (const fn of q) fn();
  }

  /** The step's limit without progress: configured, else max(default, the adapter's). */
  private timeout(id: BackupStepId): number {
    return stepLimit(id, this.deps.timeouts, this.adapterLimits);
  }

  /** How long a step that reported progress may go without another report. */
  private idle(id: BackupStepId): number {
    return stepIdleLimit(id, this.deps.timeouts);
  }

  /** The most a step that keeps reporting progress may take. */
  private ceiling(id: BackupStepId): number {
    return stepCeiling(id, this.deps.timeouts, this.adapterLimits);
  }

  private adapterLimits: WorkflowStepLimits = {};

  private adapterStepLimits(vm: VmInfo): WorkflowStepLimits {
    try {
      return this.hv.stepLimits?.(vm) ?? {};
    } catch (e) {
      this.say('warn', `the adapter's step limits are unavailable, using the defaults: ${(e as Error).message}`, 'preflight');
      return {};
    }
  }

  /** A hypervisor call's progress: feeds the step's watchdog and (once production runs) the job's progress. */
  private progressFor(step: BackupStepId, alive: () => void): (p: CallProgress) => void {
    return (p) => {
      alive();
      if (!this.whilePaused) this.report.progress({ step, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal });
    };
  }

  /** What the manifest records about the twin (isolation, shutdown method, host bytes, crash reason). */
  private readonly twinRecord: TwinRecord = {};

  private recordIsolation(report: TwinStartReport | void): void {
    if (!report?.isolation) return;
    this.twinRecord.isolation = { ...report.isolation };
    this.say(
      'info',
      `twin isolation ${report.isolation.verified ? 'verified' : 'NOT verified'}: ${report.isolation.method}${report.isolation.detail ? ` — ${report.isolation.detail}` : ''}`,
      'boot-twin',
    );
  }

  /** Runs a best-effort action; logs and swallows its error. */
  /** Runs `fn`; a failure is logged as a warning, never thrown. True when it succeeded. */
  private async safely(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      this.say('warn', `could not ${what}: ${(e as Error).message}`);
      return false;
    }
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.say('warn', message);
  }

  private say(level: JobLogLine['level'], message: string, step?: BackupStepId): void {
    const line: JobLogLine = { at: iso(this.deps.clock.now()), level, message, ...((step ?? this.current) ? { step: step ?? this.current } : {}) };
    this.log.push(line);
    this.out(() => {
      this.report.log(line);
      this.deps.logger.log(level, message, { jobId: this.req.jobId, step: line.step });
    });
  }
}

/** A disk name safe in file paths: `scsi0:0` → `scsi0-0`. */
export function diskName(slot: string): string {
  return slot.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'disk';
}

/**
 * The folders a backup's disk chains may reach (handed to the disk layer, which refuses every
 * other file): the VM's folder (its config file's folder, or the folder itself), the folders of
 * its disks and of the frozen disks a twin's child disks point at.
 */
export function chainFolders(vm: VmInfo, frozenDisks: VmDisk[]): string[] {
  const dirs = [...vm.disks, ...frozenDisks].map((d) => dirname(d.path));
  if (vm.configPath) dirs.push(extname(vm.configPath) ? dirname(vm.configPath) : vm.configPath);
  return [...new Set(dirs)];
}

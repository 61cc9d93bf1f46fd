import type { JobInfo } from '../../../shared/domain/job.js';
import { iso, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { FrozenState, Hypervisor, TwinVm } from '../hypervisor/hypervisor.js';
import { BACKUP_STEPS, STEP_LABELS } from './backup-steps.js';
import { JobJournal, unfinishedJournals, type JournalRecord } from './job-journal.js';
import type { JobRecords } from './job-records.js';
import type { SnapshotSink, VerifyResult } from './snapshot-sink.js';

/** What a journal says may exist after a crash. */
export interface JournalState {
  jobId: string;
  guest?: string;
  hypervisor?: string;
  vmId?: string;
  /** The last step that was entered. */
  lastStep?: string;
  frozen?: FrozenState;
  /** Name of a twin whose build had started. */
  twinName?: string;
  twin?: TwinVm;
  resumed: boolean;
  twinDeleted: boolean;
  frozenReleased: boolean;
  archiveStarted: boolean;
  snapshotId?: string;
  /** A boot verification that finished; `verifyRecorded` once the snapshot's manifest has it. */
  verify?: VerifyResult;
  verifyRecorded: boolean;
  startedAt?: number;
  /** Process that ran the job. */
  pid?: number;
  /** Set when the job had ended (with leftovers to clean up): its status stays. */
  ended?: { status: string; snapshotId?: string };
}

/** Folds a journal's records into what may be left behind. */
export function journalState(jobId: string, records: JournalRecord[]): JournalState {
  const s: JournalState = { jobId, resumed: false, twinDeleted: false, frozenReleased: false, archiveStarted: false, verifyRecorded: false };
  for (const r of records) {
    if (r.kind === 'begin') Object.assign(s, { guest: r.guest, hypervisor: r.hypervisor, vmId: r.vmId, startedAt: r.t, pid: r.pid });
    else if (r.kind === 'intent') {
      s.lastStep = r.step;
      if (typeof r.data?.twinName === 'string') s.twinName = r.data.twinName;
      if (r.step === 'archive') s.archiveStarted = true;
    } else if (r.kind === 'fact') {
      if (r.data?.frozen) s.frozen = r.data.frozen as FrozenState;
      if (typeof r.data?.twinName === 'string') s.twinName = r.data.twinName;
      if (r.data?.twin) s.twin = r.data.twin as TwinVm;
      if (typeof r.data?.snapshotId === 'string') s.snapshotId = r.data.snapshotId;
      if (r.step === 'verify' && r.fact === 'verified' && r.data?.verify) s.verify = r.data.verify as VerifyResult;
      if (r.step === 'verify' && r.fact === 'verification recorded') s.verifyRecorded = true;
      if (r.step === 'resume' && (r.fact === 'production running' || r.fact === 'production recovered')) s.resumed = true;
      if (r.fact === 'production recovered' && r.step === 'freeze') s.resumed = true;
      if (r.fact === 'twin deleted') s.twinDeleted = true;
      if (r.fact === 'frozen state released') s.frozenReleased = true;
    } else if (r.kind === 'step') s.lastStep = r.step;
    else if (r.kind === 'end') s.ended = { status: r.status, snapshotId: r.snapshotId };
  }
  return s;
}

/** The outcome of recovering one job. */
export interface RecoveredJob {
  jobId: string;
  guest?: string;
  /** False when the job's hypervisor was unavailable or recovery failed: it is retried next start. */
  recovered: boolean;
  status?: JobInfo['status'];
  actions: string[];
  error?: string;
}

/** Dependencies of recoverJobs. */
export interface RecoveryDeps {
  dataDir: string;
  clock: Clock;
  logger: Logger;
  hypervisors: Hypervisor[];
  sink?: SnapshotSink;
  records?: JobRecords;
  /** Jobs to leave alone (running in this engine). */
  skip?: (jobId: string) => boolean;
  /** Only the journals of this VM (`<hypervisor>:<vmId>`): a new backup clears its VM's leftovers first. */
  onlyVm?: string;
  /** VMs (`<hypervisor>:<vmId>`) a job of this engine works on right now: their journals wait. */
  busyVms?: () => Iterable<string>;
  /** Time limit of each hypervisor call (default 5 min). */
  timeoutMs?: number;
}

/**
 * Start-up crash recovery. For every journal without an `end` record: makes sure production runs
 * (hypervisor.recover, which also deletes the twin and releases the snapshot / checkpoint),
 * discards a partial snapshot, and ends the job: `failed` (interrupted) — or `warning` when its
 * snapshot had been stored completely before the crash (the snapshot is kept). A job whose
 * recovery fails keeps its journal open and is retried at the next start.
 */
export async function recoverJobs(deps: RecoveryDeps): Promise<RecoveredJob[]> {
  const out: RecoveredJob[] = [];
  const journals = unfinishedJournals(deps.dataDir)
    .filter((j) => !deps.skip?.(j.jobId))
    .map((j) => journalState(j.jobId, j.records));
  // A VM that a live job works on — in another engine process (CLI, app, daemon) or in this one —
  // is left alone: the adapters' recovery releases every TwinSnap snapshot / checkpoint of the VM
  // and starts production, which would pull the frozen state from under that job.
  const busy = new Set(deps.busyVms?.() ?? []);
  for (const st of journals) if (!st.ended && liveElsewhere(st)) busy.add(vmKeyOf(st));
  for (const st of journals) {
    // Another engine process may be running this job right now: leave it alone.
    if (liveElsewhere(st)) continue;
    if (deps.onlyVm !== undefined && vmKeyOf(st) !== deps.onlyVm) continue;
    if (st.vmId && busy.has(vmKeyOf(st))) {
      deps.logger.warn('recovery postponed: a job is working on this vm right now', { jobId: st.jobId, guest: st.guest });
      continue;
    }
    const actions: string[] = [];
    const hv = deps.hypervisors.find((h) => h.kind === st.hypervisor);
    if (!st.vmId) {
      // Crashed before `begin` was complete: nothing was touched.
      out.push(finish(deps, st, actions, undefined));
      continue;
    }
    if (!hv) {
      const error = `hypervisor '${st.hypervisor}' is not available; recovery of job ${st.jobId} postponed`;
      deps.logger.error(error, { jobId: st.jobId });
      out.push({ jobId: st.jobId, guest: st.guest, recovered: false, actions, error });
      continue;
    }
    try {
      const opts = { timeoutMs: deps.timeoutMs ?? 300_000 };
      const twin = st.twin && !st.twinDeleted ? st.twin : undefined;
      // `twinName` goes beyond the port's record type: adapters use it to find a twin whose build
      // started but was never journaled as built.
      const record: Parameters<Hypervisor['recover']>[0] & { twinName?: string } = {
        vmId: st.vmId,
        handle: st.frozenReleased ? undefined : st.frozen?.handle,
        twin,
        twinName: st.twinDeleted ? undefined : st.twinName,
      };
      await hv.recover(record, opts);
      actions.push(`production of '${st.guest}' made running`);
      if (twin) actions.push(`twin '${twin.name}' deleted`);
      if (st.frozen && !st.frozenReleased) actions.push(`frozen state ${st.frozen.handle} released`);
      if (st.archiveStarted && !st.snapshotId && deps.sink) {
        await deps.sink.discardPartial(st.jobId);
        actions.push('partial snapshot discarded');
      }
      await recordLostVerification(deps, st, actions);
      out.push(finish(deps, st, actions, undefined));
    } catch (e) {
      const error = `recovery of job ${st.jobId} failed: ${(e as Error).message}`;
      deps.logger.error(error, { jobId: st.jobId });
      out.push({ jobId: st.jobId, guest: st.guest, recovered: false, actions, error });
    }
  }
  return out;
}

const vmKeyOf = (st: JournalState) => `${st.hypervisor}:${st.vmId}`;
const liveElsewhere = (st: JournalState) => st.pid !== undefined && st.pid !== process.pid && processAlive(st.pid);

/**
 * A boot verification that finished but never reached the snapshot's manifest (the engine died in
 * between) is recorded now; the boot is not repeated. A failure here is logged, not fatal.
 */
async function recordLostVerification(deps: RecoveryDeps, st: JournalState, actions: string[]): Promise<void> {
  if (!st.verify || st.verifyRecorded || !st.snapshotId || !deps.sink?.recordVerification) return;
  try {
    await deps.sink.recordVerification(st.snapshotId, st.verify);
    actions.push(`boot verification (${st.verify.ok ? 'passed' : 'failed'}) recorded in snapshot ${st.snapshotId}`);
  } catch (e) {
    deps.logger.warn('could not record a journaled boot verification', { jobId: st.jobId, snapshotId: st.snapshotId, error: (e as Error).message });
  }
}

function finish(deps: RecoveryDeps, st: JournalState, actions: string[], _err: undefined): RecoveredJob {
  if (st.ended) return finishLeftovers(deps, st, actions);
  const status: JobInfo['status'] = st.snapshotId ? 'warning' : 'failed';
  const message = `interrupted: the engine stopped during step '${st.lastStep ?? 'start'}'${st.snapshotId ? `; snapshot ${st.snapshotId} was complete and is kept` : ''}`;
  const error = { code: 'INTERNAL', message };
  const at = iso(deps.clock.now());
  if (deps.records) {
    const existing = deps.records.jobs.get(st.jobId);
    const patch: Partial<JobInfo> = {
      status,
      finishedAt: at,
      error,
      snapshotId: st.snapshotId,
      steps: (existing?.steps ?? []).map((s) => (s.status === 'running' || s.status === 'pending' ? { ...s, status: s.status === 'running' ? 'failed' : 'skipped' } : s)),
    };
    if (existing) deps.records.jobs.update(st.jobId, patch);
    else
      deps.records.jobs.insert({
        id: st.jobId,
        kind: 'backup',
        guest: st.guest,
        createdAt: iso(st.startedAt ?? deps.clock.now()),
        warnings: [],
        ...patch,
        status,
        steps: BACKUP_STEPS.map((id) => ({ id, label: STEP_LABELS[id], status: 'skipped' as const })),
      });
    deps.records.jobLog.append(st.jobId, { at, level: 'error', message });
    for (const a of actions) deps.records.jobLog.append(st.jobId, { at, level: 'info', message: `recovery: ${a}` });
  }
  const journal = JobJournal.open(deps.dataDir, st.jobId, deps.clock);
  try {
    journal.append({ kind: 'end', status, snapshotId: st.snapshotId, error });
  } finally {
    journal.close();
  }
  deps.logger.warn('recovered interrupted job', { jobId: st.jobId, status, actions });
  return { jobId: st.jobId, guest: st.guest, recovered: true, status, actions };
}

/** Whether a process with this id exists (EPERM: exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A job that had ended but could not clean up: its status stays; the clean-up is logged. */
function finishLeftovers(deps: RecoveryDeps, st: JournalState, actions: string[]): RecoveredJob {
  const at = iso(deps.clock.now());
  for (const a of actions) deps.records?.jobLog.append(st.jobId, { at, level: 'info', message: `recovery: ${a}` });
  const journal = JobJournal.open(deps.dataDir, st.jobId, deps.clock);
  try {
    journal.append({ kind: 'end', status: st.ended!.status, snapshotId: st.ended!.snapshotId });
  } finally {
    journal.close();
  }
  deps.logger.warn('finished the clean-up of an earlier job', { jobId: st.jobId, actions });
  return { jobId: st.jobId, guest: st.guest, recovered: true, status: st.ended!.status as JobInfo['status'], actions };
}

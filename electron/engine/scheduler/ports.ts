import type { GuestSchedule } from '../../../shared/domain/policy.js';
import type { JobStatus } from '../../../shared/domain/job.js';

/**
 * The narrow ports the scheduler drives. The service layer adapts the real job manager,
 * repository and catalog to them; tests pass fakes.
 */

/** Why a backup was started. */
export type RunTrigger = 'scheduled' | 'catch-up';

/** The outcome of one backup job, as the scheduler needs it. */
export interface JobResult {
  jobId?: string;
  /** `warning` = finished but not as asked (e.g. a crash-consistent fallback was archived). */
  status: Extract<JobStatus, 'succeeded' | 'warning' | 'failed' | 'cancelled'>;
  snapshotId?: string;
  error?: { code: string; message: string };
  warnings: string[];
  bytes?: number;
}

/** Options of one scheduled backup. */
export interface LaunchOptions {
  consistency?: GuestSchedule['consistency'];
  verify?: boolean;
  trigger: RunTrigger;
  /** The schedule slots (epoch ms) this run covers — more than one when it catches up. */
  slots: number[];
}

/** Starts a backup of a guest and resolves when the job has finished (it never rejects for a job failure). */
export interface BackupLauncher {
  start(guest: string, opts: LaunchOptions): Promise<JobResult>;
}

/** Repository housekeeping the scheduler runs after backups and once a day. */
export interface MaintenanceRunner {
  /** Applies the retention policy of `guest` (or of every guest with a policy when omitted). */
  forget(guest?: string): Promise<{ forgotten: number }>;
  /** Mark-and-sweep of unreferenced chunks. Must never run while a backup writes. */
  gc(): Promise<{ removedChunks: number; freedBytes: number }>;
  /** A light verify (indexes and a sample of chunks). */
  verify(): Promise<{ ok: boolean; damaged: string[] }>;
  /** The repository's scheduled offsite copy (and prune), when one is configured. */
  offsite?(): Promise<void>;
}

/** What the scheduler remembers about a guest between runs (persisted). */
export interface GuestRunState {
  /** Every schedule slot up to and including this instant has been handled. */
  handledThrough?: number;
  /** When the guest got its first schedule (stale detection counts from here until a success). */
  since?: number;
  /** Slots queued but not yet run (re-queued after a restart as a catch-up). */
  pendingSlots?: number[];
  lastStartedAt?: number;
  lastFinishedAt?: number;
  lastStatus?: JobResult['status'];
  lastSuccessAt?: number;
  /** `lastSuccessAt` value for which a stale warning was already sent (send once). */
  staleNotifiedFor?: number;
}

/** Persisted state of the daily maintenance. */
export interface MaintenanceState {
  handledThrough?: number;
  lastRunAt?: number;
  lastOk?: boolean;
}

/** Where schedules and the scheduler's run state live. */
export interface ScheduleStore {
  list(): GuestSchedule[];
  get(guest: string): GuestSchedule | undefined;
  /** Saves (replaces) a guest's schedule. */
  set(schedule: GuestSchedule): void;
  state(guest: string): GuestRunState;
  saveState(guest: string, state: GuestRunState): void;
  maintenanceState(): MaintenanceState;
  saveMaintenanceState(state: MaintenanceState): void;
}

/** Host memory, in MiB, for the twin limit. */
export interface HostMemory {
  /** Memory available for new VMs now. */
  freeMiB(): number;
  /** Memory a twin of `guest` needs (its configured RAM), when known. */
  requiredMiB(guest: string): number | undefined;
}

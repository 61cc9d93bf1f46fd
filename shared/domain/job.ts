import type { GuestId } from './guest-id.js';
import type { TwinRecord } from './snapshot.js';

/** Lifecycle of a job. `warning` = finished, but not the way the user asked (e.g. crash fallback). */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'warning' | 'failed' | 'cancelled';
/** What kind of work a job does. */
export type JobKind = 'backup' | 'restore' | 'verify' | 'gc' | 'forget' | 'import' | 'maintenance' | 'offsite';
/** Who started a job: the user (app, CLI) or the scheduler (its runs and the daily maintenance). */
export type JobTrigger = 'manual' | 'scheduled';
/** State of a single step. */
export type StepStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed';

/** One step of a job (freeze, copy-config, ...). */
export interface JobStep {
  id: string;
  label: string;
  status: StepStatus;
  startedAt?: string;
  durationMs?: number;
  detail?: string;
}

/** A job as shown in lists and the live view. */
export interface JobInfo {
  id: string;
  kind: JobKind;
  /** The guest's display name when the job was made (a label). */
  guest?: string;
  /** The guest's identity (absent on repository jobs and on jobs recorded before guest ids). */
  guestId?: GuestId;
  /** Who started it (absent on jobs recorded before this field existed: shown as manual). */
  trigger?: JobTrigger;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  steps: JobStep[];
  /** Bytes done / total of the current data phase. */
  bytesDone?: number;
  bytesTotal?: number;
  pauseMs?: number;
  snapshotId?: string;
  error?: { code: string; message: string };
  warnings: string[];
}

/** A throttled progress update of a running job. */
export interface JobProgress {
  jobId: string;
  step?: string;
  bytesDone?: number;
  bytesTotal?: number;
  bytesPerSecond?: number;
  etaSeconds?: number;
  job: JobInfo;
}

/** A line of a job's log. */
export interface JobLogLine {
  at: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  step?: string;
}

/**
 * How a backup ended, as `jobs.wait` returns it and `twinsnap backup --json` prints it: the
 * outcome with its step and pause metrics (milliseconds to 0.1 ms, step times whole ms).
 */
export interface BackupReport {
  jobId: string;
  /** The guest's display name when the job was made (a label). */
  guest: string;
  /** The guest's identity. */
  guestId?: GuestId;
  status: JobStatus;
  snapshotId?: string;
  consistency?: string;
  pauseMs?: number;
  /** The engine's own share of the pause (pause − hypervisor freeze and resume calls). */
  engineShareMs?: number;
  hypervisorFreezeMs?: number;
  hypervisorResumeMs?: number;
  twinBootMs?: number;
  twinShutdownMs?: number;
  /** Duration of each step in ms. */
  steps: Record<string, number>;
  bytes: { logical?: number; new?: number; archived?: number; MBps?: number };
  verify?: { ok: boolean; bootMs?: number; detail?: string };
  /** The twin's isolation report, shutdown method and host bytes written (as in the manifest). */
  twin?: TwinRecord;
  warnings: string[];
  error?: { code: string; message: string };
}

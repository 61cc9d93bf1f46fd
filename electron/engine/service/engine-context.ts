import type { EngineEvent, EngineEvents } from '../../../shared/ipc/contract.js';
import type { Clock } from '../core/clock.js';
import type { AppConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { SecretStore } from '../core/secrets.js';
import type { Hypervisor } from '../hypervisor/hypervisor.js';
import type { Notifier } from '../notify/notifier.js';
import type { BackupStepId } from '../workflow/backup-steps.js';
import type { BrowserSessions } from './browser-sessions.js';
import type { GuestDirectory } from './guest-directory.js';
import type { JobService } from './job-service.js';
import type { RepositoryAccess } from './repository-access.js';
import type { SchedulerService } from './scheduler-service.js';

/**
 * Time limits and intervals the composition root may override (tests, simulators, the daemon's
 * `--catch-up-grace`); each one unset means the config's value or the built-in default.
 */
export interface EngineTuning {
  /** Per-step time limits of backups and doctor runs. */
  readonly stepTimeouts?: Partial<Record<BackupStepId, number>>;
  /** GC grace period of the repository (else `TWINSNAP_GC_GRACE_MS`, else the repository's default). */
  readonly gcGraceMs?: number;
  /** How late a missed scheduled run may still be caught up (else config `scheduler.catchUpGraceHours`). */
  readonly catchUpGraceMs?: number;
  /** Daily maintenance time HH:MM (else config `scheduler.maintenanceAt`). */
  readonly maintenanceAt?: string;
  /** Longest sleep of the scheduler loop (tests with a fake clock). */
  readonly schedulerMaxSleepMs?: number;
}

/**
 * What the composition root gives every part: the injected dependencies, the live config, the
 * event sink and the clean-up list. The shared resources are built on top of it.
 */
export interface EngineBase {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly version: string;
  readonly hypervisors: Hypervisor[];
  readonly tuning: EngineTuning;
  /** S3 endpoint of `s3://` repositories and offsite copies (`--s3-endpoint`; unset: `TWINSNAP_S3_ENDPOINT`, else AWS). */
  readonly s3Endpoint?: string;
  /** Current validated config. */
  config(): AppConfig;
  /** Secrets kept out of the config (the SMTP password); never returned over the API. */
  readonly secrets: SecretStore;
  /** Validates, saves and applies a new config. */
  updateConfig(next: AppConfig): void;
  /** Publishes an engine event to every connected client. */
  emit<E extends EngineEvent>(event: E, payload: EngineEvents[E]): void;
  /** Registers a clean-up run (in reverse order) when the engine closes. */
  onClose(fn: () => void | Promise<void>): void;
}

/**
 * What every service handler gets: the base plus the engine's single instances of its shared
 * resources, each constructed once by `createEngine` (engine.ts). Resources that touch disk or
 * hypervisors (the catalog, the repository, the job manager's crash recovery, the scheduler) open
 * on first use and close with the engine.
 */
export interface EngineContext extends EngineBase {
  /** The catalog and the configured repository. */
  readonly store: RepositoryAccess;
  /** Guest identity: lists VMs with their ids and resolves an id or a unique name to a guest. */
  readonly guests: GuestDirectory;
  /** Desktop, e-mail and webhook notifications. */
  readonly notifier: Notifier;
  /** The job manager (backups) and its start-up recovery. */
  readonly jobs: JobService;
  /** Per-guest schedules and maintenance; its loop runs only in the process holding the lock. */
  readonly scheduler: SchedulerService;
  /** Open file-browser sessions over snapshots. */
  readonly browsing: BrowserSessions;
}

/** What code recording jobs and catalog changes needs (job traces, verify, the scheduler's maintenance). */
export type RecordingDeps = Pick<EngineBase, 'clock' | 'logger' | 'emit'> & { readonly store: RepositoryAccess };

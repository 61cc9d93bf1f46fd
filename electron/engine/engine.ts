import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { EngineEvent, EngineEvents } from '../../shared/ipc/contract.js';
import { systemClock, type Clock } from './core/clock.js';
import { defaultDataDir } from './core/app-paths.js';
import { loadConfig, migrateSecrets, saveConfig, type AppConfig } from './core/config.js';
import { OWNER_DIR_MODE, makeOwnerOnly } from './core/owner-only.js';
import { fileSecretStore, type SecretCodec } from './core/secrets.js';
import { createFileLogger, type Logger } from './core/logger.js';
import type { Hypervisor } from './hypervisor/hypervisor.js';
import { defaultHypervisors } from './hypervisor/registry.js';
import { BrowserSessions } from './service/browser-sessions.js';
import type { EngineBase, EngineContext, EngineTuning } from './service/engine-context.js';
import { EngineService } from './service/engine-service.js';
import { GuestDirectory } from './service/guest-directory.js';
import { allHandlers } from './service/all-handlers.js';
import { JobService } from './service/job-service.js';
import { createNotifier } from './service/notifications.js';
import { RepositoryAccess } from './service/repository-access.js';
import { SchedulerService } from './service/scheduler-service.js';
import { localOperations, type LocalOperations } from './service/local-operations.js';
import type { SchedulerLockHolder } from './scheduler/scheduler-lock.js';
import type { SchedulerEvent } from './scheduler/scheduler.js';

// The engine's one public entry: the faces (electron/cli, electron/server, electron/main) import
// only this file and shared/ (build/scripts/check-layers.mjs enforces it).
export type { Logger } from './core/logger.js';
export type { SecretCodec } from './core/secrets.js';
export type { LocalOperations, OffsiteSchedule } from './service/local-operations.js';
export type { OffsiteProgress } from './offsite/offsite-copy.js';
export type { SchedulerEvent } from './scheduler/scheduler.js';
export type { ExportFormat } from './repository/repository.js';
export { DEFAULT_CHUNK_SIZE } from './repository/repository.js';
export { describeSchedule, parseWeekdays } from './scheduler/schedule-spec.js';
export * from './host-tools.js';
export { randomToken } from './core/ids.js';

/** Options of createEngine; everything has a default so `createEngine()` just works. */
export interface EngineOptions extends EngineTuning {
  /** App data folder (config, catalog, logs, default repository). */
  dataDir?: string;
  /** Repository folder, overriding the config (CLI `--repo`, `TWINSNAP_REPO`). */
  repository?: string;
  clock?: Clock;
  logger?: Logger;
  hypervisors?: Hypervisor[];
  /** Tool paths and other environment options (vmrun, powershell). */
  vmrunPath?: string;
  powershellPath?: string;
  /** S3 endpoint of offsite copies (`--s3-endpoint`; default `TWINSNAP_S3_ENDPOINT`, else AWS). */
  s3Endpoint?: string;
  /** Encrypts stored secrets (the desktop app: Electron safeStorage); none: the owner-only secrets file holds them as they are. */
  secretCodec?: SecretCodec;
  /**
   * The password of an encrypted repository given for this process (CLI: `--password-file`,
   * `TWINSNAP_PASSWORD`), tried before the one kept in the secret store; `repositoryPasswordPrompt`
   * (CLI on a terminal) is asked last.
   */
  repositoryPassword?: () => Promise<string | undefined>;
  repositoryPasswordPrompt?: () => Promise<string | undefined>;
}

/**
 * A running engine: what the faces (CLI, `serve`, Electron main) may use. Caller must `close()` it.
 * Everything a client can ask goes through `service` (the contract in `shared/`); `local` adds the
 * command line's in-process work on this host's files.
 */
export interface Engine {
  /** The contract: `service.call(method, req)` validates and runs any engine method. */
  readonly service: EngineService;
  /** In-process operations on this host's files (the CLI's import, export, restore, cat…). */
  readonly local: LocalOperations;
  /** The app data folder this engine uses. */
  readonly dataDir: string;
  /** The engine's log (the faces log their transport's events into it). */
  readonly logger: Logger;
  /**
   * The composed parts (catalog, repository, jobs, scheduler…) for tests and benchmarks that
   * drive the engine from inside; the faces never use it (check-layers rejects it there).
   */
  readonly context: EngineContext;
  /** Subscribes to every engine event; returns an unsubscribe function. */
  onEvent(fn: <E extends EngineEvent>(event: E, payload: EngineEvents[E]) => void): () => void;
  /**
   * Runs the per-guest scheduler in this process unless another process (the background service)
   * already does for this repository; then this engine is its client. Returns who runs it.
   * `endpoint` (the daemon's URL without token) is recorded in the repository's scheduler lock.
   */
  startScheduler(role: string, endpoint?: string): { started: boolean; holder?: SchedulerLockHolder };
  /** Stops the scheduler loop (running backups are cancelled and cleaned up) and releases the lock. */
  stopScheduler(): Promise<void>;
  /** Subscribes to scheduler events (the daemon logs them); returns an unsubscribe function. */
  onSchedulerEvent(fn: (e: SchedulerEvent) => void): () => void;
  close(): Promise<void>;
}

/** The package version (read once from package.json). */
export function engineVersion(): string {
  try {
    const here = new URL('.', import.meta.url);
    for (const rel of ['../../package.json', '../package.json', '../../../package.json']) {
      try {
        const p = JSON.parse(readFileSync(new URL(rel, here), 'utf8')) as { name?: string; version?: string };
        if (p.name === 'twinsnap' && p.version) return p.version;
      } catch {
        // try the next candidate (source tree vs bundled layout)
      }
    }
  } catch {
    // fall through
  }
  return '0.0.0';
}

/**
 * The composition root: builds config, logging and the hypervisor adapters, then the engine's
 * shared resources once each (notifier, catalog and repository access, guest directory, job
 * service, scheduler service, file-browser sessions) and hands them to the handlers as one typed
 * EngineContext (service/README.md).
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const dataDir = options.dataDir ?? defaultDataDir();
  // the data folder holds the catalog, the logs, the secrets and (by default) the repository:
  // owner-only, also when an older version made it with the default umask
  mkdirSync(dataDir, { recursive: true, mode: OWNER_DIR_MODE });
  makeOwnerOnly(dataDir);
  const clock = options.clock ?? systemClock;
  const secrets = fileSecretStore(dataDir, options.secretCodec);
  let config: AppConfig = migrateSecrets(dataDir, loadConfig(dataDir), secrets);
  if (options.repository) config = { ...config, repository: options.repository };
  const logger = options.logger ?? createFileLogger({ file: join(dataDir, 'logs', 'engine.log'), clock });
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const closers: (() => void | Promise<void>)[] = [];
  const toolOptions = {
    vmrunPath: options.vmrunPath ?? process.env.TWINSNAP_VMRUN ?? config.vmrunPath,
    powershellPath: options.powershellPath ?? process.env.TWINSNAP_POWERSHELL ?? config.powershellPath,
  };
  // One live list: VM folders saved in Settings are searched from the next listing on (they were
  // read only at start-up, so a guest added by folder vanished from the list once powered off).
  const vmFolders = [...config.vmFolders];
  const hypervisors = options.hypervisors ?? defaultHypervisors({ ...toolOptions, vmFolders, logger, clock });

  const base: EngineBase = {
    clock,
    logger,
    dataDir,
    version: engineVersion(),
    hypervisors,
    tuning: {
      stepTimeouts: options.stepTimeouts,
      gcGraceMs: options.gcGraceMs,
      catchUpGraceMs: options.catchUpGraceMs,
      maintenanceAt: options.maintenanceAt,
      schedulerMaxSleepMs: options.schedulerMaxSleepMs,
    },
    ...(options.s3Endpoint ? { s3Endpoint: options.s3Endpoint } : {}),
    config: () => config,
    secrets,
    updateConfig: (next) => {
      saveConfig(dataDir, next);
      config = next;
      vmFolders.splice(0, vmFolders.length, ...next.vmFolders);
    },
    emit: (event, payload) => bus.emit('event', event, payload),
    onClose: (fn) => closers.push(fn),
  };
  // Adapters with long-lived sessions (PowerShell) close last.
  for (const hv of hypervisors) closers.push(() => hv.dispose?.());
  // The shared resources, each built once here; what touches disk or hypervisors opens on first use.
  const notifier = createNotifier(base);
  const store = new RepositoryAccess(base, (r) => void notifier.catalogRecovered(r).catch(() => {}), {
    given: options.repositoryPassword,
    prompt: options.repositoryPasswordPrompt,
  });
  const guests = new GuestDirectory({ ...base, store });
  const jobs = new JobService(base, store, guests);
  const scheduler = new SchedulerService({ ...base, store, guests, jobs, notifier });
  const browsing = new BrowserSessions({ clock, store, onClose: base.onClose });
  const context: EngineContext = { ...base, store, guests, notifier, jobs, scheduler, browsing };
  const service = new EngineService(context, allHandlers);
  logger.info('engine started', { dataDir, repository: config.repository, version: context.version });
  return {
    service,
    local: localOperations(context),
    dataDir,
    logger,
    context,
    onEvent: (fn) => {
      const h = (e: EngineEvent, p: unknown) => fn(e, p as never);
      bus.on('event', h);
      return () => bus.off('event', h);
    },
    startScheduler: (role, endpoint) => scheduler.start({ role, endpoint }),
    stopScheduler: () => scheduler.stop(),
    onSchedulerEvent: (fn) => scheduler.onEvent(fn),
    close: async () => {
      for (const fn of closers.reverse()) {
        try {
          await fn();
        } catch (e) {
          logger.warn('error while closing engine', { error: e });
        }
      }
      bus.removeAllListeners();
    },
  };
}

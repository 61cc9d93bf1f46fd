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
import type { EngineContext } from './service/engine-context.js';
import { EngineService } from './service/engine-service.js';
import { allHandlers } from './service/all-handlers.js';
import { getSchedulerService } from './service/schedule-handlers.js';

/** Options of createEngine; everything has a default so `createEngine()` just works. */
export interface EngineOptions {
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

/** A running engine. Caller must `close()` it. */
export interface Engine {
  readonly service: EngineService;
  readonly context: EngineContext;
  /** Subscribes to every engine event; returns an unsubscribe function. */
  onEvent(fn: <E extends EngineEvent>(event: E, payload: EngineEvents[E]) => void): () => void;
  /**
   * Runs the per-guest scheduler in this process unless another process (the background service)
   * already does for this repository; then this engine is its client. Returns who runs it.
   */
  startScheduler(role: string): { started: boolean; holder?: unknown };
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

/** The composition root: wires config, logging, hypervisors and the service. */
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
  const resources = new Map<string, unknown>();
  const closers: (() => void | Promise<void>)[] = [];
  const toolOptions = {
    vmrunPath: options.vmrunPath ?? process.env.TWINSNAP_VMRUN ?? config.vmrunPath,
    powershellPath: options.powershellPath ?? process.env.TWINSNAP_POWERSHELL ?? config.powershellPath,
  };
  // One live list: VM folders saved in Settings are searched from the next listing on (they were
  // read only at start-up, so a guest added by folder vanished from the list once powered off).
  const vmFolders = [...config.vmFolders];
  const hypervisors = options.hypervisors ?? defaultHypervisors({ ...toolOptions, vmFolders, logger, clock });

  const context: EngineContext = {
    clock,
    logger,
    dataDir,
    version: engineVersion(),
    hypervisors,
    options: { ...toolOptions, repositoryPassword: options.repositoryPassword, repositoryPasswordPrompt: options.repositoryPasswordPrompt },
    config: () => config,
    secrets,
    updateConfig: (next) => {
      saveConfig(dataDir, next);
      config = next;
      vmFolders.splice(0, vmFolders.length, ...next.vmFolders);
    },
    emit: (event, payload) => bus.emit('event', event, payload),
    lazy: <T>(key: string, factory: () => T): T => {
      if (!resources.has(key)) resources.set(key, factory());
      return resources.get(key) as T;
    },
    onClose: (fn) => closers.push(fn),
  };
  // Adapters with long-lived sessions (PowerShell) close last.
  for (const hv of hypervisors) closers.push(() => hv.dispose?.());
  const service = new EngineService(context, allHandlers);
  logger.info('engine started', { dataDir, repository: config.repository, version: context.version });
  return {
    service,
    context,
    onEvent: (fn) => {
      const h = (e: EngineEvent, p: unknown) => fn(e, p as never);
      bus.on('event', h);
      return () => bus.off('event', h);
    },
    startScheduler: (role) => getSchedulerService(context).start({ role }),
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

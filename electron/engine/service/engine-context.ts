import type { EngineEvent, EngineEvents } from '../../../shared/ipc/contract.js';
import type { Clock } from '../core/clock.js';
import type { AppConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { SecretStore } from '../core/secrets.js';
import type { Hypervisor } from '../hypervisor/hypervisor.js';

/**
 * What every service handler gets: the injected dependencies, the config, the event sink, and
 * memoised shared resources (repository, catalog, job manager…) that are opened on first use
 * and closed with the engine.
 */
export interface EngineContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly version: string;
  readonly hypervisors: Hypervisor[];
  /** Environment-level options the composition root was given (tool paths for simulators…). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Current validated config. */
  config(): AppConfig;
  /** Secrets kept out of the config (the SMTP password); never returned over the API. */
  readonly secrets: SecretStore;
  /** Validates, saves and applies a new config. */
  updateConfig(next: AppConfig): void;
  /** Publishes an engine event to every connected client. */
  emit<E extends EngineEvent>(event: E, payload: EngineEvents[E]): void;
  /** Returns the resource `key`, creating it with `factory` on first use. */
  lazy<T>(key: string, factory: () => T): T;
  /** Registers a clean-up run (in reverse order) when the engine closes. */
  onClose(fn: () => void | Promise<void>): void;
}

import type { ServiceStatus } from '../domain/engine.js';

/**
 * What the operating system's service manager says about TwinSnap's boot service (the systemd
 * unit on Linux, the scheduled task on Windows), as queried by the engine.
 */
export interface BootServiceStatus {
  /** Which service manager was asked; `none` when this platform has none TwinSnap registers with. */
  manager: 'systemd' | 'task-scheduler' | 'none';
  /** The unit (`twinsnap.service`) or task path (`\TwinSnap\Daemon`). */
  name: string;
  /** The unit file / task exists. */
  installed: boolean;
  /** It starts at boot (unit enabled; task and its boot trigger enabled). */
  enabled: boolean;
  /** It is running now. */
  active: boolean;
  /** The service's main process, when running and known. */
  pid?: number;
  /** The manager's own state words, e.g. `loaded / enabled / active (running)` or `Running`. */
  state?: string;
  /** The manager's own words when it could not be asked (the booleans are then false, i.e. unknown). */
  error?: string;
}

/**
 * The `service.status` response: who holds the repository's scheduler lock (ServiceStatus)
 * plus, additively, the service manager's view of the boot service. `bootService` is absent
 * when an older engine answers.
 */
export interface ServiceStatusResponse extends ServiceStatus {
  bootService?: BootServiceStatus;
}

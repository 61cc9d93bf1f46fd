import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Hypervisor } from './hypervisor.js';

/** What adapters need to find their tools. */
export interface HypervisorEnv {
  vmrunPath?: string;
  powershellPath?: string;
  vmFolders: string[];
  logger: Logger;
  clock: Clock;
}

/** The adapters for this host. Adapters register here as they are implemented. */
export function defaultHypervisors(_env: HypervisorEnv): Hypervisor[] {
  return [];
}

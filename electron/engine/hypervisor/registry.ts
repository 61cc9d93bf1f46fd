import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Hypervisor } from './hypervisor.js';
import { VmrunHypervisor } from './vmware/vmrun-hypervisor.js';
import { HyperVHypervisor } from './hyperv/hyperv-hypervisor.js';

/** What adapters need to find their tools. */
export interface HypervisorEnv {
  vmrunPath?: string;
  powershellPath?: string;
  vmFolders: string[];
  logger: Logger;
  clock: Clock;
}

/**
 * The adapters for this host: VMware (vmrun) and Hyper-V (PowerShell). Constructing them starts
 * nothing; detect() looks for the tools lazily, never throws, and costs a few file checks when a
 * tool is missing (CI has neither real tool; the simulators plug in through the same paths).
 */
export function defaultHypervisors(env: HypervisorEnv): Hypervisor[] {
  return [
    new VmrunHypervisor({ vmrunPath: env.vmrunPath, vmFolders: env.vmFolders, logger: env.logger.child({ hv: 'vmware' }), clock: env.clock }),
    new HyperVHypervisor({ powershellPath: env.powershellPath, logger: env.logger.child({ hv: 'hyperv' }), clock: env.clock }),
  ];
}

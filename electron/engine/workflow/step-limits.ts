import type { WorkflowStepLimits } from '../hypervisor/hypervisor.js';
import { DEFAULT_STEP_TIMEOUTS, type BackupStepId } from './backup-steps.js';

/**
 * How many times its no-progress limit a step that keeps reporting progress (bytes copied, a
 * merge advancing) may take in all: the watchdog's ceiling.
 */
export const PROGRESS_CEILING_FACTOR = 10;

type Configured = Partial<Record<BackupStepId, number>> | undefined;

/**
 * A step's time limit when its calls report no progress: the user's explicit limit, else the
 * larger of the workflow's default and what the adapter needs for this VM (`stepLimits(vm)`,
 * e.g. an hours-long Hyper-V export of a large disk). 0 = none.
 */
export function stepLimit(id: BackupStepId, configured: Configured, adapter: WorkflowStepLimits): number {
  const own = configured?.[id];
  if (own !== undefined) return own;
  const def = DEFAULT_STEP_TIMEOUTS[id];
  const need = (adapter as Partial<Record<BackupStepId, number>>)[id];
  if (def === 0) return 0;
  return need !== undefined && Number.isFinite(need) && need > def ? need : def;
}

/** How long a step that did report progress may go without another report (the stall limit). */
export function stepIdleLimit(id: BackupStepId, configured: Configured): number {
  return configured?.[id] ?? DEFAULT_STEP_TIMEOUTS[id];
}

/** The most a step that keeps reporting progress may take in all (0 = none). */
export function stepCeiling(id: BackupStepId, configured: Configured, adapter: WorkflowStepLimits): number {
  return stepLimit(id, configured, adapter) * PROGRESS_CEILING_FACTOR;
}

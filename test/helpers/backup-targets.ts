import { AppError } from '../../shared/errors/app-error.js';
import type { Hypervisor } from '../../electron/engine/hypervisor/hypervisor.js';
import type { BackupTarget } from '../../electron/engine/workflow/job-manager.js';
import { assignGuestIds } from '../../electron/engine/service/guest-directory.js';

/**
 * Backup targets for JobManager tests that drive it without an engine: the VMs of `hypervisors`
 * named (or located) `refs`, with the identity the engine would give them (no catalog).
 */
export async function backupTargets(hypervisors: Hypervisor[], refs: string[]): Promise<BackupTarget[]> {
  const listed = [];
  for (const hypervisor of hypervisors) for (const vm of await hypervisor.listVms()) listed.push({ hypervisor, vm });
  const live = assignGuestIds(listed, () => undefined);
  return refs.map((ref) => {
    const l = live.find((x) => x.guest.name === ref || x.vm.id === ref || x.guest.id === ref);
    if (!l) throw new AppError('HV_VM_NOT_FOUND', `no guest named '${ref}' was found`);
    return { guestId: l.guest.id, hypervisor: l.hypervisor, vm: l.vm };
  });
}

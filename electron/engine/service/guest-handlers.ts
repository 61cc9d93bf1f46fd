import type { Guest } from '../../../shared/domain/guest.js';
import type { VmInfo } from '../hypervisor/hypervisor.js';
import type { HandlerFactory } from './handlers.js';

/** Maps an adapter's VmInfo to the contract's Guest. */
export function toGuest(kind: Guest['hypervisor'], vm: VmInfo): Guest {
  const warnings: string[] = [];
  if (vm.encrypted) warnings.push('encrypted VM: twin backups are not possible');
  if (vm.state === 'running' && !vm.toolsRunning) warnings.push('guest tools are not running: a clean twin shutdown is not possible');
  return {
    id: `${kind}:${vm.id}`,
    name: vm.name,
    hypervisor: kind,
    state: vm.state,
    memoryMiB: vm.memoryMiB,
    disks: vm.disks.map((d) => ({ name: d.slot, path: d.path })),
    configPath: vm.configPath,
    toolsRunning: vm.toolsRunning,
    warnings,
  };
}

/** guests.list: every VM of every available adapter. */
export const guestHandlers: HandlerFactory = (ctx) => ({
  'guests.list': async ({ hypervisor }) => {
    const out: Guest[] = [];
    for (const h of ctx.hypervisors) {
      if (hypervisor && h.kind !== hypervisor) continue;
      const info = await h.detect();
      if (!info.available) continue;
      const vms = await h.listVms();
      out.push(...vms.map((vm) => toGuest(h.kind, vm)));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  },
});

import { statSync } from 'node:fs';
import type { VmInfo, WorkflowStepLimits } from '../hypervisor.js';

/** Worst-case rates the limits assume (a busy HDD): disks exported / merged, memory saved / restored. */
export const HYPERV_DISK_BYTES_PER_S = 20e6;
export const HYPERV_MEMORY_BYTES_PER_S = 50e6;

/** Bytes a disk file occupies on the host (0 when it cannot be read: the defaults then apply). */
function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * What a Hyper-V twin backup of `vm` needs per step (the workflow takes max with its defaults,
 * workflow/step-limits.ts): `Export-VMSnapshot` in copy-config and the checkpoint merge in
 * clean-up move every byte of the disks (real-host review: an export of a real-sized VM takes
 * far longer than 120 s; a merge "took 3 min", hyper-v.md §1.4); the Standard checkpoint saves the
 * memory and the twin's start restores it. `diskBytes` overrides the sizes read from the files.
 */
export function hypervStepLimits(vm: VmInfo, diskBytes = vm.disks.reduce((a, d) => a + fileBytes(d.path), 0)): WorkflowStepLimits {
  const disks = 600_000 + (diskBytes / HYPERV_DISK_BYTES_PER_S) * 1000;
  const memory = 120_000 + ((vm.memoryMiB * 2 ** 20) / HYPERV_MEMORY_BYTES_PER_S) * 1000;
  return { freeze: Math.round(memory), 'copy-config': Math.round(disks), 'boot-twin': Math.round(300_000 + memory), cleanup: Math.round(disks) };
}

import type { VmxFile } from './vmx-file.js';
import { withNewIdentity } from './twin-config.js';
import { vmxNics } from './vmx-facts.js';

/**
 * The identity of a VM restored as a new VM (reference vmware-workstation.md §2.2, §5.5): it must
 * run beside the original, so it may not share the original's BIOS UUID or MAC addresses.
 * - `displayName` = the name the user chose;
 * - `uuid.location` and `vc.uuid` removed, a fresh `uuid.bios`, `uuid.action = "create"` and
 *   `msg.autoAnswer = "TRUE"` so no "moved or copied?" question blocks a headless start;
 * - every `ethernetN.generatedAddress(Offset)` and static `ethernetN.address` removed and
 *   `addressType = "generated"`, so Workstation makes new MACs at the first power-on (the Packer
 *   clone recipe, S5);
 * - no suspend state (`checkpoint.vmState`): the restored folder has none, it boots cold;
 * - host-specific paths (`workingDir`, `sched.swap.derivedName`) dropped.
 * Network connections are kept as they were: the user asked for a runnable copy.
 * Returns a new VmxFile; does not touch the file system.
 */
export function restoredVmIdentity(original: VmxFile, name: string): VmxFile {
  const vmx = withNewIdentity(original, name);
  vmx.delete('checkpoint.vmState');
  vmx.delete('checkpoint.vmState.readOnly');
  vmx.delete('vmotion.checkpointFBSize');
  vmx.deleteMatching(/^ethernet\d+\.(generatedaddress|generatedaddressoffset|address)$/);
  for (const nic of vmxNics(original)) vmx.set(`${nic}.addressType`, 'generated');
  return vmx;
}

import { AppError } from '../../../../shared/errors/app-error.js';
import { VmxFile } from './vmx-file.js';
import { withNewIdentity } from './twin-config.js';
import { vmxDisks, vmxNics } from './vmx-facts.js';
import { applyVmxNetwork } from './restored-network.js';
import type { HostNetwork, RestoreNetwork } from '../../../../shared/domain/guest.js';

/** The network a restored `.vmx` gets (restored-network.ts): the choice and, to connect, the host's network. */
export interface VmxNetworkChoice {
  network: RestoreNetwork;
  target?: HostNetwork;
}

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
 * Network connections are not changed here: applyVmxNetwork writes the user's choice.
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

/** A disk of a restored folder: the repository's name for it, its file and its format. */
export interface RestoredDiskFile {
  name: string;
  fileName: string;
  format: string;
}

/** A file name for `name` on any host: no path separators, reserved characters or controls. */
export function vmFileStem(name: string): string {
  const clean = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').replace(/^[.\s]+|[.\s]+$/g, '');
  return clean.slice(0, 200) || 'restored';
}

/** The slot key's own form in a repository disk name (`scsi0:0` → `scsi0-0`, as the backup names it). */
const slotDiskName = (slot: string) => slot.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');

/**
 * Lays out a VMware VM restored as a new VM (reference vmware-workstation.md §2.2): the `.vmx` is
 * named after the VM (`<name>.vmx`, not the backup's `production.vmx`) and gets a new identity
 * (restoredVmIdentity) and the chosen network (`net`, default every adapter disconnected at
 * power-on); see layoutVmwareFolder for the disks. Pure: returns the new layout.
 */
export function planRestoredVmwareFolder<D extends RestoredDiskFile>(
  input: { configFiles: { name: string; data: Buffer }[]; disks: D[] },
  name: string,
  net: VmxNetworkChoice = { network: { kind: 'disconnected' } },
): { configFiles: { name: string; data: Buffer }[]; disks: D[] } {
  return layoutVmwareFolder(input, `${vmFileStem(name)}.vmx`, (vmx) => applyVmxNetwork(restoredVmIdentity(vmx, name), net.network, net.target));
}

/**
 * Lays out a VMware VM restored over the original ("replace the original"): the same `.vmx` file
 * name and the same identity (UUID, MAC addresses, name) — it is the same VM, back in time —
 * with every disk slot naming its restored disk in the VM's folder, on the original's networks
 * unless `net` says otherwise.
 */
export function planReplacedVmwareFolder<D extends RestoredDiskFile>(
  input: { configFiles: { name: string; data: Buffer }[]; disks: D[] },
  vmxFileName: string,
  net: VmxNetworkChoice = { network: { kind: 'original' } },
): { configFiles: { name: string; data: Buffer }[]; disks: D[] } {
  return layoutVmwareFolder(input, vmxFileName, (vmx) => {
    const out = vmx.clone();
    out.delete('checkpoint.vmState'); // the restored folder has no suspend state: it boots cold
    out.delete('checkpoint.vmState.readOnly');
    return applyVmxNetwork(out, net.network, net.target);
  });
}

/**
 * The common part: the `.vmx` (written as `vmxName`, rewritten by `adapt`) names exactly the
 * restored disk files, relative to the folder. A disk keeps the file name the original VM gave it
 * (the backup stores the twin's child, `scsi0-0.vmdk`). A repository disk belongs to the slot it
 * was taken from (`scsi0-0` ↔ `scsi0:0`), else to the slot whose file has its stored name, else —
 * one disk, one slot — to that slot. Workstation opens only VMDK disks, so any other format is
 * refused (DISK_UNSUPPORTED: restore the disks only for those).
 */
function layoutVmwareFolder<D extends RestoredDiskFile>(
  input: { configFiles: { name: string; data: Buffer }[]; disks: D[] },
  vmxName: string,
  adapt: (vmx: VmxFile) => VmxFile,
): { configFiles: { name: string; data: Buffer }[]; disks: D[] } {
  const vmxFiles = input.configFiles.filter((c) => /\.vmx$/i.test(c.name));
  if (vmxFiles.length !== 1) return input;
  const notVmdk = input.disks.find((d) => d.format !== 'vmdk');
  if (notVmdk) {
    throw new AppError(
      'DISK_UNSUPPORTED',
      `vmware workstation opens only vmdk disks, so a whole vmware vm cannot be restored with its disks as ${notVmdk.format}: choose the original format or vmdk, or restore the disks only`,
    );
  }
  const original = VmxFile.parse(vmxFiles[0]!.data);
  const slots = vmxDisks(original, '/restored/production.vmx');
  const vmx = adapt(original);
  const stem = vmxName.replace(/\.vmx$/i, '');
  const used = new Set<string>([vmxName.toLowerCase()]);
  const disks = input.disks.map((d) => ({ ...d }));
  const unplaced = new Set(disks);
  const place = (slot: (typeof slots)[number], d: D) => {
    unplaced.delete(d);
    const base =
      slot.fileNameValue
        .split(/[\\/]/)
        .pop()!
        .replace(/\.[^.]*$/, '') || stem;
    let file = `${vmFileStem(base)}.vmdk`;
    if (used.has(file.toLowerCase())) file = `${vmFileStem(base)}-${slotDiskName(slot.slot)}.vmdk`;
    used.add(file.toLowerCase());
    d.fileName = file;
    vmx.set(`${slot.slot}.fileName`, file);
  };
  const open = [...slots];
  for (const pick of [
    (s: (typeof slots)[number], d: D) => d.name.toLowerCase() === slotDiskName(s.slot).toLowerCase(),
    (s: (typeof slots)[number], d: D) => s.fileNameValue.split(/[\\/]/).pop()!.toLowerCase() === d.fileName.toLowerCase().replace(/\.[^.]*$/, '.vmdk'),
  ]) {
    for (const s of [...open]) {
      const d = [...unplaced].find((x) => pick(s, x));
      if (!d) continue;
      place(s, d);
      open.splice(open.indexOf(s), 1);
    }
  }
  if (open.length === 1 && unplaced.size === 1) place(open.pop()!, [...unplaced][0]!);
  if (open.length) {
    throw new AppError('MANIFEST_CORRUPT', `the restore point holds no disk for slot ${open.map((s) => s.slot).join(', ')} of the vm's configuration, so the restored vm could not start`);
  }
  return {
    configFiles: [...input.configFiles.filter((c) => c !== vmxFiles[0]), { name: vmxName, data: vmx.toBuffer() }],
    disks,
  };
}

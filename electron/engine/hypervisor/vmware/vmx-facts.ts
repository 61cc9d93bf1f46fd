import { dirname, isAbsolute, join, win32, posix } from 'node:path';
import type { VmDisk } from '../hypervisor.js';
import type { VmxFile } from './vmx-file.js';

/**
 * What TwinSnap reads from a .vmx (reference vmware-workstation.md §2.2): disks, NICs, memory,
 * suspend state, encryption. Pure functions over a parsed VmxFile.
 */

/** A disk slot key such as `scsi0:1` with its `fileName` resolved against the .vmx folder. */
export interface VmxDisk extends VmDisk {
  /** The value as written in the .vmx (relative or absolute). */
  fileNameValue: string;
}

const DISK_KEY = /^((?:scsi|sata|nvme|ide)\d+:\d+)\.filename$/i;

/** Resolves a .vmx path value (relative to the .vmx's folder, or absolute in host syntax). */
export function resolveVmxPath(vmxPath: string, value: string): string {
  if (isAbsolute(value) || win32.isAbsolute(value)) return value;
  const usesWin = /^[A-Za-z]:[\\/]/.test(vmxPath) || vmxPath.startsWith('\\\\');
  return usesWin ? win32.join(win32.dirname(vmxPath), value) : join(dirname(vmxPath), value);
}

/** Hard disks (VMDKs) attached and present; CD/DVD images and absent slots are skipped. */
export function vmxDisks(vmx: VmxFile, vmxPath: string): VmxDisk[] {
  const out: VmxDisk[] = [];
  for (const [key, value] of vmx.entries()) {
    const m = DISK_KEY.exec(key);
    if (!m) continue;
    const slot = m[1]!.toLowerCase();
    if (/^false$/i.test(vmx.get(`${slot}.present`) ?? 'TRUE')) continue;
    const deviceType = (vmx.get(`${slot}.deviceType`) ?? '').toLowerCase();
    if (deviceType.startsWith('cdrom') || deviceType === 'atapi-cdrom') continue;
    if (!/\.vmdk$/i.test(value)) continue;
    out.push({ slot, path: resolveVmxPath(vmxPath, value), fileNameValue: value });
  }
  return out;
}

/** Indices N of `ethernetN` adapters that are present. */
export function vmxNics(vmx: VmxFile): string[] {
  const nics = new Set<string>();
  for (const [key] of vmx.entries()) {
    const m = /^(ethernet\d+)\.present$/i.exec(key);
    if (m && /^true$/i.test(vmx.get(key) ?? '')) nics.add(m[1]!.toLowerCase());
  }
  return [...nics];
}

/** Memory in MiB (`memsize`), 0 when absent. */
export function vmxMemoryMiB(vmx: VmxFile): number {
  const n = Number(vmx.get('memsize') ?? '0');
  return Number.isFinite(n) ? n : 0;
}

/** vCPUs (`numvcpus`, default 1). */
export function vmxCpus(vmx: VmxFile): number {
  const n = Number(vmx.get('numvcpus') ?? '1');
  return Number.isFinite(n) && n > 0 ? n : 1;
}

/** The suspended-state file (`checkpoint.vmState`), resolved; undefined when not suspended. */
export function vmxSuspendState(vmx: VmxFile, vmxPath: string): string | undefined {
  const v = vmx.get('checkpoint.vmState');
  if (!v) return undefined;
  const workingDir = vmx.get('workingDir');
  if (workingDir && !isAbsolute(v) && !win32.isAbsolute(v)) return resolveVmxPath(posix.join(resolveVmxPath(vmxPath, workingDir), 'x.vmx'), v);
  return resolveVmxPath(vmxPath, v);
}

/**
 * Encrypted VMs carry `encryption.keySafe` / `encryption.data` (their real settings are inside the
 * encrypted blob), reference §1.5 and §5.8.
 */
export function vmxEncrypted(vmx: VmxFile): boolean {
  return vmx.has('encryption.keySafe') || vmx.has('encryption.data') || vmx.has('dataFileKey');
}

/** The name a user sees: `displayName`, else the file name without `.vmx`. */
export function vmxDisplayName(vmx: VmxFile, vmxPath: string): string {
  return vmx.get('displayName') ?? win32.basename(posix.basename(vmxPath)).replace(/\.vmx$/i, '');
}

/** The VM's `uuid.bios` (its identity across renames and moves; a copy answered "copied" gets a new one), when set. */
export function vmxUuidBios(vmx: VmxFile): string | undefined {
  const v = vmx.get('uuid.bios')?.trim();
  return v ? v : undefined;
}

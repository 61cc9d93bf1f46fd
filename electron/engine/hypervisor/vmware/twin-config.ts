import { randomBytes } from 'node:crypto';
import type { VmxFile } from './vmx-file.js';
import { vmxDisks } from './vmx-facts.js';
import { isolateNics } from './twin-isolation.js';

/**
 * copy-config for VMware (reference vmware-workstation.md §2.2, §2.4, §5.3–5.5): the twin's .vmx
 * is the production .vmx as it was at suspend time, with
 * - a new `displayName`, `uuid.location` removed, a fresh `uuid.bios`, `uuid.action = "create"`
 *   and `msg.autoAnswer = "TRUE"` so no "moved or copied?" question can block a headless start;
 * - every NIC's backing moved to a private LAN segment of its own (`connectionType = "pvn"`, a
 *   fresh random `pvnID`) plus `startConnected = "FALSE"` (twin-isolation.ts); devices stay
 *   present (changing the hardware of a suspended VM breaks its resume, S21);
 * - each hard disk pointing at a new child VMDK in the twin folder (parent = the frozen disk);
 * - `checkpoint.vmState` naming the twin's own copy of the suspend state (and its `.vmem` beside
 *   it, same base name), so starting the twin resumes it;
 * - host-specific paths dropped (`workingDir`, `sched.swap.derivedName`, `extendedConfigFile`
 *   renamed, `nvram` pointing at the twin's copy).
 * The `.lck` directories, logs and the `.vmsd` snapshot list are never carried over.
 */

/** Inputs of buildTwinVmx. */
export interface TwinVmxInput {
  /** The production .vmx as read right after the suspend. */
  production: VmxFile;
  productionVmxPath: string;
  displayName: string;
  /** File name (in the twin folder) of the twin's suspend state, or undefined to cold-boot. */
  vmssFileName?: string;
  /** File name of the twin's nvram copy, if one was made. */
  nvramFileName?: string;
  /** Base name for `extendedConfigFile`. */
  baseName: string;
  /** LAN-segment ids (normalised) the twin must not use: the host's named segments, production's. */
  takenPvnIds?: ReadonlySet<string>;
}

/** A disk the twin needs: the child file name to create and the frozen parent it points at. */
export interface TwinDiskPlan {
  slot: string;
  childFileName: string;
  parentPath: string;
}

/** Builds the twin's .vmx and says which child disks to create. Does not touch the file system. */
export function buildTwinVmx(input: TwinVmxInput): { vmx: VmxFile; disks: TwinDiskPlan[]; segments: Record<string, string> } {
  const vmx = withNewIdentity(input.production, input.displayName);
  vmx.set('extendedConfigFile', `${input.baseName}.vmxf`);
  if (input.nvramFileName) vmx.set('nvram', input.nvramFileName);
  else vmx.delete('nvram');
  const segments = isolateNics(vmx, input.takenPvnIds ?? new Set());

  const disks: TwinDiskPlan[] = [];
  for (const d of vmxDisks(input.production, input.productionVmxPath)) {
    const childFileName = `${d.slot.replace(':', '-')}.vmdk`;
    vmx.set(`${d.slot}.fileName`, childFileName);
    disks.push({ slot: d.slot, childFileName, parentPath: d.path });
  }

  if (input.vmssFileName) {
    vmx.set('checkpoint.vmState', input.vmssFileName);
  } else {
    // Cold boot (the Vagrant recipe, S6): forget the suspend state entirely.
    vmx.delete('checkpoint.vmState');
    vmx.delete('checkpoint.vmState.readOnly');
    vmx.delete('vmotion.checkpointFBSize');
  }
  return { vmx, disks, segments };
}

/**
 * A copy of `original` that is a VM of its own: the given display name, a fresh `uuid.bios`
 * (`uuid.location` / `vc.uuid` dropped, `uuid.action = create` and `msg.autoAnswer` so no
 * "moved or copied?" question blocks a start without a window), host-specific paths dropped.
 * Shared by the twin and the restored VM.
 */
export function withNewIdentity(original: VmxFile, displayName: string): VmxFile {
  const vmx = original.clone();
  vmx.set('displayName', displayName);
  vmx.delete('uuid.location');
  vmx.delete('vc.uuid');
  vmx.set('uuid.bios', randomUuidBios());
  vmx.set('uuid.action', 'create');
  vmx.set('msg.autoAnswer', 'TRUE');
  vmx.delete('workingDir');
  vmx.delete('sched.swap.derivedName');
  return vmx;
}

/** A random `uuid.bios` in VMware's spelling: `56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65`. */
export function randomUuidBios(): string {
  const b = [...randomBytes(16)].map((x) => x.toString(16).padStart(2, '0'));
  return `${b.slice(0, 8).join(' ')}-${b.slice(8).join(' ')}`;
}

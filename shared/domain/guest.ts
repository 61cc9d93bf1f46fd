import type { GuestId } from './guest-id.js';

/** Which hypervisor family a guest belongs to. */
export type HypervisorKind = 'vmware' | 'hyperv';
/** Power state as the engine reports it, whatever the hypervisor's own words. */
export type GuestState = 'running' | 'off' | 'suspended' | 'paused' | 'unknown';
/** How a guest's backups are made consistent. */
export type ConsistencyPolicy = 'require-clean' | 'allow-crash';

/** What the engine detected about a hypervisor's tools on this host. */
export interface HypervisorInfo {
  kind: HypervisorKind;
  available: boolean;
  /** Path of the tool used (vmrun, powershell), when found. */
  toolPath?: string;
  version?: string;
  /** Why it is not usable, in words an admin can act on. */
  problem?: string;
}

/** A virtual disk attached to a guest. */
export interface GuestDisk {
  name: string;
  path: string;
  sizeBytes?: number;
}

/** A VM known to one of the hypervisor adapters. */
export interface Guest {
  /** The guest's identity (see guest-id.ts): `hyperv:<VM id>` or `vmware:<uuid.bios>`. */
  id: GuestId;
  /** Display name: a label that may change and need not be unique (see `folder`). */
  name: string;
  /** The folder of its configuration: tells apart guests that share a name. */
  folder?: string;
  hypervisor: HypervisorKind;
  state: GuestState;
  memoryMiB?: number;
  disks: GuestDisk[];
  configPath?: string;
  toolsRunning?: boolean;
  warnings: string[];
}

/** A guest a reference (id or name) can mean: what an ambiguity error lists. */
export interface GuestCandidate {
  id: GuestId;
  name: string;
  hypervisor?: HypervisorKind;
  folder?: string;
}

/**
 * A network the host offers to a restored VM's adapters (restore.networks). Hyper-V: a virtual
 * switch (`Get-VMSwitch`: its name, `kind` its SwitchType External / Internal / Private). VMware
 * Workstation: `bridged`, `nat`, `hostonly`, a custom `vmnetN` or a LAN segment by its name.
 */
export interface HostNetwork {
  /** What the user picks and `twinsnap restore --network NAME` takes. */
  name: string;
  /** e.g. 'External', 'Internal', 'Private' (Hyper-V); 'bridged', 'nat', 'hostonly', 'custom', 'lan-segment' (VMware). */
  kind: string;
  /** A short description for the picker (e.g. the physical adapter of an External switch). */
  detail?: string;
  /** The host's id of it where the configuration names it by id (a VMware LAN segment's pvnID). */
  id?: string;
}

/**
 * Where a whole-VM restore puts the restored VM's network adapters: left disconnected (the
 * default of "as a new VM": a copy beside the running original would conflict with its IP
 * address, computer name and domain membership), kept on the original's networks (the default
 * of "replace the original"), or connected to one network of the host by name.
 */
export type RestoreNetwork = { kind: 'disconnected' } | { kind: 'original' } | { kind: 'network'; name: string };

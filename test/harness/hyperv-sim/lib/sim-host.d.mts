/** A simulated VM record (see state.mjs). */
export interface SimVm {
  id: string;
  name: string;
  state: string;
  path: string;
  disks: { slot: string; path: string; format?: string }[];
  nics: { name: string; switchName: string; connected: boolean }[];
  guest: { ignoresPowerButton: boolean; runsIntegrationServices: boolean };
  checkpointType: string;
  automaticCheckpointsEnabled?: boolean;
}
/** Options of addSimVm. */
export interface AddSimVmOptions {
  name?: string;
  state?: string;
  memoryMiB?: number;
  diskMiB?: number;
  ignoresPowerButton?: boolean;
  noIntegrationServices?: boolean;
  shielded?: boolean;
  /** The guest's console session is locked: it refuses an unforced shutdown (32781). */
  lockedSession?: boolean;
  /** The guest reports KVP ProductType 2 (VER_NT_DOMAIN_CONTROLLER) while it runs. */
  domainController?: boolean;
  /** The VM's notes (Hyper-V Manager → Settings → Name → Notes). */
  notes?: string;
}
/** Adds a VM with a real VHDX disk to the simulated host at `root`. */
export function addSimVm(root: string, opts?: AddSimVmOptions): SimVm;
/** The host state. */
export function simState(root: string): { vms: SimVm[]; snapshots: { id: string; vmId: string; created: string[] }[]; host: { virtualMachinePath: string } };
/** Registers a vmrun-sim style VM folder (VHDX disk) as a real-guest Hyper-V VM; `start` boots it. */
export function adoptSimVm(root: string, opts: { name: string; vmxPath: string; diskPath: string; memoryMiB?: number; start?: boolean }): SimVm;
/** Sets the host's virtual switches (what Get-VMSwitch lists): names (Internal switches), or { name, type, adapter }. */
export function setSimSwitches(root: string, switches: (string | { name: string; type: 'External' | 'Internal' | 'Private'; adapter?: string })[]): void;

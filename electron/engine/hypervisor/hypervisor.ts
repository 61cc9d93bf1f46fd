import type { GuestState, HostNetwork, HypervisorInfo, HypervisorKind, RestoreNetwork } from '../../../shared/domain/guest.js';

/** What an adapter can do; the workflow and pre-flight checks branch on these, not on kind. */
export interface HypervisorCapabilities {
  /** Can capture memory state (suspend / snapshot with memory / Standard checkpoint). */
  memoryState: boolean;
  /** Can build a twin whose disks are children of the frozen disks (no full copy). */
  linkedTwin: boolean;
  /**
   * freeze() returns with production already running again: the pause happens inside the
   * hypervisor's call (Hyper-V Standard checkpoint). The workflow then calls resume() (a no-op)
   * before building the twin, so a full-copy twin (linkedTwin false) never copies while
   * production waits. False: production stays suspended until resume() (VMware suspend).
   */
  runningAfterFreeze: boolean;
  /** Can ask the guest to shut down cleanly (Tools / Shutdown integration service / ACPI). */
  gracefulShutdown: boolean;
  /** Can register a restored VM with the hypervisor. */
  register: boolean;
}

/** A disk of a VM as the adapter sees it. */
export interface VmDisk {
  /** Controller slot, e.g. `scsi0:0` or `SCSI 0 0`. */
  slot: string;
  /** Absolute path of the disk file the VM uses now (top of its chain). */
  path: string;
}

/** A VM as an adapter reports it. */
export interface VmInfo {
  /** The adapter's locator of the VM (VMware: .vmx path; Hyper-V: VM id GUID). */
  id: string;
  name: string;
  /**
   * VMware: the .vmx's `uuid.bios` as written (absent until Workstation first powers the VM on).
   * The service turns it into the guest's identity (shared/domain/guest-id.ts).
   */
  uuidBios?: string;
  state: GuestState;
  memoryMiB: number;
  cpus?: number;
  disks: VmDisk[];
  /** Folder / config file of the VM. */
  configPath?: string;
  toolsRunning: boolean;
  encrypted: boolean;
  /** Network adapters (names or ids) — twins have all of them disconnected. */
  nics: string[];
  /** Things the user should know (e.g. "VMware Player cannot snapshot"); never secrets. */
  warnings?: string[];
}

/**
 * Adapter-private facts that must survive an engine crash (the workflow journals FrozenState and
 * TwinVm as JSON). Plain strings only.
 */
export type AdapterData = Record<string, string>;

/** The frozen production state from which a twin is built. */
export interface FrozenState {
  vm: VmInfo;
  /** Adapter-specific handle (snapshot name, checkpoint id, suspended-state file). */
  handle: string;
  /** Disks as frozen: each a read-only chain that the twin's child disk points at. */
  frozenDisks: VmDisk[];
  /** Extra files that describe the VM's configuration, to store in the manifest. */
  configFiles: { name: string; path: string }[];
  /** Adapter-private facts (e.g. where the memory state was staged); journal it with the rest. */
  adapterData?: AdapterData;
  /**
   * Absolute paths of the memory-state files TwinSnap captured at the freeze and owns (never
   * production's live files). Doctor hashes them to prove production never writes them.
   */
  memoryFiles?: string[];
  /**
   * Milliseconds freeze() spent waiting on the hypervisor's own calls (suspend, snapshot,
   * checkpoint). The engine's share of the pause = pause − this − the resume call.
   */
  hypervisorCallMs?: number;
}

/** A twin VM built from a frozen state. */
export interface TwinVm {
  id: string;
  name: string;
  /** The twin's folder; removed at clean-up. */
  folder: string;
  /** The twin's disks (child of the frozen disks), read as one chain when archiving. */
  disks: VmDisk[];
  /** Adapter-private facts (e.g. the twin's config file); journal it with the rest. */
  adapterData?: AdapterData;
  /** The memory-state files the twin will resume from (owned by TwinSnap, see FrozenState.memoryFiles). */
  memoryFiles?: string[];
  /** Bytes the adapter wrote on the host to build the twin (copies, exports); recorded in the manifest. */
  hostBytesWritten?: number;
  /**
   * The twin's configuration as the hypervisor wrote it (Hyper-V: the export's .vmcx / .vmgs), to
   * store in the snapshot beside FrozenState.configFiles, so a whole-VM restore can import it.
   */
  configFiles?: { name: string; path: string }[];
}

/** Space a backup of a VM will take on the host outside the VM's own folder, per place. */
export interface HostSpaceNeed {
  /** A folder on the volume that receives the writes (it may not exist yet). */
  path: string;
  bytes: number;
  /** Lowercase, for the pre-flight message: e.g. 'the export of the disks (4096 MiB) and the memory state (2 × 2048 MiB)'. */
  what: string;
}

/** What the host can tell about the guest's role (pre-flight: checkpoint support). */
export interface GuestRoles {
  /** True when the guest reports itself a domain controller; undefined when nothing could be read. */
  domainController?: boolean;
  /** How that was found (or why it could not be), for the job log. */
  evidence: string;
}

/** A restored VM folder made into a VM of its own (new identity, registered where the tool needs it). */
export interface RestoredVm {
  /** The adapter's id of the new VM (VMware: its .vmx path; Hyper-V: its new VM id). */
  id: string;
  /** The name the user chose. */
  name: string;
  /** Where its configuration now lives. */
  configPath: string;
  /** Files of the restored folder that should have been cleaned up but could not be (left in place). */
  notRemoved?: string[];
}

/** Progress of a long hypervisor call (export, merge, copy). Any report proves the call is alive. */
export interface CallProgress {
  bytesDone?: number;
  bytesTotal?: number;
  detail?: string;
}

/** Per-call options: every hypervisor call is bounded in time and can be cancelled. */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called by the adapter whenever a long call advances; the workflow's watchdog then does not kill it for being slow. */
  onProgress?: (p: CallProgress) => void;
}

/** How the twin was isolated from every network, as verified after it started. */
export interface TwinIsolation {
  verified: boolean;
  /** e.g. 'vmx: every NIC on a private LAN segment (pvn) + disconnectNamedDevice; vmware.log checked' */
  method: string;
  detail: string;
}

/** What startTwin observed. */
export interface TwinStartReport {
  isolation: TwinIsolation;
}

/** How the twin was shut down (recorded in the snapshot manifest). */
export interface ShutdownReport {
  /** e.g. 'vmrun stop soft', 'Msvm_ShutdownComponent.InitiateShutdown(Force=true)', 'Stop-VM' */
  method: string;
}

export type WorkflowStepLimits = Partial<Record<'freeze' | 'copy-config' | 'resume' | 'boot-twin' | 'shutdown-twin' | 'cleanup', number>>;

/**
 * The Hypervisor port. Implementations: VmrunHypervisor (VMware Workstation), HyperVHypervisor
 * (PowerShell). Each call maps tool failures to AppError codes (HV_*). See hypervisor/README.md.
 */
export interface Hypervisor {
  readonly kind: HypervisorKind;
  readonly capabilities: HypervisorCapabilities;
  /** Detects the tool (path, version, edition) and says what is missing. Never throws. */
  detect(): Promise<HypervisorInfo>;
  /** All VMs this adapter can see (running and registered / configured folders). */
  listVms(opts?: CallOptions): Promise<VmInfo[]>;
  /** Fresh information about one VM (by id). */
  getVm(id: string, opts?: CallOptions): Promise<VmInfo>;
  /** Freezes production and captures disk + memory state. Production is paused/suspended after. */
  freeze(vm: VmInfo, opts?: CallOptions): Promise<FrozenState>;
  /** Builds a twin (copy-config) from the frozen state, with disconnected NICs and child disks. */
  buildTwin(frozen: FrozenState, twinName: string, opts?: CallOptions): Promise<TwinVm>;
  /** Lets production run again (resume from suspend / the checkpoint leaves it running). */
  resume(frozen: FrozenState, opts?: CallOptions): Promise<void>;
  /**
   * Starts the twin isolated; it resumes from the captured memory state. An adapter that cannot
   * verify isolation powers the twin off hard itself and rejects with HV_TWIN_NOT_ISOLATED.
   */
  startTwin(twin: TwinVm, opts?: CallOptions): Promise<TwinStartReport | void>;
  /** Whether the twin's guest tools / integration services answer (so soft stop can work). */
  twinToolsRunning(twin: TwinVm, opts?: CallOptions): Promise<boolean>;
  /** Graceful shutdown of the twin; rejects HV_SHUTDOWN_TIMEOUT if it does not power off in time. */
  shutdownTwin(twin: TwinVm, opts?: CallOptions): Promise<ShutdownReport | void>;
  /** Hard power-off (only after a graceful attempt failed, or during clean-up). */
  powerOffTwin(twin: TwinVm, opts?: CallOptions): Promise<void>;
  /** Removes the twin and its files. Idempotent. */
  deleteTwin(twin: TwinVm, opts?: CallOptions): Promise<void>;
  /** Removes the production snapshot / merges the checkpoint, and waits for it. Idempotent. */
  releaseFrozen(frozen: FrozenState, opts?: CallOptions): Promise<void>;
  /**
   * Crash recovery: given what a journal recorded, makes sure production runs and leftovers are
   * gone. Idempotent; never throws for things already cleaned up.
   */
  recover(record: { vmId: string; handle?: string; twin?: TwinVm }, opts?: CallOptions): Promise<void>;
  /**
   * Makes a restored VM folder safe to run beside the original and known to the hypervisor: a new
   * identity (VMware: new BIOS UUID and MAC addresses; Hyper-V: Import-VM -Copy -GenerateNewId),
   * the chosen name and the chosen network (`opts.network`, default disconnected; a network the
   * host lacks is HV_NETWORK_NOT_FOUND before anything is changed). Only when `capabilities.register`.
   */
  registerRestored?(folder: string, name: string, opts?: CallOptions & { network?: RestoreNetwork }): Promise<RestoredVm>;
  /**
   * The networks a restored VM's adapters can be connected to on this host (Hyper-V: its virtual
   * switches; VMware: bridged / nat / host-only, the custom vmnets and LAN segments the host defines).
   * `network` of registerRestored (default disconnected) names one of them.
   */
  listNetworks?(opts?: CallOptions): Promise<HostNetwork[]>;
  /** Powers on a VM (by id) normally, with its network; resolves once the hypervisor started it. */
  startVm(id: string, opts?: CallOptions): Promise<void>;
  /**
   * Limits this adapter needs for this VM (scaled by memory and disk sizes); the workflow uses
   * max(its default, this) for each step unless the user configured a limit explicitly.
   */
  stepLimits?(vm: VmInfo): WorkflowStepLimits;
  /**
   * Human-readable list of TwinSnap things still present for that VM (twinsnap-* snapshots or
   * checkpoints, twin folders, staging folders, twin VMs); empty when clean.
   */
  leftovers?(vmId: string, opts?: CallOptions): Promise<string[]>;
  /**
   * Where and how much a twin backup of this VM writes on the host besides the checkpoint or
   * snapshot files next to the VM (e.g. Hyper-V's export of the disks and the twin's memory
   * state); pre-flight adds the twin's own writes and the repository's and checks each volume.
   */
  hostSpaceNeeds?(vm: VmInfo, opts?: CallOptions): Promise<HostSpaceNeed[]>;
  /** The guest's role as the host can see it (Hyper-V: KVP ProductType, VM notes). */
  guestRoles?(vm: VmInfo, opts?: CallOptions): Promise<GuestRoles>;
  /** Releases long-lived resources (the Hyper-V PowerShell session). Optional; idempotent. */
  dispose?(): Promise<void>;
}

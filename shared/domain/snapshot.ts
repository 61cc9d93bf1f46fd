import type { HypervisorKind } from './guest.js';
import type { GuestId } from './guest-id.js';

/** How consistent a restore point is. */
export type Consistency = 'clean-twin' | 'crash' | 'cold';

/** One disk inside a snapshot. */
export interface SnapshotDisk {
  /** Name used in file paths (`DISK/PART/...`) and export commands. */
  name: string;
  /** Logical size in bytes. */
  size: number;
  /** Format of the source image (vmdk, vhdx, ...). */
  sourceFormat?: string;
  /** Bytes that were stored as data (not zero/unallocated). */
  dataBytes?: number;
}

/**
 * The boot verification of a snapshot (seed 002): right after the backup, the archived state
 * (the twin's disks, exactly what was stored) was booted isolated — network disconnected — and
 * passed when the hypervisor reported the guest's tools / integration services within the limit.
 * Recorded in the snapshot's manifest (so a catalog rebuild keeps it) and in the catalog.
 */
export interface BootVerification {
  /** Passed: the guest came up and answered. */
  ok: boolean;
  /** ISO 8601 time the check ended. */
  at: string;
  /** From the start of the boot until the guest answered (passed checks). */
  bootMs?: number;
  /** How it was checked: `guest-tools` = booted isolated, waited for the hypervisor to report the guest's tools / integration services. */
  method: 'guest-tools';
  /** The hypervisor that ran the boot. */
  hypervisor?: HypervisorKind;
  /** How long the check waited at most, in ms. */
  limitMs?: number;
  /** Why it failed (failed checks). */
  detail?: string;
}

/**
 * What a twin backup records about its twin in the snapshot manifest: how it was isolated from
 * every network (as verified after it started), how it was shut down, the bytes the adapter
 * wrote on the host to build it, and why the snapshot is crash-consistent when it is.
 */
export interface TwinRecord {
  isolation?: { verified: boolean; method: string; detail: string };
  /** e.g. `vmrun stop soft`, `Stop-VM`. */
  shutdownMethod?: string;
  hostBytesWritten?: number;
  /** Why the twin did not give a clean copy (the frozen disks were archived as `crash`). */
  crashReason?: string;
}

/** Summary of a restore point as listed by `snapshots.list`. */
export interface SnapshotSummary {
  id: string;
  /** The guest's identity: what retention, schedules and histories are keyed by. */
  guestId: GuestId;
  /** The guest's display name when the snapshot was made (a label). */
  guest: string;
  /** ISO 8601 time of the freeze (or of the import for cold snapshots). */
  time: string;
  consistency: Consistency;
  /** Production pause in milliseconds (twin backups only). */
  pauseMs?: number;
  disks: SnapshotDisk[];
  /** Logical bytes of all disks. */
  logicalBytes: number;
  /** Bytes of chunks that no earlier snapshot had. */
  newBytes?: number;
  /** The last repository check of this snapshot's data (`snapshots.verify`); catalog only. */
  verify?: { ok: boolean; at: string; bootMs?: number };
  /** The boot verification done by the backup (`backup --verify`), when one ran. */
  bootVerify?: BootVerification;
  /** The twin's isolation, shutdown method and host bytes (from the manifest; not in the catalog cache). */
  twin?: TwinRecord;
  jobId?: string;
}

/** A damaged restore point named the way people find it: guest and time (the id for commands). */
export interface DamagedPoint {
  snapshotId: string;
  guest?: string;
  guestId?: GuestId;
  /** ISO 8601 time of the point. */
  time?: string;
}

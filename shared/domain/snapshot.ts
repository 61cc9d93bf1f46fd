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

/** Summary of a restore point as listed by `snapshots.list`. */
export interface SnapshotSummary {
  id: string;
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
  verify?: { ok: boolean; at: string; bootMs?: number };
  jobId?: string;
}

import type { RepositoryRoom } from './preflight.js';
import type { JobLogLine } from '../../../shared/domain/job.js';
import type { GuestId } from '../../../shared/domain/guest-id.js';
import type { BootVerification, Consistency, TwinRecord } from '../../../shared/domain/snapshot.js';

export type { TwinRecord };

/** What the workflow measured for one backup; stored in the snapshot manifest and the job log. */
export interface BackupMetrics {
  /** Production pause: freeze call start → production running again (twin/crash backups). */
  pauseMs?: number;
  /** Duration of the hypervisor's own freeze (suspend / checkpoint) call. */
  hvFreezeMs?: number;
  /** Duration of the adapter's whole freeze() call (≥ hvFreezeMs). */
  freezeCallMs?: number;
  /** Duration of the hypervisor's own resume call. */
  hvResumeMs?: number;
  /** The engine's share of the pause: pauseMs − hvFreezeMs − hvResumeMs (goal ≤ 50 ms). */
  engineShareMs?: number;
  /** copy-config (twin build) while production was paused. */
  buildTwinMs?: number;
  twinBootMs?: number;
  twinShutdownMs?: number;
  archiveMs?: number;
  /** Logical bytes read while archiving. */
  archiveBytes?: number;
  /** archiveBytes / archiveMs, in MB/s (10^6 bytes). */
  archiveMBps?: number;
  /** Duration of each step that ran, by step id. */
  steps: Record<string, number>;
}

/** One disk to archive: the top file of its chain (the disk layer reads the whole chain). */
export interface SinkDisk {
  name: string;
  path: string;
}

/** Everything a snapshot is made of. */
export interface SnapshotInput {
  jobId: string;
  /** The guest's identity (the snapshot's key; default `name:<guest>`). */
  guestId?: GuestId;
  /** Its display name now (a label). */
  guest: string;
  /** Epoch ms of the freeze (of the start for cold backups). */
  time: number;
  consistency: Consistency;
  metrics: BackupMetrics;
  /** The job log up to the archive step. */
  log: JobLogLine[];
  configFiles: { name: string; path: string }[];
  disks: SinkDisk[];
  /** Twin backups: isolation, shutdown method, host bytes written, crash reason (manifest `twin`). */
  twin?: TwinRecord;
  /**
   * Folders where the disks' chains may legitimately reach besides each disk's own folder: the
   * VM's folder and disk folders and, for a twin, the frozen disks' folders (a twin's child disk
   * points at production's frozen disk by absolute path). Anything else is refused by the disk layer.
   */
  chainDirs?: string[];
}

/** A stored snapshot. */
export interface StoredSnapshot {
  snapshotId: string;
  /** Logical bytes of all disks. */
  logicalBytes: number;
  /** Bytes of chunks no earlier snapshot had, when known. */
  newBytes?: number;
}

/** Result of a boot verification (the shared DTO recorded in the manifest and the catalog). */
export type VerifyResult = BootVerification;

/**
 * Where a backup's disks go: the repository, seen through the narrow role the workflow needs.
 * `createSnapshot` must be atomic: a snapshot is listed only once complete (a crash or a cancel
 * mid-way leaves at most unreferenced chunks that GC removes).
 */
export interface SnapshotSink {
  createSnapshot(input: SnapshotInput, opts: { onProgress?: (bytesDone: number, bytesTotal: number) => void; signal?: AbortSignal }): Promise<StoredSnapshot>;
  /** Removes whatever a crashed or cancelled `createSnapshot` of `jobId` left. Idempotent. */
  discardPartial(jobId: string): Promise<void>;
  /**
   * Before anything is frozen: is the store there and writable, how much room does it have and
   * how much new data is this backup expected to add. Throws a typed error when it is missing or
   * not writable. Optional: a sink without it is not checked.
   */
  room?(input: { guestId: GuestId; diskPaths: string[] }): Promise<RepositoryRoom>;
  /** Records a boot verification in the snapshot's manifest (and whatever caches it), when the sink supports it. */
  recordVerification?(snapshotId: string, result: VerifyResult): Promise<void>;
}

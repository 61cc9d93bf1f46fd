import type { EngineStatus, OffsiteOverview, OffsiteTestResult, RepositoryFolderCheck, RepositoryInfo, RepositoryStats, Settings } from '../domain/engine.js';
import type { FileListing, FileEntry, FileRestoreResult } from '../domain/files.js';
import type { DoctorReport } from '../domain/doctor.js';
import type { Guest, GuestCandidate, HostNetwork, HypervisorKind } from '../domain/guest.js';
import type { GuestId } from '../domain/guest-id.js';
import type { BackupReport, JobInfo, JobLogLine, JobProgress } from '../domain/job.js';
import type { GuestSchedule, RetentionPolicy, RetentionPreview } from '../domain/policy.js';
import type { DamagedPoint, SnapshotSummary } from '../domain/snapshot.js';
import type { AppNotification } from '../domain/notification.js';
import type { SerializedError } from '../errors/serialize.js';
import type { EngineMethod, Req } from './schemas.js';
import type { ServiceStatusResponse } from './service-status.js';

/** The engine API's responses, one per method. The request side lives in schemas.ts. */
export interface EngineResponses {
  'engine.status': EngineStatus;
  'guests.list': Guest[];
  /** The guest a reference means: a VM seen now or one known from the catalog (its snapshots, schedule…). */
  'guests.resolve': GuestCandidate & { present: boolean };
  'jobs.backupNow': { jobIds: string[] };
  'jobs.list': JobInfo[];
  'jobs.get': JobInfo;
  'jobs.log': JobLogLine[];
  'jobs.cancel': { cancelled: boolean };
  /** The backup's outcome once it has ended (a failed or cancelled backup is a report, not an error). */
  'jobs.wait': BackupReport;
  'snapshots.list': SnapshotSummary[];
  'snapshots.verify': { ok: boolean; damaged: string[]; damagedPoints?: DamagedPoint[] };
  /** One restore point forgotten (its chunks are freed by the next GC, not now). */
  'snapshots.forget': { snapshotId: string; guest: string; guestId: GuestId; forgotten: boolean };
  'files.list': FileListing;
  'files.find': FileEntry[];
  'files.read': { base64: string; size: number; eof: boolean };
  'files.restore': FileRestoreResult;
  'restore.start': { jobId: string };
  /** The hypervisor of the restore point and the networks its host offers (none when the hypervisor is not set up here). */
  'restore.networks': { hypervisor?: HypervisorKind; networks: HostNetwork[]; problem?: string };
  /** The restored VM was started: its adapter id, name and hypervisor. */
  'restore.startVm': { vmId: string; name: string; hypervisor: HypervisorKind };
  'schedules.list': (GuestSchedule & { nextRuns: string[] })[];
  'schedules.set': GuestSchedule & { nextRuns: string[] };
  'schedules.preview': { nextRuns: string[] };
  'retention.get': { guestId: GuestId; guest: string; policy: RetentionPolicy };
  'retention.set': { guestId: GuestId; guest: string; policy: RetentionPolicy };
  'retention.preview': RetentionPreview;
  'retention.apply': RetentionPreview;
  'repository.stats': RepositoryStats;
  'repository.check': RepositoryFolderCheck;
  /** The new repository is made and in use (the saved settings); an encrypted one also returns its recovery kit (shown once). */
  'repository.create': Settings & { recoveryKit?: string };
  /** The existing repository is in use (the saved settings). */
  'repository.connect': Settings;
  'repository.verify': { ok: boolean; damaged: string[]; damagedPoints?: DamagedPoint[]; checkedChunks: number };
  'repository.gc': { removedChunks: number; freedBytes: number };
  /** The scheduled offsite copy: destination, lag, protected-until per restore point. */
  'offsite.status': OffsiteOverview;
  /** Saves the destination (keys to the secret store) and the daily time; the new status. */
  'offsite.configure': OffsiteOverview;
  /** The bucket reachable, the keys right, Object Lock present when asked for (else the typed OFFSITE_* error). */
  'offsite.test': OffsiteTestResult;
  /** The offsite copy started now as a job (progress as `jobs.progress`). */
  'offsite.copyNow': { jobId: string };
  /** The destination and its keys forgotten (nothing in the bucket is deleted). */
  'offsite.remove': OffsiteOverview;
  /** What restoring a point from the offsite copy downloads (objects not in the local cache yet). */
  'offsite.estimate': { snapshotId: string; bytes: number; objects: number; cachedBytes: number };
  'repository.info': RepositoryInfo & { locked: boolean };
  'repository.unlock': RepositoryInfo & { locked: boolean };
  'repository.changePassword': RepositoryInfo & { locked: boolean };
  /** The text of a new recovery kit (its key is in no file; download or print it). */
  'repository.newRecoveryKit': { text: string; keyId: string };
  'catalog.rebuild': { snapshots: number };
  'settings.get': Settings;
  'settings.set': Settings;
  'notifications.test': { delivered: boolean };
  /** Scheduler lock holder plus the boot service as systemd / Task Scheduler sees it. */
  'service.status': ServiceStatusResponse;
  /** The doctor's report (`ok` false when a check failed; never an error for a failed check). */
  'doctor.run': DoctorReport;
  /** The last doctor report of each hypervisor, as stored in the catalog. */
  'doctor.last': Partial<Record<HypervisorKind, DoctorReport>>;
}

/** Events the engine pushes to its clients. */
export interface EngineEvents {
  'engine.status': EngineStatus;
  'jobs.progress': JobProgress;
  'jobs.finished': JobInfo;
  'snapshots.changed': { guest: string; guestId?: GuestId };
  /** A notification for the user (failure, warning, stale guest…); the desktop app shows it. */
  'notify.raised': AppNotification;
}
/** Names of all engine events. */
export type EngineEvent = keyof EngineEvents;

/** The response type of a method. */
export type Res<M extends EngineMethod> = EngineResponses[M];

/** What callers see: every method async and throwing AppError. */
export type EngineClient = { [M in EngineMethod]: (req: Req<M>) => Promise<Res<M>> };

/** A call result as it crosses a process boundary: never a thrown error. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

/** What the Electron preload (or the WebSocket client) exposes to the renderer. */
export interface BridgeApi {
  call<M extends EngineMethod>(method: M, req: Req<M>): Promise<IpcResult<Res<M>>>;
  on<E extends EngineEvent>(event: E, fn: (payload: EngineEvents[E]) => void): () => void;
}

export type { EngineMethod, Req };

/** Compile-time proof that the schemas and the responses name the same methods. */
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const CONTRACT_KEYS_AGREE: Exact<keyof EngineResponses, EngineMethod> = true;

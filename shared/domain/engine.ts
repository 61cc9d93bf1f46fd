import type { HypervisorInfo } from './guest.js';
import type { DamagedPoint } from './snapshot.js';

/** What the engine reports about itself. */
export interface EngineStatus {
  version: string;
  state: 'starting' | 'ready' | 'degraded';
  dataDir: string;
  repository: string;
  logFile: string;
  hypervisors: HypervisorInfo[];
  runningJobs: number;
  startedAt: string;
  /** True when another process (the background service) owns the scheduler. */
  schedulerOwner: 'this' | 'other' | 'none';
  /** Set when the catalog had to be rebuilt since this engine started (show it to the user). */
  catalogRecovered?: CatalogRecovery;
}

/** A catalog the engine had to recreate: why, where the damaged file went, and what came back. */
export interface CatalogRecovery {
  /** `corrupt`: the database was damaged and moved aside; `missing`: it was gone (deleted). */
  reason: 'corrupt' | 'missing';
  /** ISO time of the recovery. */
  at: string;
  /** Where the damaged file was moved (`catalog.sqlite.corrupt-<time>`). */
  movedTo?: string;
  /** The error opening it gave. */
  error?: string;
  /**
   * What `policies.json` gave back; null when there was no usable copy: schedules, retention
   * policies and settings are then LOST and must be set again.
   */
  restored: { schedules: number; retention: number; settings: number } | null;
}

/** Who runs the scheduler of the repository (the background service, this app, or nobody). */
export interface ServiceStatus {
  /** `this`: this process; `other`: another live process (e.g. the boot service); `none`. */
  owner: 'this' | 'other' | 'none';
  /** The lock holder's facts, when someone holds it. */
  holder?: {
    pid: number;
    host: string;
    /** `daemon` (the background service), `app`, `serve`. */
    role: string;
    startedAt: string;
    endpoint?: string;
    /** False when the holder is on this host and its process is gone (a stale lock). */
    alive: boolean;
  };
  /** Where the lock lives (the repository folder). */
  repository: string;
}

/** Repository statistics for the Repository page. */
export interface RepositoryStats {
  path: string;
  snapshots: number;
  chunks: number;
  logicalBytes: number;
  storedBytes: number;
  uniqueBytes: number;
  lastVerify?: { at: string; ok: boolean; damaged: string[]; damagedPoints?: DamagedPoint[] };
}

/** What a folder is, as a place for the repository (`repository.check`). */
export interface RepositoryFolderCheck {
  /** The folder, absolute. */
  path: string;
  /** `repository`: holds a TwinSnap repository; `empty` / `missing`: a new one can be created there; `not-empty`: other files; `not-a-folder`: a file. */
  state: 'repository' | 'empty' | 'missing' | 'not-empty' | 'not-a-folder';
  /** A file could be created there (or in its nearest existing parent when missing). */
  writable: boolean;
  /** Free bytes on its file system (absent when they cannot be measured). */
  freeBytes?: number;
  /** The VM whose files live in or above this folder, when it is inside a VM's data. */
  insideVm?: string;
  /** Restore points in the repository (state `repository`; absent while it is encrypted and locked). */
  snapshots?: number;
  /** An encrypted repository (state `repository`): connecting it needs its password. */
  encrypted?: boolean;
  /** Whether this is the repository in use now. */
  current: boolean;
  /** Why it cannot be used as asked, in words (absent when it can be created or connected). */
  problems: string[];
}

/** One password or recovery key of an encrypted repository (never its secret). */
export interface RepositoryKey {
  id: string;
  kind: 'password' | 'recovery';
  label: string;
  createdAt: string;
  /** scrypt cost of this key (N, r, p). */
  kdf: { name: 'scrypt'; N: number; r: number; p: number };
}

/** What a repository is: plain (format 1) or encrypted (format 2) and with what. Readable without its password. */
export type RepositoryInfo = { path: string; id: string; format: number; chunkSize: number; compression: string; createdAt: string } & (
  | { encrypted: false }
  | {
      encrypted: true;
      cipher: 'AES-256-GCM';
      chunkNames: 'HMAC-SHA256';
      /** scrypt cost of the first key (each key states its own). */
      kdf?: RepositoryKey['kdf'];
      keys: RepositoryKey[];
      /** The key that opened it in this process (absent while locked). */
      unlockedWith?: string;
    }
);

/** User settings kept in the app's config file. */
export interface Settings {
  repository: string;
  vmrunPath?: string;
  powershellPath?: string;
  vmFolders: string[];
  maxConcurrentTwins: number;
  theme: 'light' | 'dark' | 'system';
  notifications: {
    onSuccess: boolean;
    /** The SMTP password is write-only: settings.set takes `password`, settings.get says only `passwordSet`. */
    email?: { host: string; port: number; secure: boolean; from: string; to: string; user?: string; passwordSet?: boolean };
    webhookUrl?: string;
  };
}

/** Where the repository's offsite copy stands (the Repository page's Offsite section). */
export interface OffsiteOverview {
  /** False when no offsite copy is scheduled (`twinsnap offsite schedule`). */
  configured: boolean;
  /** `s3://bucket/prefix at endpoint`. */
  destination?: string;
  objectLock?: boolean;
  /** Per restore point: here, offsite, and until when it is protected (Object Lock). */
  snapshots: { id: string; local: boolean; offsite: boolean; protectedUntil?: string }[];
  /** Local restore points not offsite yet. */
  lagSnapshots: number;
  /** Newest restore point offsite. */
  lastCopied?: string;
  /** The last offsite job: when it finished and how. */
  lastJob?: { at: string; status: string; detail?: string };
  /** Why the destination could not be read (its typed error), when it could not. */
  error?: { code: string; message: string };
  /** How the copy is set up (the Repository page's form); never the keys, only whether they are stored. */
  settings?: OffsiteSettings;
  /** Local time (HH:MM) of the daily maintenance the scheduled copy runs after. */
  dailyAt?: string;
}

/** The scheduled offsite copy as set up (`offsite.configure` / `twinsnap offsite schedule`), without secrets. */
export interface OffsiteSettings {
  /** `s3://BUCKET/PREFIX`. */
  to: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  /** Object Lock: days each copied restore point stays undeletable (absent: off). */
  lockDays?: number;
  lockMode?: 'COMPLIANCE' | 'GOVERNANCE';
  limitRate?: number;
  /** Keys are kept in the secret store (the desktop app: OS keychain); they are never returned. */
  keysStored: boolean;
}

/** What "Test connection" found: the bucket answered with these keys, Object Lock as asked. */
export interface OffsiteTestResult {
  destination: string;
  objectLock: boolean;
  /** Restore points of this repository already there. */
  snapshotsOffsite: number;
}

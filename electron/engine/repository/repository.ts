/**
 * The backup repository: a PBS-style datastore of fixed-size, content-addressed, zstd-compressed
 * chunks, per-snapshot manifests and fixed indexes, with restore, retention, GC and verify.
 * The ONLY public entry point of engine/repository/ — see README.md for the on-disk format,
 * the GC design and the concurrency table.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import type { RetentionDecision, RetentionPolicy, RetentionPreview } from '../../../shared/domain/policy.js';
import type { SnapshotSummary } from '../../../shared/domain/snapshot.js';
import type { GuestId } from '../../../shared/domain/guest-id.js';
import type { RepositoryInfo } from '../../../shared/domain/engine.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { ChunkPool } from './chunks/chunk-pool.js';
import { decodeFixedIndex, type FixedIndex } from './index/fixed-index.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_ZSTD_LEVEL, REPO_FORMAT, REPO_FORMAT_ENCRYPTED, RepoLayout, isSnapshotId, type RepoConfig } from './layout.js';
import { CIPHER, RepoKeys, keySummary, newRecoveryKey, type KdfCost, type KeyFile, type KeySummary } from './crypto/repo-keys.js';
import { addKeyFile, readKeyFiles, removeKeyFile, unlockRepository } from './crypto/key-store.js';
import { acquireLock, liveLocks, type HeldLock } from './locks/lock-file.js';
import { collectGarbage, type GcResult } from './maintenance/gc.js';
import { planRetention } from './maintenance/retention.js';
import { verifySnapshots, type VerifyOptions, type VerifyResult } from './maintenance/verify.js';
import { exportDisk, type ExportOptions, type ExportFormat } from './restore/export-disk.js';
import { checkedFileName, decodeManifest, fileNameProblem, manifestGuestId, toSummary, type Manifest } from './snapshot/manifest.js';
import { SnapshotDisk } from './snapshot/snapshot-disk.js';
import { identityFromConfig, isVmxName, recoverGuestIds, type StoredIdentity } from './snapshot/stored-identity.js';
import { fingerprintSeeds } from './snapshot/fingerprints.js';
import { createSnapshot, type CreateSnapshotInput, type CreateSnapshotOptions } from './snapshot/snapshot-writer.js';
import { fsyncDir, mapFsError, writeFileAtomic } from './fs-util.js';
import { openObject, readObject, snapshotObjectName } from './crypto/sealed-files.js';
import { sha256 } from './chunks/chunk-codec.js';
import { runProcess } from '../exec/run-process.js';
import { OWNER_DIR_MODE, makeOwnerOnly } from '../core/owner-only.js';

export type { CreateSnapshotInput, CreateSnapshotOptions, SnapshotProgress, SnapshotDiskInput, ConfigFileInput } from './snapshot/snapshot-writer.js';
export type { Manifest, ManifestDisk, ManifestConfigFile } from './snapshot/manifest.js';
export type { GcResult } from './maintenance/gc.js';
export type { VerifyResult, VerifyOptions, SnapshotDamage } from './maintenance/verify.js';
export type { ExportFormat, ExportOptions, ExportProgress } from './restore/export-disk.js';
export type { RepoConfig } from './layout.js';
export type { KdfCost, KeySummary } from './crypto/repo-keys.js';
export { DEFAULT_KDF, normalizeRecoveryKey } from './crypto/repo-keys.js';
export { recoveryKitText } from './crypto/recovery-kit.js';
export { planRetention, policyIsEmpty } from './maintenance/retention.js';
export { SnapshotDisk } from './snapshot/snapshot-disk.js';
export { checkedFileName, fileNameProblem, manifestGuestId, toSummary } from './snapshot/manifest.js';
export { recordBootVerification } from './snapshot/manifest-amend.js';
export { mapFsError } from './fs-util.js';
export { RepoLayout } from './layout.js';
export { DEFAULT_CHUNK_SIZE, DEFAULT_ZSTD_LEVEL, REPO_CONFIG_FILE, REPO_FORMAT_ENCRYPTED } from './layout.js';
export { syncCatalog, rebuildCatalog } from './catalog-sync.js';

/** Options of open/init. */
export interface RepositoryOptions {
  clock?: Clock;
  /** Where notices go (e.g. that a read-only repository is read without reader locks). */
  logger?: Logger;
  /** Worker threads for hashing/compression (default: cores, max 4). */
  workers?: number;
  /** GC grace period in ms (default 10 minutes; minimum 2 s). */
  gcGraceMs?: number;
  /**
   * This folder is a local cache of a repository kept elsewhere (an offsite copy in a bucket):
   * chunk files missing here are fetched into place before they are read, and the repository
   * is read-only (backup, forget and gc fail with REPO_READ_ONLY).
   */
  remote?: RemoteObjects;
  /**
   * The password (or recovery key) of an encrypted repository, or where to get it (asked only
   * when the repository is encrypted). Missing: REPO_PASSWORD_REQUIRED; wrong: REPO_PASSWORD_WRONG.
   */
  password?: string | (() => Promise<string | undefined>);
}

/** Whole files of a repository kept elsewhere, by repository-relative path (`chunks/xx/yy/<digest>`). */
export interface RemoteObjects {
  /** Where (for messages), e.g. `s3://bucket/prefix at https://…`. */
  readonly name: string;
  /** Downloads these files into place under the local folder (each appears only when complete). */
  fetch(relPaths: string[]): Promise<void>;
  /** Which of these exist there, without downloading them. */
  exists(relPaths: string[]): Promise<Set<string>>;
}

/** Options of initRepository. */
export interface InitOptions extends RepositoryOptions {
  chunkSize?: number;
  compressionLevel?: number;
  /**
   * Makes an encrypted repository (format 2): the master key is wrapped under `password` and under
   * a new recovery key (`Repository.recoveryKey`, shown once). `kdf`: scrypt cost (default DEFAULT_KDF).
   */
  encryption?: { password: string; kdf?: KdfCost };
}

/** Default GC grace period. */
export const DEFAULT_GC_GRACE_MS = 10 * 60_000;

/** Creates a new repository in `path` (empty or missing folder) and opens it. */
export async function initRepository(path: string, opts: InitOptions = {}): Promise<Repository> {
  const layout = new RepoLayout(path);
  if (await stat(layout.config).catch(() => undefined)) throw new AppError('ALREADY_EXISTS', `'${path}' already holds a repository`);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 64 * 1024 || chunkSize > 64 * 1024 * 1024 || (chunkSize & (chunkSize - 1)) !== 0) {
    throw new AppError('INVALID_REQUEST', 'chunk size must be a power of two between 64 KiB and 64 MiB');
  }
  const clock = opts.clock ?? systemClock;
  try {
    // backups are readable by their owner only (0700 folders, 0600 files; Windows: see README)
    for (const d of [layout.root, layout.chunks, layout.snapshots, layout.tmp, layout.trash, layout.locks]) await mkdir(d, { recursive: true, mode: OWNER_DIR_MODE });
    makeOwnerOnly(layout.root);
  } catch (e) {
    throw mapFsError(e, `creating the repository in '${path}'`);
  }
  const id = randomBytes(16).toString('hex');
  let recoveryKey: string | undefined;
  let keys: RepoKeys | undefined;
  if (opts.encryption) {
    if (!opts.encryption.password) throw new AppError('INVALID_REQUEST', 'an encrypted repository needs a password');
    // the keys come first: a repository whose configuration exists can always be unlocked
    const master = randomBytes(32);
    const createdAt = new Date(clock.now()).toISOString();
    recoveryKey = newRecoveryKey();
    await mkdir(layout.keyDir, { recursive: true, mode: OWNER_DIR_MODE }).catch((e) => {
      throw mapFsError(e, `creating the repository in '${path}'`);
    });
    // both wraps at once (scrypt runs on libuv's thread pool)
    const [pw] = await Promise.all([
      addKeyFile(layout, id, master, opts.encryption.password, { kind: 'password', label: 'password', createdAt, cost: opts.encryption.kdf }),
      addKeyFile(layout, id, master, recoveryKey, { kind: 'recovery', label: 'recovery key', createdAt, cost: opts.encryption.kdf }),
    ]);
    keys = new RepoKeys(id, master, pw.id);
  }
  const cfg: RepoConfig = {
    format: opts.encryption ? REPO_FORMAT_ENCRYPTED : REPO_FORMAT,
    id,
    chunkSize,
    compression: { codec: 'zstd', level: opts.compressionLevel ?? DEFAULT_ZSTD_LEVEL },
    createdAt: new Date(clock.now()).toISOString(),
    ...(opts.encryption ? { encryption: { cipher: CIPHER, chunkNames: 'hmac-sha256' as const, kdf: 'scrypt' as const, subkeys: 'hkdf-sha256' as const } } : {}),
  };
  await writeFileAtomic(layout.config, `${JSON.stringify(cfg, null, 2)}\n`, 'writing the repository configuration');
  const repo = await openRepositoryWith(path, opts, keys);
  repo.recoveryKey = recoveryKey;
  return repo;
}

/** Opens an existing repository (REPO_NOT_FOUND if `path` has none). Caller must `close()` it. */
export async function openRepository(path: string, opts: RepositoryOptions = {}): Promise<Repository> {
  return openRepositoryWith(path, opts);
}

/** Opens a repository; `known` = the keys of an encrypted one just created (no password to derive). */
async function openRepositoryWith(path: string, opts: RepositoryOptions, known?: RepoKeys): Promise<Repository> {
  const layout = new RepoLayout(path);
  const cfg = await readRepoConfig(layout);
  const keys = cfg.format === REPO_FORMAT_ENCRYPTED ? (known ?? (await unlockRepository(layout, cfg, opts.password))) : undefined;
  for (const d of [layout.tmp, layout.trash, layout.locks, layout.snapshots, layout.chunks]) await mkdir(d, { recursive: true, mode: OWNER_DIR_MODE }).catch(() => {});
  // one made by an older version with the default umask: the folder closes it for everyone else
  // (what is inside keeps its mode, but cannot be reached through a 0700 folder)
  for (const p of [layout.root, layout.config, layout.chunks, layout.snapshots, layout.tmp, layout.trash, layout.locks]) makeOwnerOnly(p);
  return new Repository(keys ? new RepoLayout(path, keys) : layout, cfg, opts);
}

/**
 * What a repository is (plain or encrypted, with what, its keys) without opening it: no password
 * needed (`twinsnap repository info`, the Repository page of a locked repository).
 */
export async function readRepositoryInfo(path: string): Promise<RepositoryInfo> {
  const layout = new RepoLayout(path);
  const cfg = await readRepoConfig(layout);
  const base = { path, id: cfg.id, format: cfg.format, chunkSize: cfg.chunkSize, compression: `zstd level ${cfg.compression.level}`, createdAt: cfg.createdAt };
  if (cfg.format !== REPO_FORMAT_ENCRYPTED) return { ...base, encrypted: false };
  const keys = (await readKeyFiles(layout)).map(keySummary);
  return { ...base, encrypted: true, cipher: 'AES-256-GCM', chunkNames: 'HMAC-SHA256', kdf: keys[0]?.kdf, keys };
}

/** Reads and checks `twinsnap-repo.json`. */
async function readRepoConfig(layout: RepoLayout): Promise<RepoConfig> {
  const path = layout.root;
  let cfg: RepoConfig;
  try {
    cfg = JSON.parse(await readFile(layout.config, 'utf8')) as RepoConfig;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AppError('REPO_NOT_FOUND', `no repository at '${path}': create one with 'twinsnap init' or choose another folder`, { details: { path } });
    }
    throw new AppError('REPO_CORRUPT', `repository configuration '${layout.config}' is unreadable: ${(e as Error).message}`, { cause: e });
  }
  if (cfg.format !== REPO_FORMAT && cfg.format !== REPO_FORMAT_ENCRYPTED) throw new AppError('REPO_CORRUPT', `repository format ${cfg.format} is not supported by this version`);
  return cfg;
}

/** Repositories this process already said it reads without reader locks (said once per path). */
const readOnlyNoticed = new Set<string>();

/** Restore of a whole snapshot into a new folder. */
export interface RestoreOptions {
  to: string;
  /** Disk format: `original` (default: the source format when exportable, else raw) or a fixed one. */
  format?: ExportFormat | 'original';
  onProgress?: (p: { disk: string; bytesDone: number; bytesTotal: number }) => void;
  signal?: AbortSignal;
  /**
   * Lays the folder out before anything is written: may rename the configuration files and the
   * disk files and rewrite the configuration (e.g. a .vmx naming exactly the restored disks).
   * Without it: configuration files as stored, each disk as its stored file name with the
   * extension of the format written.
   */
  plan?: (folder: RestorePlan) => RestorePlan;
}

/** What restoreSnapshot writes: configuration files (bytes) and disks (manifest name → file). */
export interface RestorePlan {
  configFiles: { name: string; data: Buffer }[];
  disks: { name: string; fileName: string; format: ExportFormat }[];
}

/** File extension of a disk written in `format` (raw images are `.img`). */
export function diskExtension(format: ExportFormat): string {
  return format === 'raw' ? '.img' : `.${format}`;
}

/** A manifest written before guest ids: its recorded name, and the guest id its stored configuration gives. */
export interface OldManifestGuest {
  guest: string;
  guestId?: GuestId;
}

/**
 * An open repository. Safe to share within a process; several processes may open the same
 * repository (see README "Concurrency"). Caller must `close()` it.
 */
/** The guest a retention policy applies to: its id, the `name:` ids adopted into it, its display name. */
export interface RetentionTarget {
  guestId: GuestId;
  guest: string;
  aliases?: readonly GuestId[];
}

export class Repository {
  private pool: ChunkPool | undefined;
  private readonly clock: Clock;
  /** The recovery key of a repository this process just created encrypted (shown once, never stored). */
  recoveryKey: string | undefined;

  constructor(
    readonly layout: RepoLayout,
    readonly config: RepoConfig,
    private readonly opts: RepositoryOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Repository folder. */
  get path(): string {
    return this.layout.root;
  }

  private chunkPool(): ChunkPool {
    this.pool ??= new ChunkPool({
      chunksDir: this.layout.chunks,
      chunkSize: this.config.chunkSize,
      level: this.config.compression.level,
      fingerprintSeeds: this.layout.keys?.fingerprintSeeds ?? fingerprintSeeds(this.config.id),
      keys: this.layout.keys,
      workers: this.opts.workers,
    });
    return this.pool;
  }

  /**
   * Backs up disks (+ config files) as a new snapshot; resolves when it is committed. The
   * snapshot appears atomically; a failed or killed backup leaves no snapshot.
   */
  async createSnapshot(input: CreateSnapshotInput, opts: CreateSnapshotOptions = {}): Promise<SnapshotSummary> {
    this.refuseRemote('backing up into it');
    const m = await createSnapshot(
      {
        layout: this.layout,
        pool: this.chunkPool(),
        chunkSize: this.config.chunkSize,
        now: () => this.clock.now(),
        syncfs: () => this.syncfs(),
        snapshotIds: () => this.snapshotIds(),
        referencedDigests: (id) => this.referencedDigests(id),
      },
      input,
      opts,
    );
    return toSummary(m);
  }

  /** Ids of committed snapshots, oldest first. */
  async snapshotIds(): Promise<string[]> {
    return (await readdir(this.layout.snapshots).catch(() => [])).filter(isSnapshotId).sort();
  }

  /**
   * Reads and checks a snapshot's manifest (SNAPSHOT_NOT_FOUND / MANIFEST_CORRUPT). A manifest
   * written before guest ids gets the `guestId` its stored configuration gives
   * ({@link oldManifestGuests}); without one it reads as `name:<guest>` ({@link manifestGuestId}).
   */
  async readManifest(id: string): Promise<Manifest> {
    const m = await this.readStoredManifest(id);
    if (m.guestId) return m;
    const recovered = (await this.oldManifestGuests()).get(id)?.guestId;
    return recovered ? { ...m, guestId: recovered } : m;
  }

  /** The manifest as stored (no recovered guest id). */
  private async readStoredManifest(id: string): Promise<Manifest> {
    if (!isSnapshotId(id)) throw new AppError('SNAPSHOT_NOT_FOUND', `no snapshot '${id}'`);
    let text: string;
    try {
      text = (await readObject(this.layout, 'manifest', snapshotObjectName(id, 'manifest.json'), this.layout.manifest(id))).toString('utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('SNAPSHOT_NOT_FOUND', `no snapshot '${id}' in the repository`, { details: { snapshotId: id } });
      throw e;
    }
    return decodeManifest(text, id);
  }

  /** Per snapshot: what its stored configuration says (null: the manifest has its guestId, or is unreadable). Snapshots never change. */
  private readonly storedIdentities = new Map<string, StoredIdentity | null>();
  private oldGuests: { ids: string; map: Map<string, OldManifestGuest> } | undefined;

  /**
   * The manifests written before guest ids (snapshot id → recorded name and the guest id their
   * stored configuration gives, if any: `snapshot/stored-identity.ts` — a .vmx's `uuid.bios`, a
   * Hyper-V .vmcx named by its VM id; a uuid two .vmx files held at once gives none). Those
   * without `guestId` read as `name:<guest>`. Each snapshot is read once per process.
   */
  async oldManifestGuests(): Promise<Map<string, OldManifestGuest>> {
    const ids = await this.snapshotIds();
    const key = ids.join(',');
    if (this.oldGuests?.ids === key) return this.oldGuests.map;
    const points: StoredIdentity[] = [];
    for (const id of ids) {
      if (!this.storedIdentities.has(id)) this.storedIdentities.set(id, await this.storedIdentity(id));
      const p = this.storedIdentities.get(id);
      if (p) points.push(p);
    }
    const recovered = recoverGuestIds(points);
    const map = new Map(points.map((p): [string, OldManifestGuest] => [p.snapshotId, { guest: p.guest, ...(recovered.has(p.snapshotId) ? { guestId: recovered.get(p.snapshotId)! } : {}) }]));
    this.oldGuests = { ids: key, map };
    return map;
  }

  private async storedIdentity(id: string): Promise<StoredIdentity | null> {
    try {
      const m = await this.readStoredManifest(id);
      if (m.guestId) return null;
      const files: { name: string; data?: Buffer }[] = [];
      for (const cf of m.configFiles) {
        if (!isVmxName(cf.name)) {
          files.push({ name: cf.name });
          continue;
        }
        const rel = `config/${checkedFileName(cf.name, id, 'configuration file name')}`;
        const data = await readObject(this.layout, 'config-file', snapshotObjectName(id, rel), join(this.layout.snapshot(id), rel));
        if (sha256(data) === cf.sha256) files.push({ name: cf.name, data });
      }
      return { snapshotId: id, guest: m.guest, time: Date.parse(m.time), ...identityFromConfig(files) };
    } catch {
      // damaged or forgotten meanwhile: verify reports it
      return null;
    }
  }

  /**
   * Summaries of all readable snapshots (optionally of one guest: its id and the `name:` ids
   * adopted into it), oldest first. Unreadable manifests are skipped and reported by `verify`.
   */
  async listSnapshots(opts: { guestIds?: readonly GuestId[] } = {}): Promise<SnapshotSummary[]> {
    const out: SnapshotSummary[] = [];
    const old = await this.oldManifestGuests();
    for (const id of await this.snapshotIds()) {
      try {
        const stored = await this.readStoredManifest(id);
        const recovered = stored.guestId ? undefined : old.get(id)?.guestId;
        const m = recovered ? { ...stored, guestId: recovered } : stored;
        if (!opts.guestIds || opts.guestIds.includes(manifestGuestId(m))) out.push(toSummary(m));
      } catch {
        // damaged or forgotten meanwhile
      }
    }
    return out.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || (a.id < b.id ? -1 : 1));
  }

  /** The checked fixed index of one disk of a snapshot. */
  async readIndex(m: Manifest, diskName: string): Promise<FixedIndex> {
    const disk = m.disks.find((d) => d.name === diskName);
    if (!disk) throw new AppError('NOT_FOUND', `snapshot '${m.id}' has no disk '${diskName}' (disks: ${m.disks.map((d) => d.name).join(', ')})`);
    const buf = await readObject(this.layout, 'index', snapshotObjectName(m.id, disk.index), join(this.layout.snapshot(m.id), disk.index)).catch((e) => {
      if (isAppError(e)) throw e;
      throw new AppError('MANIFEST_CORRUPT', `index of disk '${diskName}' of snapshot '${m.id}' is unreadable: ${(e as Error).message}`, { cause: e });
    });
    if (sha256(buf) !== disk.indexSha256) throw new AppError('MANIFEST_CORRUPT', `index of disk '${diskName}' of snapshot '${m.id}' does not match its manifest`);
    return decodeFixedIndex(buf, `${m.id}/${diskName}`);
  }

  /**
   * The chunk digests of an index file as stored (`rel` inside snapshot `id`'s folder, e.g.
   * `disks/disk.fidx`), opened with this repository's keys when it is encrypted: `offsite prune`
   * reads the indexes of snapshots that are only in the bucket with it.
   */
  indexObjectDigests(id: string, rel: string, stored: Buffer): string[] {
    const plain = openObject(this.layout, 'index', snapshotObjectName(id, rel), stored);
    return [...decodeFixedIndex(plain, `${id}/${rel}`).digests()];
  }

  /** Every chunk digest a snapshot references. */
  async referencedDigests(id: string): Promise<Set<string>> {
    const m = await this.readManifest(id);
    const out = new Set<string>();
    for (const d of m.disks) for (const dg of (await this.readIndex(m, d.name)).digests()) out.add(dg);
    return out;
  }

  /**
   * Registers a reader of snapshot `id` (blocks `forget` of it until released). Announce-then-
   * check against forget's intent lock, so a reader and a forget never both proceed.
   */
  private async readerLock(id: string): Promise<() => Promise<void>> {
    const name = `reader-${id}-${process.pid}-${randomBytes(3).toString('hex')}.lock`;
    let lock: HeldLock;
    try {
      lock = await acquireLock(this.layout.locks, name, `reading snapshot ${id}`, this.clock.now());
    } catch (e) {
      if (!isAppError(e, 'REPO_READ_ONLY') && !isAppError(e, 'PERMISSION_DENIED')) throw e;
      // Read without the lock: on a read-only file system no forget can run at all; where only
      // our permission is missing, a forget already running is still seen by its intent lock.
      if (!readOnlyNoticed.has(this.path)) {
        readOnlyNoticed.add(this.path);
        this.opts.logger?.warn(`repository '${this.path}' cannot be written to (${e.code}): reading it without reader locks`, { code: e.code, path: this.path });
      }
      if ((await liveLocks(this.layout.locks, `forget-${id}`)).length) throw new AppError('REPO_LOCKED', `snapshot '${id}' is being forgotten`);
      return async () => {};
    }
    if ((await liveLocks(this.layout.locks, `forget-${id}`)).length) {
      await lock.release();
      throw new AppError('REPO_LOCKED', `snapshot '${id}' is being forgotten`);
    }
    return () => lock.release();
  }

  /**
   * A snapshot's disk as a random-access VirtualDisk with an LRU chunk cache (`cacheChunks`
   * chunks; default 32). `useWorkers` loads chunks on the worker threads (bulk reads). While
   * open, the snapshot cannot be forgotten. Caller must `close()` it.
   */
  async openSnapshotDisk(id: string, diskName: string, opts: { cacheChunks?: number; useWorkers?: boolean } = {}): Promise<SnapshotDisk> {
    const release = await this.readerLock(id);
    try {
      const m = await this.readManifest(id);
      const idx = await this.readIndex(m, diskName);
      const pool = opts.useWorkers ? this.chunkPool() : undefined;
      // a remote repository: bulk readers (export) get every chunk first, random readers one at a time
      if (pool) await this.fetchMissing(idx.digests());
      const ensure = this.opts.remote ? (dg: string) => this.fetchMissing([dg]) : undefined;
      return new SnapshotDisk(this.layout, idx, id, diskName, opts.cacheChunks, release, pool ? (dg) => pool.load(dg) : undefined, pool, ensure);
    } catch (e) {
      await release();
      throw e;
    }
  }

  /** Exports one disk of a snapshot to a file (raw/vmdk/vhdx/qcow2). */
  async exportDisk(id: string, diskName: string, opts: ExportOptions): Promise<{ path: string; format: ExportFormat; size: number }> {
    // chunks are loaded, decompressed and verified on the worker threads: both cores restore
    const disk = await this.openSnapshotDisk(id, diskName, { cacheChunks: 16, useWorkers: true });
    try {
      return await exportDisk(disk, opts);
    } finally {
      await disk.close();
    }
  }

  /**
   * Restores a whole snapshot (configuration files + disks under their original file names) into
   * the new folder `to`. Built in `<to>.partial-…` and renamed at the end: a failed restore (e.g.
   * a damaged chunk) leaves no half-restored VM behind.
   */
  async restoreSnapshot(id: string, opts: RestoreOptions): Promise<{ path: string; files: string[] }> {
    const m = await this.readManifest(id);
    if (await stat(opts.to).catch(() => undefined)) {
      if ((await readdir(opts.to).catch(() => ['?'])).length) throw new AppError('ALREADY_EXISTS', `'${opts.to}' is not empty: restore into a new folder`);
      await rm(opts.to, { recursive: true });
    }
    const work = `${opts.to}.partial-${randomBytes(3).toString('hex')}`;
    await mkdir(work, { recursive: true }).catch((e) => {
      throw mapFsError(e, `creating '${work}'`);
    });
    const files: string[] = [];
    try {
      let plan: RestorePlan = { configFiles: [], disks: [] };
      for (const cf of m.configFiles) {
        const rel = `config/${checkedFileName(cf.name, id, 'configuration file name')}`;
        const data = await readObject(this.layout, 'config-file', snapshotObjectName(id, rel), join(this.layout.snapshot(id), rel));
        if (sha256(data) !== cf.sha256) throw new AppError('MANIFEST_CORRUPT', `configuration file '${cf.name}' of snapshot '${id}' is damaged`);
        plan.configFiles.push({ name: checkedFileName(cf.name, id, 'configuration file name'), data });
      }
      for (const d of m.disks) {
        const src = d.sourceFormat as ExportFormat | undefined;
        const format: ExportFormat = opts.format && opts.format !== 'original' ? opts.format : src && ['raw', 'vmdk', 'vhdx', 'qcow2'].includes(src) ? src : 'raw';
        plan.disks.push({ name: d.name, fileName: checkedFileName(d.fileName, id, 'disk file name').replace(/\.[^.]*$/, '') + diskExtension(format), format });
      }
      if (opts.plan) plan = opts.plan(plan);
      const names = [...plan.configFiles.map((c) => c.name), ...plan.disks.map((d) => d.fileName)];
      const bad = names.find((n, i) => fileNameProblem(n) !== undefined || names.indexOf(n) !== i);
      if (bad !== undefined) throw new AppError('INTERNAL', `the restore would write '${bad}' twice or outside the folder`);
      for (const cf of plan.configFiles) {
        await writeFile(join(work, cf.name), cf.data, { flag: 'wx' });
        files.push(cf.name);
      }
      for (const d of plan.disks) {
        await this.exportDisk(id, d.name, {
          format: d.format,
          to: join(work, d.fileName),
          signal: opts.signal,
          onProgress: (p) => opts.onProgress?.({ disk: d.name, ...p }),
        });
        files.push(d.fileName);
      }
      fsyncDir(work);
      await rename(work, opts.to);
      return { path: opts.to, files };
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * The retention dry run for one guest: each snapshot's verdict and reasons (and, for those that
   * go, `freedBytes`: what forgetting only it would free), and the bytes GC would free in total
   * (chunks referenced only by forgotten snapshots, counting every guest's kept ones).
   */
  async previewRetention(guest: RetentionTarget, policy: RetentionPolicy): Promise<RetentionPreview> {
    const all = await this.listSnapshots();
    const ids = [guest.guestId, ...(guest.aliases ?? [])];
    // by identity, never by name: a same-named guest's snapshots are not this guest's
    const mine = all.filter((s) => ids.includes(s.guestId));
    const decisions: (RetentionDecision & { freedBytes?: number })[] = planRetention(mine, policy);
    const gone = new Set(decisions.filter((d) => !d.keep).map((d) => d.snapshotId));
    let freedBytes = 0;
    if (gone.size) {
      const refs = new Map<string, Set<string>>();
      for (const s of all) refs.set(s.id, await this.referencedDigests(s.id).catch(() => new Set<string>()));
      const count = new Map<string, number>();
      for (const r of refs.values()) for (const dg of r) count.set(dg, (count.get(dg) ?? 0) + 1);
      const kept = new Set<string>();
      for (const [id, r] of refs) if (!gone.has(id)) for (const dg of r) kept.add(dg);
      const size = new Map<string, number>();
      const sizeOf = async (dg: string) => {
        if (!size.has(dg)) size.set(dg, (await stat(this.layout.chunk(dg)).catch(() => ({ size: 0 }))).size);
        return size.get(dg)!;
      };
      const freed = new Set<string>();
      for (const d of decisions) {
        if (d.keep) continue;
        // bytes freed if only this snapshot went: chunks no other snapshot references
        let own = 0;
        for (const dg of refs.get(d.snapshotId) ?? []) {
          if (!kept.has(dg)) freed.add(dg);
          if (count.get(dg) === 1) own += await sizeOf(dg);
        }
        d.freedBytes = own;
      }
      for (const dg of freed) freedBytes += await sizeOf(dg);
    }
    return { guestId: guest.guestId, guest: guest.guest, decisions, forgetCount: gone.size, freedBytes };
  }

  /** Applies a retention policy: forgets what the dry run says goes. Returns the plan. */
  async applyRetention(guest: RetentionTarget, policy: RetentionPolicy): Promise<RetentionPreview> {
    const plan = await this.previewRetention(guest, policy);
    await this.forget(plan.decisions.filter((d) => !d.keep).map((d) => d.snapshotId));
    return plan;
  }

  /**
   * Forgets snapshots: each is renamed into `trash/` (atomic: listed or not, never half) and
   * then deleted; chunks are freed by the next GC. A snapshot that is being read is refused
   * (REPO_LOCKED) — the others are still forgotten.
   */
  async forget(ids: string[]): Promise<{ forgotten: string[] }> {
    this.refuseRemote('forgetting snapshots');
    const forgotten: string[] = [];
    let busy: AppError | undefined;
    for (const id of ids) {
      if (!isSnapshotId(id)) throw new AppError('SNAPSHOT_NOT_FOUND', `no snapshot '${id}'`);
      const intent = await acquireLock(this.layout.locks, `forget-${id}.lock`, `forgetting ${id}`, this.clock.now());
      try {
        if ((await liveLocks(this.layout.locks, `reader-${id}-`)).length) {
          busy = new AppError('REPO_LOCKED', `snapshot '${id}' is being read (restore or file browser): forget it later`);
          continue;
        }
        const dest = join(this.layout.trash, `${id}-${randomBytes(3).toString('hex')}`);
        try {
          await rename(this.layout.snapshot(id), dest);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw mapFsError(e, `forgetting snapshot '${id}'`);
        }
        fsyncDir(this.layout.snapshots);
        forgotten.push(id);
        await rm(dest, { recursive: true, force: true });
      } finally {
        await intent.release();
      }
    }
    if (busy && forgotten.length === 0 && ids.length === 1) throw busy;
    return { forgotten };
  }

  /** Mark-and-sweep GC (see README). */
  async gc(opts: { graceMs?: number } = {}): Promise<GcResult> {
    this.refuseRemote('collecting garbage');
    return collectGarbage(
      {
        layout: this.layout,
        now: () => this.clock.now(),
        listSnapshotIds: () => this.snapshotIds(),
        referencedDigests: (id) => this.referencedDigests(id),
      },
      opts.graceMs ?? this.opts.gcGraceMs ?? DEFAULT_GC_GRACE_MS,
    );
  }

  /** Verifies snapshots (fast: structure + chunk existence; full: re-hash every chunk). */
  async verify(opts: VerifyOptions = {}): Promise<VerifyResult> {
    const ids = await this.snapshotIds();
    const remote = this.opts.remote;
    if (!remote) return verifySnapshots(this.layout, ids, opts);
    // kept elsewhere: fast = the chunks exist there (no download); full = fetch, then re-hash here
    const wanted = new Set<string>();
    for (const id of opts.snapshotIds ?? ids) for (const dg of await this.referencedDigests(id).catch(() => new Set<string>())) wanted.add(dg);
    if (opts.full) {
      await this.fetchMissing(wanted);
      return verifySnapshots(this.layout, ids, opts);
    }
    const there = await remote.exists([...wanted].map((dg) => this.chunkRel(dg)));
    return verifySnapshots(this.layout, ids, { ...opts, chunkExists: async (dg) => there.has(this.chunkRel(dg)) });
  }

  /** Repository-relative path of a chunk file (what RemoteObjects are named by). */
  private chunkRel(dg: string): string {
    return relative(this.layout.root, this.layout.chunk(dg)).split(sep).join('/');
  }

  /** Fetches the chunks of `digests` that are not here yet (remote repositories only). */
  private async fetchMissing(digests: Iterable<string>): Promise<void> {
    if (!this.opts.remote) return;
    const missing: string[] = [];
    for (const dg of digests) if (!(await stat(this.layout.chunk(dg)).catch(() => undefined))) missing.push(this.chunkRel(dg));
    if (missing.length) await this.opts.remote.fetch(missing);
  }

  /** REPO_READ_ONLY for writes to a repository kept elsewhere (read through a local cache). */
  private refuseRemote(what: string): void {
    if (this.opts.remote) throw new AppError('REPO_READ_ONLY', `the offsite copy ${this.opts.remote.name} is read here as a read-only repository: ${what} needs a local repository`);
  }

  /** Counts of snapshots and chunks and their sizes. */
  async stats(): Promise<{ path: string; snapshots: number; chunks: number; logicalBytes: number; storedBytes: number; uniqueBytes: number }> {
    const snaps = await this.listSnapshots();
    let chunks = 0;
    let storedBytes = 0;
    for (const a of await readdir(this.layout.chunks).catch(() => [])) {
      for (const b of await readdir(join(this.layout.chunks, a)).catch(() => [])) {
        for (const n of await readdir(join(this.layout.chunks, a, b)).catch(() => [])) {
          if (!/^[0-9a-f]{64}$/.test(n)) continue;
          chunks++;
          storedBytes += (await stat(join(this.layout.chunks, a, b, n)).catch(() => ({ size: 0 }))).size;
        }
      }
    }
    const unique = new Set<string>();
    for (const s of snaps) for (const dg of await this.referencedDigests(s.id).catch(() => new Set<string>())) unique.add(dg);
    return {
      path: this.path,
      snapshots: snaps.length,
      chunks,
      logicalBytes: snaps.reduce((a, s) => a + s.logicalBytes, 0),
      storedBytes,
      uniqueBytes: unique.size * this.config.chunkSize,
    };
  }

  /** syncfs(2) of the repository's file system via coreutils `sync -f` (Linux); false elsewhere or on failure. */
  private async syncfs(): Promise<boolean> {
    if (process.platform !== 'linux') return false;
    const r = await runProcess('sync', ['-f', this.layout.chunks], { timeoutMs: 30 * 60_000 });
    return r.exitCode === 0;
  }

  /** Plain or encrypted, and with what (`twinsnap repository info`, the Repository page). */
  async info(): Promise<RepositoryInfo> {
    const info = await readRepositoryInfo(this.path);
    return info.encrypted && this.layout.keys ? { ...info, unlockedWith: this.layout.keys.keyId } : info;
  }

  private requireKeys(): RepoKeys {
    if (!this.layout.keys) throw new AppError('INVALID_REQUEST', `repository '${this.path}' is not encrypted: it has no passwords or keys`);
    return this.layout.keys;
  }

  /** The password and recovery keys of an encrypted repository (no secrets). */
  async listKeys(): Promise<KeySummary[]> {
    this.requireKeys();
    return (await readKeyFiles(this.layout)).map(keySummary);
  }

  /** Adds a password (or a new recovery key, which is returned once) that opens this repository. */
  async addKey(o: { password?: string; kind?: KeyFile['kind']; label?: string; kdf?: KdfCost }): Promise<KeySummary & { recoveryKey?: string }> {
    const keys = this.requireKeys();
    const kind = o.kind ?? 'password';
    const secret = kind === 'recovery' ? newRecoveryKey() : o.password;
    if (!secret) throw new AppError('INVALID_REQUEST', 'a new key needs a password');
    const k = await addKeyFile(this.layout, this.config.id, keys.master(), secret, {
      kind,
      label: o.label ?? (kind === 'recovery' ? 'recovery key' : 'password'),
      createdAt: new Date(this.clock.now()).toISOString(),
      cost: o.kdf,
    });
    return { ...keySummary(k), ...(kind === 'recovery' ? { recoveryKey: secret } : {}) };
  }

  /** Removes a password or key (never the last one). */
  async removeKey(id: string): Promise<void> {
    this.requireKeys();
    await removeKeyFile(this.layout, id);
  }

  /**
   * Changes the password this repository was opened with: the master key is wrapped under the new
   * one and the old key file removed. Nothing else is rewritten.
   */
  async changePassword(newPassword: string, kdf?: KdfCost): Promise<KeySummary> {
    const keys = this.requireKeys();
    const old = (await readKeyFiles(this.layout)).find((k) => k.id === keys.keyId);
    const added = await this.addKey({ password: newPassword, kind: 'password', label: old?.kind === 'password' ? old.label : 'password', kdf });
    if (old?.kind === 'password') await removeKeyFile(this.layout, old.id);
    return added;
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }
}

import { basename, extname, resolve } from 'node:path';
import type { DoctorCheck, DoctorReport } from '../../../shared/domain/doctor.js';
import type { FileEntry, FileListing } from '../../../shared/domain/files.js';
import type { RepositoryInfo, RepositoryKey } from '../../../shared/domain/engine.js';
import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import type { HypervisorKind } from '../../../shared/domain/guest.js';
import { isGuestId, nameGuestId } from '../../../shared/domain/guest-id.js';
import type { SnapshotSummary } from '../../../shared/domain/snapshot.js';
import { openDisk } from '../disk/open-disk.js';
import type { VirtualDisk } from '../disk/virtual-disk.js';
import { initRepository, openRepository, recoveryKitText, syncCatalog, type ExportFormat, type GcResult, type KdfCost, type VerifyResult } from '../repository/repository.js';
import type { OffsiteCopyOptions, OffsiteCopyResult } from '../offsite/offsite-copy.js';
import type { OffsitePruneResult } from '../offsite/offsite-prune.js';
import { isS3Url } from '../offsite/s3-destination.js';
import { offsiteStatus, repositoryInfoAt, runOffsiteCopy, runOffsitePrune, saveOffsiteSchedule, type OffsiteSchedule, type OffsiteStatus } from './offsite-access.js';
import { runEngineDoctor } from './doctor-handlers.js';
import type { EngineContext } from './engine-context.js';
import { repositoryLocationKey, repositoryPasswordKey } from './repository-access.js';
import { LAST_VERIFY } from './repository-handlers.js';
import { checkRestoreNetwork, kindOfFolder, restoreVmFolder } from './restore-vm.js';
import type { RestoreNetwork } from '../../../shared/domain/guest.js';

/** Reports bytes (or items) done of a total. */
export type ProgressFn = (done: number, total: number) => void;

/**
 * What the command line does in its own process beyond the contract: work on files of this host
 * (import disk images, export a disk, restore a VM folder), stream a file's bytes to stdout, and
 * progress callbacks. None of it makes sense over a wire to a browser, so it is not part of the
 * contract in `shared/`; it is reached only through `Engine.local` (engine.ts).
 */
export interface LocalOperations {
  /**
   * Creates a new, empty repository at the configured path; with `password` an encrypted one,
   * whose recovery key and recovery kit (its text) are returned once.
   */
  initRepository(opts: { chunkSize?: number; password?: string }): Promise<{ path: string; chunkSize: number; id: string; encrypted: boolean; recoveryKey?: string; recoveryKit?: string }>;
  /** Plain or encrypted (cipher, key derivation, keys) of the configured repository; reads only its plain files, no password needed. */
  repositoryInfo(): Promise<RepositoryInfo>;
  /** The passwords and recovery keys of the (encrypted) configured repository, without secrets. */
  listKeys(): Promise<RepositoryKey[]>;
  /** Adds a password, or (`recovery`) a new recovery key returned once. `kdf`: scrypt cost of the new key. */
  addKey(o: { password?: string; recovery?: boolean; label?: string; kdf?: KdfCost }): Promise<RepositoryKey & { recoveryKey?: string }>;
  /** Removes a password or recovery key (never the last one). */
  removeKey(id: string): Promise<void>;
  /** Changes the password the repository was opened with (rewraps its key; nothing else is rewritten). */
  changePassword(password: string, kdf?: KdfCost): Promise<RepositoryKey>;
  /**
   * Keeps this process's password of the configured repository (given, kept or asked) in the
   * data folder's owner-only secret store, for the background service, once it opens the repository.
   */
  rememberPassword(): Promise<{ path: string }>;
  /** Drops the password `rememberPassword` kept. */
  forgetPassword(): { path: string };
  /**
   * Archives existing disk image files (chains followed) as a cold snapshot of `guest`: its id or
   * name (a name no VM or backup has starts a guest known by that name, `name:<guest>`).
   */
  importDisks(req: { guest: string; files: string[]; configFiles: string[]; allowedDirs: string[]; onProgress?: ProgressFn }): Promise<SnapshotSummary>;
  /** Writes one disk of a snapshot as an image file. */
  exportDisk(req: { snapshotId: string; disk: string; format: ExportFormat; to: string; onProgress?: ProgressFn }): Promise<{ path: string; format: ExportFormat; size: number }>;
  /** Restores a whole snapshot (configuration + disks) into a new folder as a new VM (default name: the guest's + '-restored'). */
  /**
   * Restores a whole VM into a new folder. `network` (default disconnected): where its adapters go —
   * written into a VMware .vmx; a Hyper-V folder is imported by hand, so connecting one to a
   * switch is refused here (NOT_IMPLEMENTED: the app imports and connects it).
   */
  restoreVm(req: { snapshotId: string; to: string; name?: string; format: ExportFormat | 'original'; network?: RestoreNetwork; onProgress?: ProgressFn }): Promise<{ path: string; files: string[] }>;
  /** Deletes chunks no snapshot references (the full result, missing chunks included). */
  gc(opts: { graceMs?: number }): Promise<GcResult>;
  /** Checks the repository (or some snapshots) and records the result as the last verify. */
  verify(opts: { full: boolean; snapshotIds?: string[] }): Promise<VerifyResult>;
  /** Lists everything below `path` of a snapshot. */
  listRecursive(snapshotId: string, path: string): Promise<FileListing>;
  /** Hands a file's bytes to `write` in order (4 MiB pieces). */
  readFile(snapshotId: string, path: string, write: (bytes: Uint8Array) => Promise<void>): Promise<void>;
  /** Copies snapshots of the repository to `to` (`s3://BUCKET/PREFIX`) as an `offsite` job, progress to `onProgress`. */
  offsiteCopy(to: string, opts: Pick<OffsiteCopyOptions, 'snapshotIds' | 'jobs' | 'limitRate' | 'lock' | 'onProgress'>): Promise<OffsiteCopyResult>;
  /** Removes from `to` what the repository forgot (never an object before its lock date). */
  offsitePrune(to: string, opts: { dryRun?: boolean }): Promise<OffsitePruneResult>;
  /** Which snapshots are at `to`, the lag, protected-until per snapshot. */
  offsiteStatus(to: string): Promise<OffsiteStatus>;
  /**
   * Saves (or, with `null`, removes) the scheduled offsite copy in config.json (the endpoint is
   * the engine's) and `keys` for it in the secret store (never in config.json; `null` removes
   * them too); says when the daily maintenance that runs it starts (HH:MM).
   */
  scheduleOffsite(offsite: Omit<OffsiteSchedule, 'endpoint'> | null, keys?: { accessKeyId: string; secretAccessKey: string }): { offsite: OffsiteSchedule | null; maintenanceAt: string };
  /** doctor.run with each check reported as it ends. */
  doctor(req: { vm: string; hypervisor?: HypervisorKind }, onCheck: (c: DoctorCheck) => void): Promise<DoctorReport>;
}

export type { OffsiteSchedule };

/** Piece size of `readFile`. */
const READ_PIECE = 4 * 1024 * 1024;

/** The local operations over the engine's shared resources. */
export function localOperations(ctx: EngineContext): LocalOperations {
  return {
    async initRepository({ chunkSize, password }) {
      if (isS3Url(ctx.config().repository)) throw new AppError('USAGE', "an s3:// repository is an offsite copy: make one with 'twinsnap offsite copy --to s3://…'");
      const path = resolve(ctx.config().repository);
      const repo = await initRepository(path, { chunkSize, clock: ctx.clock, ...(password ? { encryption: { password } } : {}) });
      const info = await repo.info();
      await repo.close();
      const { recoveryKey } = repo;
      return {
        path,
        chunkSize: repo.config.chunkSize,
        id: repo.config.id,
        encrypted: info.encrypted,
        ...(recoveryKey ? { recoveryKey, recoveryKit: recoveryKitText(info, recoveryKey) } : {}),
      };
    },
    repositoryInfo() {
      return repositoryInfoAt(ctx, ctx.config().repository);
    },
    async listKeys() {
      return (await ctx.store.repository()).listKeys();
    },
    async addKey({ password, recovery, label, kdf }) {
      const repo = await ctx.store.repository();
      return recovery ? repo.addKey({ kind: 'recovery', label, kdf }) : repo.addKey({ password, label, kdf });
    },
    async removeKey(id) {
      await (await ctx.store.repository()).removeKey(id);
    },
    async changePassword(password, kdf) {
      return (await ctx.store.repository()).changePassword(password, kdf);
    },
    async rememberPassword() {
      const where = ctx.config().repository;
      const password = await ctx.store.passwordSource(where)();
      if (!password) throw new AppError('REPO_PASSWORD_REQUIRED', 'no password given: use --password-file FILE or TWINSNAP_PASSWORD, or run on a terminal');
      // only a password that opens the repository is kept (an offsite copy opens with this same source)
      if (isS3Url(where)) await ctx.store.repository();
      else await (await openRepository(resolve(where), { password })).close();
      ctx.secrets.set(repositoryPasswordKey(where), password);
      return { path: repositoryLocationKey(where) };
    },
    forgetPassword() {
      const where = ctx.config().repository;
      ctx.secrets.set(repositoryPasswordKey(where), undefined);
      return { path: repositoryLocationKey(where) };
    },
    async importDisks({ guest, files, configFiles, allowedDirs, onProgress }) {
      const repo = await ctx.store.repository();
      const g = await ctx.guests.resolve(guest).catch((e: unknown) => {
        if (isAppError(e, 'HV_VM_NOT_FOUND') && !isGuestId(guest)) return { id: nameGuestId(guest), name: guest };
        throw e;
      });
      const disks: { name: string; disk: VirtualDisk; sourceFormat: string; fileName: string }[] = [];
      try {
        for (const f of files) {
          const disk = await openDisk(f, { allowedDirs });
          disks.push({ name: basename(f, extname(f)), disk, sourceFormat: disk.format, fileName: basename(f) });
        }
        const s = await repo.createSnapshot(
          {
            guestId: g.id,
            guest: g.name,
            consistency: 'cold',
            disks,
            configFiles: configFiles.map((p) => ({ name: basename(p), path: p })),
            log: [`imported ${files.map((f) => basename(f)).join(', ')}`],
          },
          { onProgress: onProgress ? (p) => onProgress(p.allDone, p.allTotal) : undefined },
        );
        await syncCatalog(repo, ctx.store.catalog());
        return s;
      } finally {
        for (const d of disks) await d.disk.close().catch(() => {});
      }
    },
    async exportDisk({ snapshotId, disk, format, to, onProgress }) {
      const repo = await ctx.store.repository();
      return repo.exportDisk(snapshotId, disk, { format, to, onProgress: onProgress ? (p) => onProgress(p.bytesDone, p.bytesTotal) : undefined });
    },
    async restoreVm({ snapshotId, to, name, format, network = { kind: 'disconnected' }, onProgress }) {
      const repo = await ctx.store.repository();
      const m = await repo.readManifest(snapshotId);
      const configNames = m.configFiles.map((c) => c.name);
      if (network.kind === 'network' && kindOfFolder(configNames) === 'hyperv') {
        throw new AppError(
          'NOT_IMPLEMENTED',
          'the command line writes a hyper-v folder without importing it: import it in hyper-v manager and connect its adapters there, or restore it in the app with a network',
        );
      }
      const net = await checkRestoreNetwork(ctx.hypervisors, configNames, network);
      return restoreVmFolder(repo, snapshotId, { to, name: name ?? `${m.guest}-restored`, format, net, onProgress });
    },
    async gc({ graceMs }) {
      return (await ctx.store.repository()).gc(graceMs !== undefined ? { graceMs } : {});
    },
    async verify({ full, snapshotIds }) {
      const repo = await ctx.store.repository();
      const r = await repo.verify({ full, ...(snapshotIds ? { snapshotIds } : {}) });
      ctx.store.catalog().settings.set(LAST_VERIFY, { at: new Date(ctx.clock.now()).toISOString(), ok: r.ok, damaged: r.damaged });
      return r;
    },
    listRecursive(snapshotId, path) {
      return ctx.browsing.with(snapshotId, async (b) => {
        const warnings: string[] = [];
        const entries: FileEntry[] = [];
        for await (const { entry } of b.walk(path, (p, reason) => warnings.push(`${p}: ${reason}`))) entries.push(entry);
        return { path, entries, warnings };
      });
    },
    readFile(snapshotId, path, write) {
      return ctx.browsing.with(snapshotId, async (b) => {
        const { content } = await b.open(path);
        for (let off = 0; off < content.size; off += READ_PIECE) await write(await content.read(off, READ_PIECE));
      });
    },
    async offsiteCopy(to, opts) {
      return runOffsiteCopy(ctx, await ctx.store.repository(), { to, endpoint: ctx.s3Endpoint }, opts);
    },
    async offsitePrune(to, opts) {
      return runOffsitePrune(ctx, await ctx.store.repository(), to, opts);
    },
    async offsiteStatus(to) {
      return offsiteStatus(ctx, await ctx.store.repository(), to);
    },
    scheduleOffsite(o, keys) {
      const offsite = saveOffsiteSchedule(ctx, o, keys);
      ctx.store.dropOffsite();
      return { offsite, maintenanceAt: ctx.config().scheduler.maintenanceAt };
    },
    doctor(req, onCheck) {
      return runEngineDoctor(ctx, req, onCheck);
    },
  };
}

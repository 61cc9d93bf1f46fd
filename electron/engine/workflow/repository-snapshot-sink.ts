import type { GuestId } from '../../../shared/domain/guest-id.js';
import { randomBytes } from 'node:crypto';
import { existsSync, statfsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import type { JobLogLine } from '../../../shared/domain/job.js';
import type { SnapshotSummary } from '../../../shared/domain/snapshot.js';
import { openDisk } from '../disk/open-disk.js';
import type { VirtualDisk } from '../disk/virtual-disk.js';
import { mapFsError, recordBootVerification, toSummary, type Repository, type SnapshotDiskInput } from '../repository/repository.js';
import type { RepositoryRoom } from './preflight.js';
import type { BackupMetrics, SnapshotInput, SnapshotSink, StoredSnapshot, VerifyResult } from './snapshot-sink.js';

const MiB = 1024 * 1024;

/** Formats a job log line for a manifest's `log`. */
export function manifestLogLine(l: JobLogLine): string {
  return `${l.at} ${l.level}${l.step ? ` [${l.step}]` : ''} ${l.message}`;
}

/** The one manifest log line that carries the measurements, as JSON after `metrics `. */
export function metricsLine(m: BackupMetrics): string {
  const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);
  const steps = Object.fromEntries(Object.entries(m.steps).map(([k, v]) => [k, round(v)]));
  return `metrics ${JSON.stringify({ ...m, pauseMs: round(m.pauseMs), hvFreezeMs: round(m.hvFreezeMs), hvResumeMs: round(m.hvResumeMs), engineShareMs: round(m.engineShareMs), buildTwinMs: round(m.buildTwinMs), twinBootMs: round(m.twinBootMs), twinShutdownMs: round(m.twinShutdownMs), archiveMs: round(m.archiveMs), archiveMBps: round(m.archiveMBps), steps })}`;
}

/**
 * The SnapshotSink over the repository: opens each disk chain with the disk layer and stores it
 * with `repo.createSnapshot` (atomic: a failed or killed backup leaves no snapshot). The manifest
 * log gets the job log, the measurements as a `metrics {…}` line, and — appended as the last
 * disk completes, before the manifest is written — the archive throughput. A boot verification
 * is recorded afterwards in the manifest (manifest-amend.ts) and handed to `onSnapshotChanged`
 * (the engine refreshes the catalog row with it).
 */
export class RepositorySnapshotSink implements SnapshotSink {
  constructor(
    private readonly repo: () => Promise<Repository>,
    private readonly now: () => number,
    private readonly onSnapshotChanged?: (s: SnapshotSummary) => void,
  ) {}

  async createSnapshot(input: SnapshotInput, opts: { onProgress?: (bytesDone: number, bytesTotal: number) => void; signal?: AbortSignal }): Promise<StoredSnapshot> {
    const repo = await this.repo();
    const opened: VirtualDisk[] = [];
    try {
      const disks: SnapshotDiskInput[] = [];
      for (const d of input.disks) {
        const disk = await openDisk(d.path, { allowedDirs: input.chainDirs });
        opened.push(disk);
        disks.push({ name: d.name, disk, sourceFormat: disk.format, fileName: basename(d.path) });
      }
      const sizes = opened.map((d) => d.size);
      const total = sizes.reduce((a, b) => a + b, 0);
      const log = [...input.log.map(manifestLogLine), metricsLine(input.metrics)];
      const started = this.now();
      const finishedDisks = new Set<string>();
      let added = false;
      const s = await repo.createSnapshot(
        {
          guestId: input.guestId,
          guest: input.guest,
          consistency: input.consistency,
          timeMs: input.time,
          pauseMs: input.metrics.pauseMs === undefined ? undefined : Math.round(input.metrics.pauseMs * 10) / 10,
          jobId: input.jobId,
          ...(input.twin ? { twin: input.twin } : {}),
          log,
          configFiles: input.configFiles.filter((f) => f.path && existsSync(f.path)).map((f) => ({ name: f.name, path: f.path })),
          disks,
        },
        {
          signal: opts.signal,
          onProgress: (p) => {
            const i = disks.findIndex((x) => x.name === p.disk);
            const before = sizes.slice(0, Math.max(0, i)).reduce((a, b) => a + b, 0);
            const done = before + p.bytesDone;
            opts.onProgress?.(done, total);
            if (p.bytesDone >= p.bytesTotal) finishedDisks.add(p.disk);
            if (!added && finishedDisks.size === disks.length) {
              // The manifest is written after the last disk: its log array is read then.
              added = true;
              const ms = Math.max(1, this.now() - started);
              log.push(`archive ${JSON.stringify({ bytes: total, ms, MBps: Math.round((total / 1e6 / (ms / 1000)) * 10) / 10 })}`);
            }
          },
        },
      );
      return { snapshotId: s.id, logicalBytes: s.logicalBytes, newBytes: s.newBytes };
    } finally {
      for (const d of opened) await d.close().catch(() => {});
    }
  }

  /** Writes the verification into the snapshot's manifest, then reports the updated summary. */
  async recordVerification(snapshotId: string, result: VerifyResult): Promise<void> {
    const repo = await this.repo();
    const m = await recordBootVerification(repo.layout, snapshotId, result);
    this.onSnapshotChanged?.(toSummary(m));
  }

  /**
   * The repository is there (its config file, not only a cached handle: a USB disk may have gone),
   * a file can be created in its temp folder, and its file system's free space. The expected new
   * data: twice what the guest's last backup added (at least 64 MiB), or — for a first backup —
   * the data the disks hold (their allocated extents; stored compressed, so an upper bound).
   */
  async room(input: { guestId: GuestId; diskPaths: string[] }): Promise<RepositoryRoom> {
    const repo = await this.repo();
    if (!existsSync(repo.layout.config)) {
      throw new AppError('REPO_NOT_FOUND', `the repository '${repo.path}' is not there any more (disk unplugged or folder moved): connect it again or choose another one in settings`);
    }
    const probe = join(repo.layout.tmp, `preflight-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(repo.layout.tmp, { recursive: true });
      await writeFile(probe, '');
      await rm(probe, { force: true });
    } catch (e) {
      throw mapFsError(e, `writing into the repository '${repo.path}'`);
    }
    let freeBytes: number | undefined;
    try {
      const st = statfsSync(repo.path);
      freeBytes = Number(st.bavail) * Number(st.bsize);
    } catch {
      freeBytes = undefined;
    }
    const last = (await repo.listSnapshots({ guestIds: [input.guestId] })).at(-1);
    let neededBytes = 0;
    if (last) neededBytes = Math.max(64 * MiB, 2 * (last.newBytes ?? 0));
    else {
      for (const p of input.diskPaths) {
        const disk = await openDisk(p).catch(() => undefined);
        if (!disk) continue;
        try {
          for (const e of await disk.extents()) if (e.kind === 'data') neededBytes += e.length;
        } finally {
          await disk.close().catch(() => {});
        }
      }
    }
    return { path: repo.path, freeBytes, neededBytes };
  }

  /** The repository never lists an uncommitted snapshot; its temp files are swept by GC. */
  async discardPartial(_jobId: string): Promise<void> {}
}

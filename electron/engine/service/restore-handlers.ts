import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import { toSerializedError } from '../../../shared/errors/serialize.js';
import type { JobInfo, JobStep } from '../../../shared/domain/job.js';
import type { Req } from '../../../shared/ipc/schemas.js';
import { timeId } from '../core/ids.js';
import type { ExportFormat, Repository } from '../repository/repository.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';
import { getCatalog, getRepository } from './repository-access.js';

/** Throttle of restore progress events (per job). */
const PROGRESS_INTERVAL_MS = 250;

type RestoreReq = Req<'restore.start'>;

/**
 * restore.start: a whole VM into a new folder (configuration + disks, in the original or a chosen
 * format) or the disks only. Runs as a job (kind `restore`) with progress events; the result's
 * step detail says exactly where everything went.
 */
export const restoreHandlers: HandlerFactory = (ctx) => ({
  'restore.start': async (req) => {
    if (req.mode === 'replace') {
      throw new AppError(
        'NOT_IMPLEMENTED',
        'replacing the original VM in place is not available yet: restore it as a new VM, check it, then remove the original',
      );
    }
    const repo = await getRepository(ctx);
    const manifest = await repo.readManifest(req.snapshotId);
    const catalog = getCatalog(ctx);
    const now = () => new Date(ctx.clock.now()).toISOString();
    const step: JobStep = { id: 'restore', label: req.mode === 'disks' ? 'Export disks' : 'Restore VM folder', status: 'pending' };
    const job: JobInfo = { id: timeId(ctx.clock.now()), kind: 'restore', guest: manifest.guest, status: 'running', createdAt: now(), startedAt: now(), steps: [step], warnings: [], snapshotId: req.snapshotId };
    catalog.jobs.insert(job);
    catalog.jobLog.append(job.id, { at: now(), level: 'info', message: `restore of snapshot ${req.snapshotId} (${req.mode}) to '${req.to}' started` });
    void runRestore(ctx, repo, job, req).catch(() => {});
    return { jobId: job.id };
  },
});

async function runRestore(ctx: EngineContext, repo: Repository, job: JobInfo, req: RestoreReq): Promise<void> {
  const catalog = getCatalog(ctx);
  const started = ctx.clock.monotonic();
  const now = () => new Date(ctx.clock.now()).toISOString();
  let last = 0;
  const progress = (bytesDone: number, bytesTotal: number) => {
    const t = ctx.clock.monotonic();
    if (t - last < PROGRESS_INTERVAL_MS && bytesDone < bytesTotal) return;
    last = t;
    const seconds = (t - started) / 1000;
    const rate = seconds > 0 ? bytesDone / seconds : 0;
    const cur = catalog.jobs.update(job.id, { bytesDone, bytesTotal, steps: [{ ...job.steps[0]!, status: 'running', startedAt: job.startedAt }] });
    ctx.emit('jobs.progress', { jobId: job.id, step: 'restore', bytesDone, bytesTotal, bytesPerSecond: rate, etaSeconds: rate > 0 ? (bytesTotal - bytesDone) / rate : undefined, job: cur });
  };
  try {
    const format = (req.format ?? 'original') as ExportFormat | 'original';
    let detail: string;
    if (req.mode === 'disks') {
      const m = await repo.readManifest(req.snapshotId);
      await mkdir(req.to, { recursive: true });
      const total = m.disks.reduce((s, d) => s + d.size, 0);
      let doneBefore = 0;
      const written: string[] = [];
      for (const d of m.disks) {
        const src = d.sourceFormat as ExportFormat | undefined;
        const fmt: ExportFormat = format !== 'original' ? format : src && ['raw', 'vmdk', 'vhdx', 'qcow2'].includes(src) ? src : 'raw';
        const base = d.fileName.replace(/\.[^.]+$/, '');
        const out = await repo.exportDisk(req.snapshotId, d.name, {
          format: fmt,
          to: join(req.to, `${base}.${fmt === 'raw' ? 'img' : fmt}`),
          onProgress: (p) => progress(doneBefore + p.bytesDone, total),
        });
        doneBefore += d.size;
        written.push(out.path);
      }
      detail = `disks written: ${written.join(', ')}`;
    } else {
      const r = await repo.restoreSnapshot(req.snapshotId, { to: req.to, format, onProgress: (p) => progress(p.bytesDone, p.bytesTotal) });
      const config = r.files.find((f) => /\.vmx$/i.test(f));
      detail = `VM folder restored to '${r.path}' (${r.files.join(', ')}). ${
        config ? `Open '${join(r.path, config)}' in VMware Workstation (File → Open) and start it.` : 'Import the folder with Hyper-V Manager (Import Virtual Machine → Register in place) and start it.'
      }`;
    }
    const durationMs = ctx.clock.monotonic() - started;
    const done = catalog.jobs.update(job.id, { status: 'succeeded', finishedAt: now(), steps: [{ ...job.steps[0]!, status: 'done', startedAt: job.startedAt, durationMs, detail }] });
    catalog.jobLog.append(job.id, { at: now(), level: 'info', message: detail, step: 'restore' });
    ctx.emit('jobs.finished', done);
  } catch (e) {
    const err = toSerializedError(e);
    const failed = catalog.jobs.update(job.id, {
      status: err.code === 'CANCELLED' ? 'cancelled' : 'failed',
      finishedAt: now(),
      error: { code: err.code, message: err.message },
      steps: [{ ...job.steps[0]!, status: 'failed', detail: err.message }],
    });
    catalog.jobLog.append(job.id, { at: now(), level: 'error', message: `restore failed: ${err.message}`, step: 'restore' });
    ctx.logger.error('restore failed', { jobId: job.id, error: e });
    ctx.emit('jobs.finished', failed);
  }
}

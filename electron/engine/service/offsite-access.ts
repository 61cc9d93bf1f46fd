/**
 * Offsite copies for the service, the scheduler's maintenance and the CLI's local operations:
 * the destination of an `s3://` URL (endpoint from the request, the engine's `s3Endpoint` or
 * `TWINSNAP_S3_ENDPOINT`; keys from the environment), a copy of the engine's repository to it,
 * its prune, its status, and the bucket opened as a read-only repository (what `--repo s3://…`
 * means: `RepositoryAccess.repository()` opens it; see engine/offsite/README.md).
 */
import { join } from 'node:path';
import { copyToOffsite, manifestRel, type OffsiteCopyOptions, type OffsiteCopyResult } from '../offsite/offsite-copy.js';
import { pruneOffsite, type OffsitePruneResult } from '../offsite/offsite-prune.js';
import { offsiteCacheDir, openOffsiteRepository, publishedSnapshots } from '../offsite/offsite-repository.js';
import { S3Destination, s3TargetFrom } from '../offsite/s3-destination.js';
import type { Repository, RepositoryOptions } from '../repository/repository.js';
import type { JobTrigger } from '../../../shared/domain/job.js';
import type { OffsiteOverview } from '../../../shared/domain/engine.js';
import { toSerializedError } from '../../../shared/errors/serialize.js';
import type { HandlerFactory } from './handlers.js';
import { OFFSITE_ACCESS_KEY_ID, OFFSITE_SECRET_ACCESS_KEY } from '../core/secrets.js';
import type { EngineBase, RecordingDeps } from './engine-context.js';
import { runAsJob } from './job-traces.js';

/** What a destination needs from the engine: its default endpoint (`--s3-endpoint`) and the secret store (saved keys). */
type EndpointDeps = Pick<EngineBase, 's3Endpoint' | 'secrets'>;
/** What a copy or prune needs: the endpoint and keys, the clock and log, and the catalog to record the job. */
export type OffsiteDeps = RecordingDeps & EndpointDeps;

/**
 * A destination for `url`; the caller closes it. Keys: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
 * when set, else the ones `offsite schedule` saved in the secret store (the desktop app encrypts
 * it with Electron safeStorage; headless it is the owner-only secrets.json).
 */
export function offsiteDestination(deps: EndpointDeps, url: string, endpoint?: string): S3Destination {
  const id = deps.secrets.get(OFFSITE_ACCESS_KEY_ID);
  const secret = deps.secrets.get(OFFSITE_SECRET_ACCESS_KEY);
  const saved = !process.env.AWS_ACCESS_KEY_ID && id && secret ? { keys: { accessKeyId: id, secretAccessKey: secret } } : {};
  return new S3Destination(s3TargetFrom(url, { endpoint: endpoint ?? deps.s3Endpoint, ...saved }));
}

/** The bucket at `url` as a read-only repository, cached under `<dataDir>/offsite-cache/`. */
export async function openOffsiteAsRepository(deps: EndpointDeps & Pick<EngineBase, 'dataDir'>, url: string, opts: RepositoryOptions): Promise<Repository> {
  const dest = offsiteDestination(deps, url);
  try {
    const repo = await openOffsiteRepository(dest, offsiteCacheDir(join(deps.dataDir, 'offsite-cache'), dest), opts);
    const close = repo.close.bind(repo);
    repo.close = async () => {
      await close();
      dest.close();
    };
    return repo;
  } catch (e) {
    dest.close();
    throw e;
  }
}

/**
 * Copies snapshots of `repo` to `to` as an `offsite` job (listed with the backups in the Jobs
 * page, its bytes, throughput and ETA sent as `jobs.progress`).
 */
export async function runOffsiteCopy(ctx: OffsiteDeps, repo: Repository, to: string, opts: OffsiteCopyOptions & { endpoint?: string; trigger?: JobTrigger }): Promise<OffsiteCopyResult> {
  const dest = offsiteDestination(ctx, to, opts.endpoint);
  try {
    return await runAsJob(
      ctx,
      { kind: 'offsite', trigger: opts.trigger ?? 'manual', label: `Copy to ${dest.name}` },
      async (job) => {
        const r = await copyToOffsite(repo, dest, {
          clock: ctx.clock,
          ...opts,
          onProgress: (p) => {
            opts.onProgress?.(p);
            if (p.phase !== 'uploading') return;
            const eta = p.etaSeconds !== undefined ? { etaSeconds: p.etaSeconds } : {};
            ctx.emit('jobs.progress', {
              jobId: job.id,
              step: 'offsite',
              bytesDone: p.bytesDone,
              bytesTotal: p.bytesTotal,
              bytesPerSecond: p.bytesPerSecond,
              ...eta,
              job: { ...job, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal },
            });
          },
        });
        ctx.logger.info('offsite copy finished', { destination: dest.name, copied: r.copied.length, bytesSent: r.bytesSent, objectsSent: r.objectsSent });
        return r;
      },
      (r) => ({
        detail: `${r.copied.length} restore point(s) copied to ${r.destination}, ${(r.bytesSent / 1048576).toFixed(1)} MiB in ${r.objectsSent} object(s) sent${r.lockedUntil ? `, locked until ${r.lockedUntil}` : ''}`,
      }),
    );
  } finally {
    dest.close();
  }
}

/** Removes from `to` what the local repository forgot, sparing everything still locked. */
export async function runOffsitePrune(
  ctx: EndpointDeps & Pick<EngineBase, 'clock' | 'logger'>,
  repo: Repository,
  to: string,
  opts: { dryRun?: boolean; endpoint?: string } = {},
): Promise<OffsitePruneResult> {
  const dest = offsiteDestination(ctx, to, opts.endpoint);
  try {
    const r = await pruneOffsite(repo, dest, { clock: ctx.clock, dryRun: opts.dryRun });
    ctx.logger.info('offsite prune finished', { destination: dest.name, removed: r.removed, locked: r.locked.length, chunksDeleted: r.chunksDeleted, dryRun: r.dryRun });
    return r;
  } finally {
    dest.close();
  }
}

/** Where each snapshot of the local repository stands offsite. */
export type OffsiteStatus = Omit<OffsiteOverview, 'configured' | 'lastJob' | 'error'> & { destination: string; objectLock: boolean };

/** offsite.status: the scheduled destination's status (a destination that cannot be read: its error). */
export const offsiteHandlers: HandlerFactory = (ctx) => ({
  'offsite.status': async () => {
    const o = ctx.config().offsite;
    if (!o) return { configured: false, snapshots: [], lagSnapshots: 0 };
    const last = ctx.store
      .catalog()
      .jobs.list({ limit: 200 })
      .find((j) => j.kind === 'offsite' && j.finishedAt);
    const lastJob = last ? { at: last.finishedAt!, status: last.status, ...(last.steps[0]?.detail ? { detail: last.steps[0].detail } : {}) } : undefined;
    try {
      return { configured: true, ...(await offsiteStatus(ctx, await ctx.store.repository(), o.to, o.endpoint)), ...(lastJob ? { lastJob } : {}) };
    } catch (e) {
      const err = toSerializedError(e);
      return { configured: true, destination: o.to, snapshots: [], lagSnapshots: 0, ...(lastJob ? { lastJob } : {}), error: { code: err.code, message: err.message } };
    }
  },
});

/** Compares `repo` with the destination `to` (one listing; one retention read per offsite snapshot when locked). */
export async function offsiteStatus(deps: EndpointDeps, repo: Repository, to: string, endpoint?: string): Promise<OffsiteStatus> {
  const dest = offsiteDestination(deps, to, endpoint);
  try {
    await dest.check();
    const listing = await dest.list();
    const objectLock = await dest.objectLockEnabled();
    const offsite = new Set(publishedSnapshots(listing));
    const local = new Set(await repo.snapshotIds());
    const snapshots: OffsiteStatus['snapshots'] = [];
    for (const id of [...new Set([...local, ...offsite])].sort()) {
      const until = offsite.has(id) && objectLock ? await dest.retention(manifestRel(id)) : undefined;
      snapshots.push({ id, local: local.has(id), offsite: offsite.has(id), ...(until ? { protectedUntil: until.toISOString() } : {}) });
    }
    const lastCopied = [...offsite].sort().at(-1);
    return { destination: dest.name, objectLock, snapshots, lagSnapshots: [...local].filter((id) => !offsite.has(id)).length, ...(lastCopied ? { lastCopied } : {}) };
  } finally {
    dest.close();
  }
}

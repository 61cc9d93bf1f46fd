/**
 * Offsite copies for the service, the scheduler's maintenance and the CLI's local operations:
 * the destination of an `s3://` URL (endpoint from the request, the engine's `s3Endpoint` or
 * `TWINSNAP_S3_ENDPOINT`; keys from the environment), a copy of the engine's repository to it,
 * its prune, its status, and the bucket opened as a read-only repository (what `--repo s3://…`
 * means: `RepositoryAccess.repository()` opens it; see engine/offsite/README.md).
 */
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { checkSameRepository, chunkRel, copyToOffsite, manifestRel, REPO_CONFIG_OBJECT, type OffsiteCopyOptions, type OffsiteCopyResult } from '../offsite/offsite-copy.js';
import { LockDates } from '../offsite/lock-dates.js';
import { pruneOffsite, type OffsitePruneResult } from '../offsite/offsite-prune.js';
import { offsiteCacheDir, offsiteRepositoryInfo, openOffsiteRepository, publishedSnapshots } from '../offsite/offsite-repository.js';
import { isS3Url, parseS3Url, S3Destination, s3TargetFrom } from '../offsite/s3-destination.js';
import { readRepositoryInfo, type Repository, type RepositoryOptions } from '../repository/repository.js';
import type { JobTrigger } from '../../../shared/domain/job.js';
import type { OffsiteOverview, OffsiteSettings, RepositoryInfo } from '../../../shared/domain/engine.js';
import type { AppConfig } from '../core/config.js';
import { AppError } from '../../../shared/errors/app-error.js';
import { toSerializedError } from '../../../shared/errors/serialize.js';
import type { HandlerFactory } from './handlers.js';
import { OFFSITE_ACCESS_KEY_ID, OFFSITE_SECRET_ACCESS_KEY } from '../core/secrets.js';
import type { EngineBase, RecordingDeps } from './engine-context.js';
import { runAsJob } from './job-traces.js';

/** What a destination needs from the engine: its default endpoint (`--s3-endpoint`), the secret store (saved keys) and the data folder (its cache and lock dates). */
type EndpointDeps = Pick<EngineBase, 's3Endpoint' | 'secrets' | 'dataDir'>;
/** What a copy or prune needs: the endpoint and keys, the clock and log, and the catalog to record the job. */
export type OffsiteDeps = RecordingDeps & EndpointDeps;

/** Where an offsite copy is: `s3://BUCKET/PREFIX` and how to reach it (the scheduled copy's config has these fields). */
export interface OffsiteWhere {
  to: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
}

/** The scheduled offsite copy as config.json keeps it. */
export type OffsiteSchedule = NonNullable<AppConfig['offsite']>;

type Keys = { accessKeyId: string; secretAccessKey: string };

/**
 * A destination for `where` (a bare URL: the engine's endpoint); the caller closes it. Keys:
 * `keys` when given, else `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` when set, else the ones
 * `offsite schedule` or the Repository page saved in the secret store (the desktop app encrypts
 * it with Electron safeStorage; headless it is the owner-only secrets.json).
 */
export function offsiteDestination(deps: EndpointDeps, where: string | OffsiteWhere, keys?: Keys): S3Destination {
  const w = typeof where === 'string' ? { to: where } : where;
  const id = deps.secrets.get(OFFSITE_ACCESS_KEY_ID);
  const secret = deps.secrets.get(OFFSITE_SECRET_ACCESS_KEY);
  const saved = keys ? { keys } : !process.env.AWS_ACCESS_KEY_ID && id && secret ? { keys: { accessKeyId: id, secretAccessKey: secret } } : {};
  return new S3Destination(s3TargetFrom(w.to, { endpoint: w.endpoint ?? deps.s3Endpoint, region: w.region, forcePathStyle: w.pathStyle, ...saved }));
}

/** The lock dates this host knows of `dest` (`<dataDir>/offsite-cache/<hash>.lock-dates.json`; see offsite/lock-dates.ts). */
export function lockDatesOf(deps: Pick<EngineBase, 'dataDir'>, dest: S3Destination): Promise<LockDates> {
  return LockDates.load(`${offsiteCacheDir(join(deps.dataDir, 'offsite-cache'), dest)}.lock-dates.json`);
}

/** What repository is at `where`, a folder or (`s3://`) an offsite copy: plain or encrypted, its keys; no password needed. */
export async function repositoryInfoAt(deps: EndpointDeps, where: string): Promise<RepositoryInfo> {
  if (!isS3Url(where)) return readRepositoryInfo(resolve(where));
  const dest = offsiteDestination(deps, where);
  try {
    return await offsiteRepositoryInfo(dest, offsiteCacheDir(join(deps.dataDir, 'offsite-cache'), dest));
  } finally {
    dest.close();
  }
}

/** The bucket at `where` as a read-only repository, cached under `<dataDir>/offsite-cache/`. */
export async function openOffsiteAsRepository(deps: EndpointDeps, where: string | OffsiteWhere, opts: RepositoryOptions): Promise<Repository> {
  const dest = offsiteDestination(deps, where);
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
export async function runOffsiteCopy(
  ctx: OffsiteDeps,
  repo: Repository,
  where: string | OffsiteWhere,
  opts: OffsiteCopyOptions & { trigger?: JobTrigger; onStart?: (jobId: string) => void },
): Promise<OffsiteCopyResult> {
  const dest = offsiteDestination(ctx, where);
  try {
    const lockDates = await lockDatesOf(ctx, dest);
    return await runAsJob(
      ctx,
      { kind: 'offsite', trigger: opts.trigger ?? 'manual', label: `Copy to ${dest.name}` },
      async (job) => {
        opts.onStart?.(job.id);
        const r = await copyToOffsite(repo, dest, {
          clock: ctx.clock,
          lockDates,
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
  where: string | OffsiteWhere,
  opts: { dryRun?: boolean } = {},
): Promise<OffsitePruneResult> {
  const dest = offsiteDestination(ctx, where);
  try {
    const r = await pruneOffsite(repo, dest, { clock: ctx.clock, dryRun: opts.dryRun });
    ctx.logger.info('offsite prune finished', { destination: dest.name, removed: r.removed, locked: r.locked.length, chunksDeleted: r.chunksDeleted, dryRun: r.dryRun });
    return r;
  } finally {
    dest.close();
  }
}

/** Where each snapshot of the local repository stands offsite. */
export type OffsiteStatus = Omit<OffsiteOverview, 'configured' | 'lastJob' | 'error' | 'settings' | 'dailyAt'> & { destination: string; objectLock: boolean };

/** The copy options of the scheduled (or "Copy now") copy: its rate limit and Object Lock. */
export function scheduledCopyOptions(o: OffsiteSchedule): Pick<OffsiteCopyOptions, 'limitRate' | 'lock'> {
  return { limitRate: o.limitRate, ...(o.lockDays ? { lock: { days: o.lockDays, mode: o.lockMode ?? 'COMPLIANCE' } } : {}) };
}

/**
 * Saves (or, with `null`, removes) the scheduled offsite copy in config.json and its `keys` in the
 * secret store (never in config.json; `null` removes them too). `twinsnap offsite schedule` and
 * the Repository page (`offsite.configure`) both save through here. An endpoint not given is the
 * engine's (`--s3-endpoint`, `TWINSNAP_S3_ENDPOINT`).
 */
export function saveOffsiteSchedule(
  ctx: Pick<EngineBase, 'config' | 'updateConfig' | 'secrets' | 's3Endpoint'>,
  o: (Omit<OffsiteSchedule, 'endpoint'> & { endpoint?: string }) | null,
  keys?: Keys,
): OffsiteSchedule | null {
  const cfg = ctx.config();
  if (!o) {
    ctx.updateConfig({ ...cfg, offsite: undefined });
    ctx.secrets.set(OFFSITE_ACCESS_KEY_ID, undefined);
    ctx.secrets.set(OFFSITE_SECRET_ACCESS_KEY, undefined);
    return null;
  }
  parseS3Url(o.to);
  const endpoint = o.endpoint ?? ctx.s3Endpoint ?? (process.env.TWINSNAP_S3_ENDPOINT || undefined);
  const offsite: OffsiteSchedule = {
    to: o.to,
    ...(endpoint ? { endpoint } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.pathStyle !== undefined ? { pathStyle: o.pathStyle } : {}),
    ...(o.lockDays ? { lockDays: o.lockDays, lockMode: o.lockMode ?? 'COMPLIANCE' } : {}),
    ...(o.limitRate ? { limitRate: o.limitRate } : {}),
  };
  ctx.updateConfig({ ...cfg, offsite });
  if (keys) {
    ctx.secrets.set(OFFSITE_ACCESS_KEY_ID, keys.accessKeyId);
    ctx.secrets.set(OFFSITE_SECRET_ACCESS_KEY, keys.secretAccessKey);
  }
  return offsite;
}

/** Keys of a request: both, neither (undefined: use the stored ones), never one alone. */
function requestKeys(d: { accessKeyId?: string; secretAccessKey?: string }): Keys | undefined {
  if (!d.accessKeyId && !d.secretAccessKey) return undefined;
  if (!d.accessKeyId || !d.secretAccessKey) throw new AppError('INVALID_REQUEST', 'enter both the access key id and the secret key (or neither, to keep the stored ones)');
  return { accessKeyId: d.accessKeyId, secretAccessKey: d.secretAccessKey };
}

/** The scheduled copy, or NOT_FOUND saying how to set one up. */
function configured(ctx: Pick<EngineBase, 'config'>): OffsiteSchedule {
  const o = ctx.config().offsite;
  if (!o) throw new AppError('NOT_FOUND', 'no offsite copy is set up: enter its destination on the Repository page (Offsite) first');
  return o;
}

/**
 * The bucket of `dest` answers with its keys (HeadBucket: OFFSITE_AUTH_FAILED /
 * OFFSITE_BUCKET_NOT_FOUND / OFFSITE_UNREACHABLE, each naming it), has Object Lock when `lock`
 * (else OFFSITE_NO_OBJECT_LOCK), and its prefix holds no other repository than `repo`.
 */
export async function testDestination(dest: S3Destination, lock: boolean, repo: Repository | undefined): Promise<{ destination: string; objectLock: boolean; snapshotsOffsite: number }> {
  await dest.check();
  const objectLock = await dest.objectLockEnabled();
  if (lock && !objectLock) {
    throw new AppError('OFFSITE_NO_OBJECT_LOCK', `${dest.name}: the bucket has no Object Lock, so the copies could be deleted; create a bucket with Object Lock enabled or turn Object Lock off here`, {
      details: { destination: dest.name },
    });
  }
  const listing = await dest.list('snapshots/');
  if (repo) await checkSameRepository(repo, dest, await dest.list(REPO_CONFIG_OBJECT));
  return { destination: dest.name, objectLock, snapshotsOffsite: publishedSnapshots(listing).length };
}

/** offsite.*: the scheduled destination's status (a destination that cannot be read: its error), its setup from the app, Copy now, the download a restore from it costs. */
export const offsiteHandlers: HandlerFactory = (ctx) => {
  let copying: string | undefined;
  const status = async (): Promise<OffsiteOverview> => {
    const dailyAt = ctx.tuning.maintenanceAt ?? ctx.config().scheduler.maintenanceAt;
    const o = ctx.config().offsite;
    if (!o) return { configured: false, snapshots: [], lagSnapshots: 0, dailyAt };
    const settings: OffsiteSettings = {
      to: o.to,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.region ? { region: o.region } : {}),
      ...(o.pathStyle !== undefined ? { pathStyle: o.pathStyle } : {}),
      ...(o.lockDays ? { lockDays: o.lockDays, lockMode: o.lockMode ?? 'COMPLIANCE' } : {}),
      ...(o.limitRate ? { limitRate: o.limitRate } : {}),
      keysStored: ctx.secrets.get(OFFSITE_ACCESS_KEY_ID) !== undefined && ctx.secrets.get(OFFSITE_SECRET_ACCESS_KEY) !== undefined,
    };
    const last = ctx.store
      .catalog()
      .jobs.list({ limit: 200 })
      .find((j) => j.kind === 'offsite' && j.finishedAt);
    const lastJob = last ? { at: last.finishedAt!, status: last.status, ...(last.steps[0]?.detail ? { detail: last.steps[0].detail } : {}) } : undefined;
    const base = { configured: true, settings, dailyAt, ...(lastJob ? { lastJob } : {}) };
    try {
      // the local repository may be out of reach (a disk gone, locked): the bucket's side is still shown
      const local = await ctx.store.repository().then(
        (repo) => ({ repo, error: undefined }),
        (e: unknown) => ({ repo: undefined, error: toSerializedError(e) }),
      );
      const s = await offsiteStatus(ctx, local.repo, o);
      if (!local.error) return { ...base, ...s };
      return { ...base, ...s, error: { code: local.error.code, message: `the local repository could not be read, so the lag is unknown: ${local.error.message}` } };
    } catch (e) {
      const err = toSerializedError(e);
      return { ...base, destination: o.to, snapshots: [], lagSnapshots: 0, error: { code: err.code, message: err.message } };
    }
  };
  return {
    'offsite.status': status,
    'offsite.configure': async ({ destination: d, dailyAt, limitRate }) => {
      const keys = requestKeys(d);
      const { accessKeyId: _id, secretAccessKey: _secret, ...where } = d;
      saveOffsiteSchedule(ctx, { ...where, ...(limitRate ? { limitRate } : {}) }, keys);
      if (dailyAt && dailyAt !== ctx.config().scheduler.maintenanceAt) {
        const cfg = ctx.config();
        ctx.updateConfig({ ...cfg, scheduler: { ...cfg.scheduler, maintenanceAt: dailyAt } });
        ctx.scheduler.scheduler.poke();
      }
      ctx.store.dropOffsite();
      ctx.logger.info('offsite copy set up from the app', { to: where.to, endpoint: where.endpoint, objectLock: Boolean(where.lockDays), keysGiven: Boolean(keys) });
      return status();
    },
    'offsite.test': async ({ destination: d }) => {
      const saved = ctx.config().offsite;
      const where = d ?? (saved ? { ...saved } : undefined);
      if (!where) throw new AppError('INVALID_REQUEST', 'enter a destination to test');
      const dest = offsiteDestination(ctx, where, d ? requestKeys(d) : undefined);
      try {
        const repo = await ctx.store.repository().catch(() => undefined);
        return await testDestination(dest, Boolean(where.lockDays), repo);
      } finally {
        dest.close();
      }
    },
    'offsite.copyNow': async () => {
      const o = configured(ctx);
      if (copying) throw new AppError('JOB_ALREADY_RUNNING', `an offsite copy is already running (job ${copying})`, { details: { jobId: copying } });
      const repo = await ctx.store.repository();
      return new Promise<{ jobId: string }>((resolve, reject) => {
        runOffsiteCopy(ctx, repo, o, {
          ...scheduledCopyOptions(o),
          trigger: 'manual',
          onStart: (jobId) => {
            copying = jobId;
            resolve({ jobId });
          },
        })
          .catch(reject) // before the job started; after, the job records the failure
          .finally(() => {
            copying = undefined;
            ctx.store.dropOffsite();
          });
      });
    },
    'offsite.remove': async () => {
      saveOffsiteSchedule(ctx, null);
      ctx.store.dropOffsite();
      ctx.logger.info('offsite copy removed from the app (the bucket is left as it is)');
      return status();
    },
    'offsite.estimate': async ({ snapshotId }) => {
      const o = configured(ctx);
      const repo = await ctx.store.repositoryFor('offsite');
      const dest = offsiteDestination(ctx, o);
      try {
        const sizes = await dest.list('chunks/');
        let bytes = 0;
        let objects = 0;
        let cachedBytes = 0;
        for (const dg of await repo.referencedDigests(snapshotId)) {
          const rel = chunkRel(dg);
          const size = sizes.get(rel) ?? 0;
          if (existsSync(join(repo.path, rel))) cachedBytes += size;
          else {
            bytes += size;
            objects++;
          }
        }
        return { snapshotId, bytes, objects, cachedBytes };
      } finally {
        dest.close();
      }
    },
  };
};

/**
 * Compares `repo` (none: the local repository is out of reach) with the destination: one listing
 * of its `snapshots/`; protected-until from the lock dates this host recorded, one retention read
 * per offsite snapshot it has no date for (then recorded).
 */
export async function offsiteStatus(deps: EndpointDeps, repo: Repository | undefined, where: string | OffsiteWhere): Promise<OffsiteStatus> {
  const dest = offsiteDestination(deps, where);
  try {
    await dest.check();
    const listing = await dest.list('snapshots/');
    const objectLock = await dest.objectLockEnabled();
    const dates = objectLock ? await lockDatesOf(deps, dest) : undefined;
    const offsite = new Set(publishedSnapshots(listing));
    const local = new Set(repo ? await repo.snapshotIds() : []);
    const snapshots: OffsiteStatus['snapshots'] = [];
    for (const id of [...new Set([...local, ...offsite])].sort()) {
      let until: number | undefined;
      if (offsite.has(id) && dates) {
        until = dates.get(manifestRel(id)) ?? (await dest.retention(manifestRel(id)))?.getTime();
        if (until !== undefined) dates.raise(manifestRel(id), until);
      }
      snapshots.push({ id, local: local.has(id), offsite: offsite.has(id), ...(until !== undefined ? { protectedUntil: new Date(until).toISOString() } : {}) });
    }
    await dates?.save().catch(() => {});
    const lastCopied = [...offsite].sort().at(-1);
    return { destination: dest.name, objectLock, snapshots, lagSnapshots: [...local].filter((id) => !offsite.has(id)).length, ...(lastCopied ? { lastCopied } : {}) };
  } finally {
    dest.close();
  }
}

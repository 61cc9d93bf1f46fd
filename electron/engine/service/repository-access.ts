/**
 * Accessors for the engine's single catalog and repository instances, shared by every handler
 * slice (repository, workflow, scheduler, files). Each opens on first use and closes with the
 * engine.
 */
import { join, resolve } from 'node:path';
import { isAppError } from '../../../shared/errors/app-error.js';
import { catalogPath, openCatalog, type Catalog } from '../catalog/catalog.js';
import { initRepository, openRepository, syncCatalog, type Repository } from '../repository/repository.js';
import type { CatalogRecovery } from '../../../shared/domain/engine.js';
import type { EngineContext } from './engine-context.js';
import { getNotifier } from './schedule-handlers.js';
import { isS3Url } from '../offsite/s3-destination.js';
import { openOffsiteAsRepository } from './offsite-access.js';

/** The engine's catalog (`<dataDir>/catalog.sqlite`), opened once. */
export function getCatalog(ctx: EngineContext): Catalog {
  return ctx.lazy('catalog', () => {
    const cat = openCatalog(catalogPath(ctx.dataDir), { now: () => ctx.clock.now() });
    ctx.onClose(() => cat.close());
    if (cat.recovered) announceCatalogRecovery(ctx, cat.recovered);
    return cat;
  });
}

/** A rebuilt catalog is said loudly: in the log, by notification and in `engine.status`. */
function announceCatalogRecovery(ctx: EngineContext, r: CatalogRecovery): void {
  const what = r.reason === 'corrupt' ? `catalog was damaged and moved aside to '${r.movedTo}'; a new one was created` : 'catalog was missing; a new one was created';
  const kept = r.restored ? `schedules, retention policies and settings restored from policies.json (${r.restored.schedules}/${r.restored.retention}/${r.restored.settings})` : 'schedules, retention policies and settings were LOST (no usable policies.json)';
  ctx.logger.log(r.restored ? 'warn' : 'error', `${what}; snapshots are re-read from the repository; ${kept}`, { catalogRecovered: r });
  recoveryHolder(ctx).value = r;
  void getNotifier(ctx)
    .catalogRecovered(r)
    .catch(() => {});
}

const recoveryHolder = (ctx: EngineContext) => ctx.lazy<{ value?: CatalogRecovery }>('catalogRecovered', () => ({}));

/** The catalog recovery of this engine's run, if there was one (opens the catalog to know). */
export function catalogRecovery(ctx: EngineContext): CatalogRecovery | undefined {
  getCatalog(ctx);
  return recoveryHolder(ctx).value;
}

/**
 * The repository at `ctx.config().repository`, opened once per path. The default repository
 * (`<dataDir>/repository`) is created on first use; any other path must hold a repository
 * (REPO_NOT_FOUND otherwise — a typo must not silently create an empty one).
 */
export function getRepository(ctx: EngineContext): Promise<Repository> {
  const where = ctx.config().repository;
  // an offsite copy (disaster recovery): read-only, through a cache in the data folder
  if (isS3Url(where)) return ctx.lazy(`repository:${where}`, () => {
    const p = openOffsiteAsRepository(ctx, where, { clock: ctx.clock, logger: ctx.logger });
    ctx.onClose(async () => (await p.catch(() => undefined))?.close());
    return p;
  });
  const path = resolve(where);
  return ctx.lazy(`repository:${path}`, () => {
    const p = (async () => {
      const grace = Number(ctx.options.gcGraceMs ?? process.env.TWINSNAP_GC_GRACE_MS ?? NaN);
      const opts = { clock: ctx.clock, logger: ctx.logger, ...(Number.isFinite(grace) ? { gcGraceMs: grace } : {}) };
      try {
        return await openRepository(path, opts);
      } catch (e) {
        if (isAppError(e, 'REPO_NOT_FOUND') && path === resolve(join(ctx.dataDir, 'repository'))) return initRepository(path, opts);
        throw e;
      }
    })();
    ctx.onClose(async () => (await p.catch(() => undefined))?.close());
    return p;
  });
}

/** The repository with the catalog's snapshot cache brought up to date (after backups/forgets). */
export async function getSyncedRepository(ctx: EngineContext): Promise<{ repo: Repository; catalog: Catalog }> {
  const repo = await getRepository(ctx);
  const catalog = getCatalog(ctx);
  await syncCatalog(repo, catalog);
  return { repo, catalog };
}
